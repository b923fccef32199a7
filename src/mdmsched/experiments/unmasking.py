"""Adaptive unmasking rules against the exact truth: KL(mu || nu_rule) versus the number of oracle
calls (NFE), beside the random-order optimum of CCL Eq. 1 at the same number of steps (nats).

One table, ``unmasking_rules``, with a ``section`` column:

* ``identity``: the exact laws of :func:`mdmsched.unmasking_law` at unit steps (TV to mu), at one
  step (KL against TC) and for the random rule against the mixture of CCL Thm 16 (max abs
  difference of the tables);
* ``exact``: every rule and setting on every family at ``n_exact``: exact KL and TV, mean NFE;
* ``mc_check``: the Monte Carlo estimates at ``n_exact`` beside their exact values (for the random
  rule: beside CCL Thm 4's expected KL, which the replay estimates);
* ``mc``: every rule at ``n_mc``: replay Monte Carlo (unbiased) for choose-then-sample and
  reference rules, sequential importance sampling with exact step marginals (consistent) for
  sample-then-choose rules (:func:`mdmsched.unmasking.kl_estimate`).

In the ``exact`` section the scheduled rules run with uniform step sizes (setting ``k=K``) and with
the DP-optimal sizes of the same k (``k=K dp-sizes``), which separates the effect of the order from
that of the schedule. ``dp_optimum`` is the minimum of CCL Thm 4 over k-step schedules (:func:`optimal_schedule` on the
exact curve) at k = NFE; for a non-integer mean NFE it is interpolated linearly between the two
neighbouring integers (a randomized choice between the two optimal schedules achieves that value).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import distributions, error, information, schedules, unmasking
from ..finite_field import next_prime_above
from . import experiment

__all__ = ["unmasking_rules", "family_specs", "build_family"]

SCHEDULED = ("max_prob", "margin", "entropy", "confidence", "random", "left_to_right")
EXCH_THETAS = (0.1, 0.35, 0.65, 0.9)


def family_specs(n: int, exact: bool):
    """(label, builder name, params) of the families at length n."""
    specs = [
        ("Markov stay=0.6", "markov", {"stay": 0.6}),
        ("Markov stay=0.9", "markov", {"stay": 0.9}),
        ("Markov stay=0.99", "markov", {"stay": 0.99}),
        ("exch. mixture of 4 products", "exchangeable_mixture", {"weights": [0.25] * 4, "thetas": list(EXCH_THETAS)}),
        ("parity", "parity", {"q": 2}),
        ("Reed-Solomon k=n/4", "reed_solomon", {"k": max(1, n // 4), "q": next_prime_above(n)}),
        ("Beta-Bernoulli(1,1)", "beta_bernoulli", {}),
    ]
    if exact:
        specs.insert(3, ("mixture of 4 products", "mixture", {"components": 4, "seed": 0}))
    return specs


def build_family(name: str, n: int, params: dict):
    """(family, exact information curve Z_1..Z_n)."""
    family = distributions.make_family(name, n=n, **params)
    return family, distributions.curve(name, n, **params)


def _dp(z, nfe: float) -> float:
    """CCL Eq. 1 optimum at k = nfe, linear between integers."""
    n = len(z)
    nfe = min(max(float(nfe), 1.0), float(n))
    low, high = math.floor(nfe), math.ceil(nfe)
    at_low = schedules.optimal_schedule(z, low)[1]
    if high == low:
        return at_low
    at_high = schedules.optimal_schedule(z, high)[1]
    return at_low + (nfe - low) * (at_high - at_low)


def _settings(n: int, ks, gammas, taus):
    """(rule, setting label, k, sizes, params) for every rule (:func:`mdmsched.unmasking.rule_settings`)."""
    return unmasking.rule_settings(n, SCHEDULED + ("entropy_bound", "threshold"), ks, gammas, taus)


def _row(section, label, family, rule, setting, k, **values):
    record = unmasking.RULES[rule]
    return {"section": section, "family": label, "n": family.n, "q": family.q, "rule": rule, "kind": record.kind,
            "setting": setting, "k": k, **values}


def _support_kl(family, rule, sizes, params):
    """Exact KL(mu || nu) of a choose-then-sample rule by replay over the support of an affine code."""
    u = np.indices((family.q,) * family.dim).reshape(family.dim, -1).T
    x = (u @ family.generator + family.shift) % family.q
    log_nu, steps = unmasking.replay_log_likelihood(family, x, rule, sizes, **params)
    log_mu = family.log_prob(x)
    return float(np.mean(log_mu - log_nu)), float(np.mean(steps))


def _exact_section(seed, n, ks, gammas, taus, rows):
    for label, name, params in family_specs(n, exact=True):
        family, z = build_family(name, n, params)
        tc = information.tc_from_curve(z)
        enumerable = family.q**n <= 1 << 16
        p = family.pmf() if enumerable else None
        # identities
        if p is not None:
            for rule, record in unmasking.RULES.items():
                unit = {"entropy_bound": {"gamma": 0.0}, "threshold": {"tau": 1.0}}.get(rule, {})
                law, nfe = unmasking.unmasking_law(p, rule, **unit)
                rows.append(_row("identity", label, family, rule, "unit steps", n, nfe=nfe, kl=unmasking.kl_divergence(p, law),
                                 tv=unmasking.total_variation(law, p), reference=0.0, reference_name="TV to mu"))
                one = {"entropy_bound": {"gamma": 1e9}, "threshold": {"tau": 1e-12}}.get(rule, {})
                sizes = [n] if record.scheduled else None
                law, nfe = unmasking.unmasking_law(p, rule, sizes, **one)
                rows.append(_row("identity", label, family, rule, "one step", 1, nfe=nfe, kl=unmasking.kl_divergence(p, law),
                                 tv=unmasking.total_variation(law, p), reference=tc, reference_name="TC"))
            marginals = error.LogMarginals(p)
            for k in ks:
                if k in (1, n):
                    continue
                sizes = schedules.uniform(n, k)
                law, nfe = unmasking.unmasking_law(p, "random", sizes)
                mixture = np.mean([error.fixed_set_law(p, sets, marginals) for sets in error.ordered_partitions(n, sizes)], axis=0)
                rows.append(_row("identity", label, family, "random", f"k={k}", k, nfe=nfe, kl=unmasking.kl_divergence(p, law),
                                 tv=unmasking.total_variation(law, mixture), reference=float(np.abs(law - mixture).max()),
                                 reference_name="max |law - Thm 16 mixture|"))
        # every rule and setting; scheduled rules also with the DP-optimal sizes of the same k
        dp_settings = [(rule, f"k={k} dp-sizes", k, schedules.optimal_schedule(z, k)[0], {})
                       for rule in SCHEDULED for k in ks if 1 < k < n]
        for rule, setting, k, sizes, params_ in _settings(n, ks, gammas, taus) + dp_settings:
            if p is not None:
                law, nfe = unmasking.unmasking_law(p, rule, sizes, **params_)
                kl, tv = unmasking.kl_divergence(p, law), unmasking.total_variation(law, p)
            elif unmasking.RULES[rule].kind != unmasking.SAMPLE and rule != "random":
                kl, nfe = _support_kl(family, rule, sizes, params_)
                tv = math.nan
            else:
                continue
            reference = error.expected_kl(z, sizes) if rule == "random" else math.nan
            rows.append(_row("exact", label, family, rule, setting, k, nfe=nfe, kl=kl, kl_se=0.0, tv=tv, dp_optimum=_dp(z, nfe),
                             reference=reference, reference_name="Thm 4 expected KL" if rule == "random" else "",
                             estimator="exact law" if p is not None else "exact replay over the code"))


def _mc_section(section, seed, n, ks, gammas, taus, samples, rows, exact_rows=None, code_samples=None, sis_samples=256, paths=4):
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), n, 11]))
    exact = {}
    if exact_rows is not None:
        exact = {(r["family"], r["rule"], r["setting"]): r["kl"] for r in exact_rows if r["section"] == "exact"}
    for label, name, params in family_specs(n, exact=exact_rows is not None):
        family, z = build_family(name, n, params)
        m = samples if code_samples is None or name != "reed_solomon" else code_samples
        for rule, setting, k, sizes, params_ in _settings(n, ks, gammas, taus):
            sis = unmasking.RULES[rule].kind == unmasking.SAMPLE
            count = min(m, sis_samples) if sis else m
            estimate = unmasking.kl_estimate(family, rule, count, rng, sizes, paths=paths, **params_)
            if rule == "random":
                reference, reference_name = error.expected_kl(z, sizes), "Thm 4 expected KL"
            else:
                reference, reference_name = exact.get((label, rule, setting), math.nan), "exact KL" if exact else ""
            rows.append(_row(section, label, family, rule, setting, k, nfe=estimate["steps"], kl=estimate["kl"],
                             kl_se=estimate["kl_se"], dp_optimum=_dp(z, estimate["steps"]), reference=reference,
                             reference_name=reference_name, estimator=f"{estimate['estimator']}, {count} samples"))


@experiment("unmasking_rules")
def unmasking_rules(seed: int = 0, n_exact: int = 8, n_mc: int = 64, samples: int = 2000, check_samples: int = 2000,
                    code_samples: int = 200, ks_exact=(1, 2, 4, 8), ks_mc=(4, 8, 16, 32),
                    gammas=(0.01, 0.1, 0.5, 1.0, 2.0), taus=(0.5, 0.7, 0.9, 0.99), sis_samples: int = 256, paths: int = 4):
    """KL(mu || nu) of every unmasking rule vs NFE, exact at ``n_exact`` and by replay Monte Carlo at
    ``n_mc`` (``samples`` draws of mu; ``code_samples`` for the Reed-Solomon code, whose oracle row-
    reduces), beside the random-order DP optimum at equal NFE; sample-then-choose rules by sequential
    importance sampling (``sis_samples`` draws, ``paths`` trajectories each; consistent, biased upward
    at finite ``paths``); see the module docstring."""
    rows: list[dict] = []
    _exact_section(seed, n_exact, list(ks_exact), list(gammas), list(taus), rows)
    _mc_section("mc_check", seed, n_exact, list(ks_exact), list(gammas), list(taus), check_samples, rows, exact_rows=rows,
                code_samples=code_samples, sis_samples=sis_samples, paths=paths)
    _mc_section("mc", seed, n_mc, list(ks_mc), list(gammas), list(taus), samples, rows, code_samples=code_samples,
                sis_samples=sis_samples, paths=paths)
    columns = ["section", "family", "n", "q", "rule", "kind", "setting", "k", "nfe", "kl", "kl_se", "tv", "dp_optimum",
               "reference", "reference_name", "estimator"]
    return pd.DataFrame(rows).reindex(columns=columns)
