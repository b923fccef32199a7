"""Adaptive unmasking rules driven by any oracle (a trained denoiser), measured as tidy tables.

Both papers analyse random-order unmasking with a fixed schedule; the samplers run in practice
choose positions from the oracle's outputs (:mod:`mdmsched.unmasking`). Here a rule is driven by
any conditional-marginal oracle, typically a :class:`mdmsched.mdm.oracle.ModelOracle`, and scored
with the estimators of :func:`mdmsched.unmasking.rule_log_likelihood`: the replay log-likelihood
(exact per sequence, so an unbiased KL) for choose-then-sample and reference rules, sequential
importance sampling with exact step marginals (consistent; the KL is biased upward at finite
``paths``) for sample-then-choose rules.

* :func:`kl_table` (a known law mu, e.g. a synthetic family): KL(mu || nu_rule) by Monte Carlo over
  x ~ mu, for every setting (a rule and its number of steps), with the model and, on the same x,
  with mu's own exact conditionals (the rule's own error, no learning error). For model rows
  ``learning`` is the paired difference, model minus exact oracle: what learning changes in the
  rule's error. For the random rule at unit steps it is the learning error of CCL Lemma 35; for an
  adaptive rule the two oracles also choose different positions, so it can be negative (a model's
  errors can steer a rule away from a choice that the exact conditionals make badly). ``kl_theory`` is the exact value where a closed form exists, CCL Thm 4 on the
  true information curve: for the random rule at any schedule (the replay of one random partition
  per x estimates Thm 4's expected KL), for every rule at one step (k = 1: the product of the
  marginals, KL = TC, CCL Def 7) and for the choose-then-sample and reference rules at unit steps
  (k = n: the chain rule, KL = 0); with the exact oracle the estimate must match it.
* :func:`likelihood_table` (held-out sequences, law unknown, e.g. text): the negative
  log-likelihood of each sequence under each rule's sampler, per token in nats and bits, beside the
  one-token-at-a-time value in a random order and the paired difference (the rule's gap).

Scheduled rules run with constant sizes (:func:`mdmsched.schedules.uniform`) at each k; the
EB-sampler (``entropy_bound``) and Fast-dLLM (``threshold``) rules choose their own number of steps,
and their NFE is the mean number of oracle calls along the trajectories that produce the x
(replayed or importance-sampled), not under nu. All log-likelihoods and KL are in nats per
sequence unless a column says per char or bits.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd

from . import unmasking
from .error import _mean_se, expected_kl
from .schedules import format_sizes

__all__ = ["COLUMNS", "DEFAULT_RULES", "default_nfe", "configured_settings", "check_count", "kl_table", "likelihood_table"]

DEFAULT_RULES = ("max_prob", "entropy", "entropy_bound", "confidence", "threshold", "random", "left_to_right")
COLUMNS = [
    "oracle", "rule", "rule_kind", "setting", "k", "sizes", "nfe", "sequences", "estimator",
    # a known law (nats per sequence)
    "kl", "kl_se", "learning", "learning_se", "kl_theory", "theory",
    # held-out sequences (per token: "char" for the text corpora)
    "nll_nats_per_char", "nll_nats_per_char_se", "nll_bits_per_char", "nll_bits_per_char_se",
    "gap_bits_per_char", "gap_bits_per_char_se", "one_at_a_time_bits_per_char",
]


def default_nfe(n: int) -> list[int]:
    """The step counts measured by default: n/8, n/4 and n/2 (at least 1, without repeats)."""
    return sorted({max(1, n // 8), max(1, n // 4), max(1, n // 2)})


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def configured_settings(n: int, rules, nfe=None, gammas=(1.0,), taus=(0.9,), prefix: str = "") -> list[tuple]:
    """The settings (:func:`mdmsched.unmasking.rule_settings`) of a configured evaluation: every
    scheduled rule of ``rules`` at each k of ``nfe`` (None: :func:`default_nfe`), ``entropy_bound``
    at each gamma (nats), ``threshold`` at each tau. ValueError naming the parameter as
    ``{prefix}rules``, ``{prefix}rules_nfe``, ``{prefix}rules_gammas`` or ``{prefix}rules_taus``."""
    rules = list(rules)
    unknown = [rule for rule in rules if rule not in unmasking.RULES]
    if unknown or len(set(rules)) != len(rules):
        raise ValueError(f"{prefix}rules must name distinct rules among {sorted(unmasking.RULES)}, got {rules}")
    nfe = default_nfe(n) if nfe is None else list(nfe)
    bad = [k for k in nfe if not _is_int(k) or not 1 <= k <= n]
    if bad or not nfe:
        raise ValueError(f"{prefix}rules_nfe must list step counts in 1..n={n}, got {nfe}")
    for key, values, name in (("rules_gammas", gammas, "entropy_bound"), ("rules_taus", taus, "threshold")):
        values = list(values)
        if name in rules and not values:
            raise ValueError(f"{prefix}{key} must list at least one value when {prefix}rules has {name!r}")
        for value in values:
            try:
                unmasking.rule_settings(n, [name], (), [value], [value])
            except ValueError as problem:
                raise ValueError(f"{prefix}{key}: {problem}") from None
    return unmasking.rule_settings(n, rules, sorted(set(nfe)), list(gammas), list(taus))


def check_count(name: str, value, minimum: int) -> int:
    """``value`` as an int; ValueError naming ``name`` unless it is an integer >= ``minimum``."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _seed(seed) -> list[int]:
    return [int(seed)] if np.ndim(seed) == 0 else [int(part) for part in seed]


def _log_likelihoods(oracle, x, setting, seed, paths: int, batch: int):
    """log nu(x) (m,), oracle calls (m,) and the estimator of one setting, ``batch`` rows at a time;
    the random numbers depend on the seed, the setting and the batch only (not on the oracle), so
    two oracles scored with the same seed share them (the random rule: the same partitions)."""
    rule, label, _, sizes, params = setting
    key = zlib.crc32(f"{rule}:{label}".encode())
    log_nu, steps = [], []
    for index, start in enumerate(range(0, len(x), batch)):
        rng = np.random.default_rng([*_seed(seed), key, index])
        values, used, estimator = unmasking.rule_log_likelihood(oracle, x[start:start + batch], rule, rng, sizes,
                                                                paths=paths, **params)
        log_nu.append(values)
        steps.append(used)
    return np.concatenate(log_nu), np.concatenate(steps), estimator


def _row(oracle_label, setting, steps, estimator, count) -> dict:
    rule, label, k, sizes, _ = setting
    return {"oracle": oracle_label, "rule": rule, "rule_kind": unmasking.RULES[rule].kind, "setting": label,
            "k": float(k), "sizes": "" if sizes is None else format_sizes(sizes), "nfe": float(np.mean(steps)),
            "sequences": int(count), "estimator": estimator}


def _theory(setting, n: int, curve) -> tuple[float, str]:
    """(exact KL of the rule with the exact oracle, the result giving it), or (NaN, "")."""
    rule, _, k, sizes, _ = setting
    if curve is None or sizes is None:
        return math.nan, ""
    if rule == "random":
        return expected_kl(curve, sizes), "CCL Thm 4 (random order)"
    if k == 1:
        return expected_kl(curve, sizes), "TC: one step samples the product of the marginals (CCL Def 7, Thm 4 at k = 1)"
    if k == n and unmasking.RULES[rule].kind != unmasking.SAMPLE:
        return 0.0, "0: one token per step, chain rule (CCL Thm 4 at k = n)"
    return math.nan, ""


def kl_table(family, oracle, settings, samples: int, seed, paths: int = 2, exact_settings=None, curve=None,
             batch: int = 256) -> pd.DataFrame:
    """KL(mu || nu_rule) of each setting driven by ``oracle``, by Monte Carlo over ``samples`` draws
    x ~ mu (``family``: ``sample``, ``log_prob`` and exact ``conditional_marginals``); module doc.

    ``settings``: tuples of :func:`mdmsched.unmasking.rule_settings` (or :func:`configured_settings`)
    run with ``oracle``; ``exact_settings`` (default the same) run with the family's own exact
    conditionals on the same x; ``curve``: the true information curve Z_1..Z_n (float64 (n,)) for
    ``kl_theory`` (None: NaN). ``seed``: int or sequence of ints; ``paths``: importance trajectories
    per sequence (sample-then-choose rules). Returns one row per (oracle, setting) with
    :data:`COLUMNS` (``oracle`` "model" or "exact"; kl, kl_se, learning, learning_se in nats per
    sequence). ValueError for ``samples`` < 2, ``paths`` < 1 or ``batch`` < 1, and what the rules
    raise."""
    samples = check_count("samples", samples, 2)
    paths = check_count("paths", paths, 1)
    batch = check_count("batch", batch, 1)
    settings = list(settings)
    exact_settings = settings if exact_settings is None else list(exact_settings)
    x = family.sample(samples, np.random.default_rng([*_seed(seed), 0]))
    log_mu = family.log_prob(x)
    rows, exact = [], {}
    for label, source, chosen in (("exact", family, exact_settings), ("model", oracle, settings)):
        for setting in chosen:
            log_nu, steps, estimator = _log_likelihoods(source, x, setting, seed, paths, batch)
            theory, name = _theory(setting, family.n, curve)
            row = {**_row(label, setting, steps, estimator, len(x)), **_mean_se("kl", log_mu - log_nu),
                   "kl_theory": theory, "theory": name}
            key = setting[:2]
            if label == "exact":
                exact[key] = log_nu
            elif key in exact:
                row.update(_mean_se("learning", exact[key] - log_nu))
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def likelihood_table(oracle, x, settings, seed, paths: int = 2, one_at_a_time=None, batch: int = 256) -> pd.DataFrame:
    """Held-out negative log-likelihood of the sequences ``x`` (int (m, n), m >= 2) under each
    setting's sampler driven by ``oracle``; module doc.

    ``one_at_a_time``: float64 (m,), log p(x) revealed one token at a time in a random order (e.g.
    :func:`mdmsched.estimation.one_at_a_time_log_likelihood`); None: computed here as the random
    rule at unit steps, which is the same quantity. Returns one row per setting (``oracle``
    "model") with :data:`COLUMNS`: nll_nats_per_char, nll_bits_per_char (with standard errors over
    sequences), one_at_a_time_bits_per_char and gap_bits_per_char = the rule's NLL minus the
    one-token-at-a-time NLL of the same sequences (paired standard error). ValueError for fewer than
    two sequences, a ``one_at_a_time`` of the wrong shape, ``paths`` or ``batch`` < 1."""
    x = np.asarray(x, dtype=np.int64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be an integer array (m, n) with m >= 2 sequences, got shape {x.shape}")
    paths = check_count("paths", paths, 1)
    batch = check_count("batch", batch, 1)
    m, n = x.shape
    if one_at_a_time is None:
        ones = ("random", "k=n", n, np.ones(n, dtype=np.int64), {})
        one_at_a_time = _log_likelihoods(oracle, x, ones, [*_seed(seed), 1], 1, batch)[0]
    one_at_a_time = np.asarray(one_at_a_time, dtype=np.float64)
    if one_at_a_time.shape != (m,):
        raise ValueError(f"one_at_a_time must hold one log-likelihood per sequence, shape ({m},), got {one_at_a_time.shape}")
    per_char, to_bits = 1.0 / n, 1.0 / (n * math.log(2))
    reference = float(-one_at_a_time.mean() * to_bits)
    rows = []
    for setting in settings:
        log_nu, steps, estimator = _log_likelihoods(oracle, x, setting, seed, paths, batch)
        nats = _mean_se("nll_nats_per_char", -log_nu * per_char)
        bits = _mean_se("nll_bits_per_char", -log_nu * to_bits)
        gap = _mean_se("gap_bits_per_char", (one_at_a_time - log_nu) * to_bits)
        rows.append({**_row("model", setting, steps, estimator, m), **nats, **bits, **gap,
                     "one_at_a_time_bits_per_char": reference})
    return pd.DataFrame(rows).reindex(columns=COLUMNS)
