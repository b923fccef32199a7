"""Experiments for Chen, Cong, Li (COLT 2026): one tidy table per claim (nats throughout).

Families are given as *specs*, dicts ``{"label": ..., "family": <name>, **params}`` resolved by
:func:`family_curve`: the name is a law of :data:`mdmsched.distributions.FAMILIES` and its curve
comes from :func:`mdmsched.distributions.curve`. Optional keys: ``"n"`` (a fixed length),
``"enumerate": true`` (exact curve by enumeration: length capped at the experiment's
``enumeration_n``), ``"dim_fraction"`` (code dimension as a fraction of n), ``"q": "prime"`` (the
smallest prime > n, for Reed-Solomon codes), ``"eps"`` (a per-family target error), ``"q_alphabet"``
(the alphabet size when the curve's parameters do not name it), ``"prefix": true`` (exchangeable law:
the curve of length n is the first n entries of the curve of any longer length).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import distributions, error, evaluation, information, sampler, schedules
from ..finite_field import next_prime_above
from . import experiment

# --- family specs -------------------------------------------------------------------------------

CURVE_FAMILIES = (
    {"label": "Markov stay=0.6", "family": "markov", "stay": 0.6},
    {"label": "Markov stay=0.9", "family": "markov", "stay": 0.9},
    {"label": "Markov stay=0.99", "family": "markov", "stay": 0.99},
    {"label": "mixture of 4 products", "family": "mixture", "components": 4, "enumerate": True},
    {"label": "exch. mixture of 2 products", "family": "exchangeable_mixture", "weights": [0.5, 0.5], "thetas": [0.2, 0.8], "q_alphabet": 2, "prefix": True},
    {"label": "parity", "family": "parity", "q": 2},
    {"label": "random subspace d=n/2", "family": "subspace", "q": 2, "dim_fraction": 0.5, "enumerate": True},
    {"label": "Reed-Solomon d=n/4", "family": "reed_solomon", "q": "prime", "dim_fraction": 0.25},
    {"label": "Beta-Bernoulli(1,1)", "family": "beta_bernoulli", "q_alphabet": 2, "prefix": True},
    {"label": "all-equal q=4", "family": "all_equal", "q": 4},
)

# families whose min(TC, DTC) is O(1) (or grows like log n), all with O(n) closed-form curves
SCALING_FAMILIES = (
    {"label": "parity (TC = ln 2)", "family": "parity", "q": 2, "eps": 0.1},
    {"label": "MDS codim 3, q=16411 (TC = 3 ln q)", "family": "mds_code", "codim": 3, "q": 16411, "eps": 2.0},
    {"label": "all-equal q=4 (DTC = ln 4)", "family": "all_equal", "q": 4, "eps": 0.1},
    {"label": "exch. mixture of 2 products (DTC <= ln 2)", "family": "exchangeable_mixture", "weights": [0.5, 0.5], "thetas": [0.2, 0.8], "prefix": True, "eps": 0.05},
    {"label": "Beta-Bernoulli(1,1) (DTC ~ ln(n)/2)", "family": "beta_bernoulli", "prefix": True, "eps": 0.1},
    {"label": "exch. Gaussian rho=1 (DTC ~ ln(n)/2)", "family": "exchangeable_gaussian", "rho": 1.0, "prefix": True, "eps": 0.1},
)

_DIMENSION_PARAMETER = {"subspace": "d", "reed_solomon": "k", "code_lift": "k", "mds_code": "dim"}
_SPEC_KEYS = ("label", "n", "enumerate", "dim_fraction", "codim", "eps", "q_alphabet", "prefix")


def resolve_spec(spec: dict, n: int, enumeration_n: int | None = None):
    """(label, family name, length, curve parameters, alphabet size) of a family spec at length n."""
    spec = dict(spec)
    name = spec["family"]
    length = int(spec.get("n", n))
    if spec.get("enumerate") and enumeration_n is not None:
        length = min(length, int(enumeration_n))
    params = {key: value for key, value in spec.items() if key not in _SPEC_KEYS + ("family",)}
    if params.get("q") == "prime":
        params["q"] = next_prime_above(length)
    if "dim_fraction" in spec:
        params[_DIMENSION_PARAMETER[name]] = max(1, min(length - 1, round(spec["dim_fraction"] * length)))
    if "codim" in spec:
        params[_DIMENSION_PARAMETER[name]] = length - int(spec["codim"])
    q = int(spec.get("q_alphabet", params.get("q", 2)))
    if name == "markov":
        q = int(params.get("q", 2))
    return spec.get("label", name), name, length, params, q


def family_curve(spec: dict, n: int, enumeration_n: int | None = None):
    """(label, exact information curve Z_1..Z_length in nats, alphabet size) of a family spec."""
    label, name, length, params, q = resolve_spec(spec, n, enumeration_n)
    return label, distributions.curve(name, length, **params), q


def _curves_over_n(spec: dict, ns):
    """Exact curves of one spec at every length in ns; exchangeable laws (``prefix``) are computed
    once at the largest length and truncated (their Hbar_i does not depend on n)."""
    if spec.get("prefix"):
        _, full, _ = family_curve(spec, max(ns))
        return {n: full[:n] for n in ns}
    return {n: family_curve(spec, n)[1] for n in ns}


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *[int(k) for k in keys]]))


def _curve_labels(z) -> dict:
    return {"tc": information.tc_from_curve(z), "dtc": information.dtc_from_curve(z)}


# --- Figure 1 -----------------------------------------------------------------------------------


@experiment("ccl_figure1")
def figure1(seed: int = 0, sizes=distributions.FIGURE1_SIZES, curve=None):
    """CCL Figure 1: the curve, the step approximation of the paper's schedule (4, 5, 2, 2) and of the
    DP-optimal schedule with the same k, one row per schedule and index j, with the shaded error
    (CCL Thm 4 summands). The values of Z are read off the paper's figure."""
    z = distributions.FIGURE1_CURVE if curve is None else np.asarray(curve, dtype=np.float64)
    optimal, _ = schedules.optimal_schedule(z, len(sizes))
    rows = []
    for label, chosen in (("paper", np.asarray(sizes)), ("optimal", optimal)):
        counts = schedules.counts_from_sizes(chosen)
        block = np.repeat(np.arange(len(chosen)), chosen)
        step = z[counts[:-1]][block]
        rows.append(
            pd.DataFrame(
                {
                    "schedule": label,
                    "sizes": schedules.format_sizes(chosen),
                    "j": np.arange(1, len(z) + 1),
                    "z": z,
                    "block": block + 1,
                    "step": step,
                    "shaded": z - step,
                    "expected_kl": error.expected_kl(z, chosen),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


# --- Thm 4 / 16: the identity ---------------------------------------------------------------------


def _identity_family(name: str, n: int, seed: int) -> distributions.Family:
    """Small laws with exact pmfs for the brute-force check (n <= 7 or so)."""
    builders = {
        "product": lambda: distributions.make_family("product", n=n, q=3, seed=seed),
        "tabular": lambda: distributions.random_tabular(n, 2, alpha=0.5, seed=seed),
        "all_equal": lambda: distributions.AllEqual(n, 3),
        "parity": lambda: distributions.parity(n, 2, seed=seed),
        "subspace": lambda: distributions.random_subspace(n, max(1, n // 2), 3, seed=seed),
        "reed_solomon": lambda: distributions.reed_solomon(n, max(1, n // 2), next_prime_above(max(n, 4)), seed=seed),
        "mixture": lambda: distributions.make_family("mixture", n=n, q=2, components=3, seed=seed),
        "markov": lambda: distributions.MarkovChain.symmetric(n, 3, 0.8),
        "beta_bernoulli": lambda: distributions.BetaBernoulli(n, 0.5, 0.5),
        "block_copy": lambda: distributions.BlockCopy([n - n // 2, n // 2], 2),
    }
    if name not in builders:
        raise ValueError(f"unknown identity family {name!r}; expected one of {sorted(builders)}")
    return builders[name]()


def _monte_carlo_family(name: str, n: int, seed: int):
    """Larger laws for the Monte Carlo check: (family with its exact oracle, exact curve)."""
    if name == "markov":
        family = distributions.MarkovChain.symmetric(n, 2, 0.9)
        return family, family.information_curve()
    if name == "beta_bernoulli":
        family = distributions.BetaBernoulli(n)
        return family, family.information_curve()
    if name == "parity":
        family = distributions.parity(n, 2, seed=seed)
        return family, family.information_curve()
    if name == "reed_solomon":
        family = distributions.reed_solomon(n, n // 2, next_prime_above(n), seed=seed)
        return family, family.information_curve()
    if name == "code_lift":
        q = next_prime_above(n)
        family = distributions.make_family("code_lift", n=n, k=n // 3, q=q, stay=0.9, seed=seed)
        return family, distributions.curve("code_lift", n, k=n // 3, q=q, stay=0.9)
    if name == "all_equal":
        family = distributions.AllEqual(n, 4)
        return family, family.information_curve()
    raise ValueError(f"unknown Monte Carlo family {name!r}")


def identity_schedules(z, rng: np.random.Generator) -> dict:
    """The schedules checked on each law: one-shot, uniform / cosine / geometric / DP-optimal with a
    few steps, the Thm 9 TC and DTC schedules at eps = TC and DTC, and two random compositions."""
    n = len(z)
    out = {"one_shot": schedules.one_shot(n)}
    for k in (2, 3):
        if k <= n:
            out[f"uniform k={k}"] = schedules.uniform(n, k)
            out[f"optimal k={k}"] = schedules.optimal_schedule(z, k)[0]
    if n >= 3:
        out["cosine k=3"] = schedules.cosine(n, 3)
        out["geometric k=3"] = schedules.geometric(n, 3)
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    if tc > 1e-9:
        out["tc eps=TC"] = schedules.schedule("tc", n, eps=tc, tc=tc)
    if dtc > 1e-9:
        out["dtc eps=DTC"] = schedules.schedule("dtc", n, eps=dtc, dtc=dtc)
    for draw in range(2):
        k = int(rng.integers(2, n)) if n > 2 else 1
        cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
        out[f"random #{draw + 1}"] = np.diff(np.concatenate([[0], cuts, [n]]))
    return out


@experiment("ccl_identity")
def identity(
    seed: int = 0,
    n: int = 6,
    samples: int = 2000,
    families=("product", "tabular", "all_equal", "parity", "subspace", "reed_solomon", "mixture", "markov", "beta_bernoulli", "block_copy"),
    mc_n: int = 24,
    mc_families=("markov", "beta_bernoulli", "parity", "reed_solomon", "code_lift", "all_equal"),
):
    """CCL Thm 4 / 16 on many laws and schedules. Block ``enumeration`` (length n): the theorem (exact
    curve by enumeration), the brute-force expected KL over every ordered partition, the KL of the
    random sampler's mixture law (<= expected KL), the Monte Carlo estimate with the exact oracle
    (mean and standard error over ``samples`` draws), and TC (= one-shot error). Block
    ``monte_carlo`` (length mc_n, closed-form curves): theorem versus Monte Carlo only."""
    rows = []
    for f, name in enumerate(families):
        family = _identity_family(name, n, seed)
        pmf = family.pmf()
        z = information.information_curve(pmf)
        tc = information.total_correlation(pmf)
        cache = {}
        for s, (label, sizes) in enumerate(identity_schedules(z, _rng(seed, 1, f)).items()):
            key = tuple(int(v) for v in sizes)
            if key not in cache:
                with np.errstate(invalid="ignore", divide="ignore"):  # log 0 - log 0 off the support (codes)
                    cache[key] = error.bruteforce_kls(pmf, sizes)
            mc = error.expected_kl_monte_carlo(family, family, sizes, samples, _rng(seed, 2, f, s))
            rows.append(
                {
                    "block": "enumeration",
                    "family": name,
                    "n": n,
                    "q": family.q,
                    "schedule": label,
                    "sizes": schedules.format_sizes(sizes),
                    "k": len(sizes),
                    "theorem": error.expected_kl(z, sizes),
                    "bruteforce": cache[key][0],
                    "mixture_kl": cache[key][1],
                    "mc": mc["kl"],
                    "mc_se": mc["kl_se"],
                    "tc": tc,
                    "dtc": information.dual_total_correlation(pmf),
                }
            )
    for f, name in enumerate(mc_families):
        family, z = _monte_carlo_family(name, mc_n, seed)
        for s, (label, sizes) in enumerate(identity_schedules(z, _rng(seed, 3, f)).items()):
            mc = error.expected_kl_monte_carlo(family, family, sizes, samples, _rng(seed, 4, f, s))
            rows.append(
                {
                    "block": "monte_carlo",
                    "family": name,
                    "n": family.n,
                    "q": family.q,
                    "schedule": label,
                    "sizes": schedules.format_sizes(sizes),
                    "k": len(sizes),
                    "theorem": error.expected_kl(z, sizes),
                    "bruteforce": np.nan,
                    "mixture_kl": np.nan,
                    "mc": mc["kl"],
                    "mc_se": mc["kl_se"],
                    **_curve_labels(z),
                }
            )
    return pd.DataFrame(rows)


# --- expected KL versus k -------------------------------------------------------------------------


def _eps_grid(z, points: int) -> np.ndarray:
    """Targets for the eps-driven schedules: min(TC, DTC) (or the larger one when the smaller is 0)
    times 2, 1, 1/2, ..., ``points`` values."""
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    scale = min(tc, dtc) if min(tc, dtc) > 1e-9 else max(tc, dtc)
    if scale <= 1e-9:
        return np.array([])
    return scale * 2.0 ** (1 - np.arange(points))


@experiment("ccl_error_vs_k")
def error_vs_k(seed: int = 0, n: int = 128, enumeration_n: int = 12, families=CURVE_FAMILIES, k_points: int | None = None, eps_points: int = 8):
    """Exact expected KL (CCL Thm 4) of every k-step schedule (uniform, cosine, log-linear,
    polynomial, geometric, LZ square-root rule, DP optimum) at every k (or ``k_points`` log-spaced
    values), per family; plus the eps-driven schedules (Thm 9 TC / DTC, Austin Cor 34 / Thm 10) for
    ``eps_points`` targets, placed at their step counts (``kind`` = "eps")."""
    tables = []
    for spec in families:
        label, z, q = family_curve(spec, n, enumeration_n)
        labels = {"family": label, "n": len(z), "q": q, **_curve_labels(z)}
        ks = np.arange(1, len(z) + 1) if k_points is None else evaluation.log_grid(len(z), k_points)
        tables.append(evaluation.evaluate(z, ks, kind="k", **labels))
        eps = _eps_grid(z, eps_points)
        if len(eps):
            tables.append(evaluation.evaluate_for_eps(z, eps, kind="eps", **labels))
    return pd.concat(tables, ignore_index=True)


# --- steps to reach eps versus n --------------------------------------------------------------------


@experiment("ccl_steps_vs_n")
def steps_vs_n(seed: int = 0, n_min: int = 32, n_max: int = 16384, eps: float = 0.1, families=SCALING_FAMILIES):
    """Steps needed to reach expected KL <= eps versus n = n_min..n_max (powers of two), on laws with
    small min(TC, DTC): the Thm 9 TC and DTC schedules (with the true TC / DTC), the DP optimum,
    uniform, cosine and log-linear (the smallest k, :func:`mdmsched.steps_to_reach`), Austin's Thm 10
    schedule, each with the exact error at its step count; and the bounds: Thm 9
    (2 + (1 + ln n)(1 + ceil(C / eps)) for C = TC, DTC) and Li-Cai (Remark 32, steps it certifies).
    ``kind`` is "schedule" (steps and achieved error) or "bound" (steps only)."""
    ns = [int(v) for v in 2 ** np.arange(round(math.log2(n_min)), round(math.log2(n_max)) + 1)]
    rows = []
    for spec in families:
        label = spec.get("label", spec["family"])
        target = float(spec.get("eps", eps))
        for length, z in _curves_over_n(spec, ns).items():
            tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
            base = {"family": label, "n": length, "eps": target, "tc": tc, "dtc": dtc}

            def add(name, kind, steps, value=np.nan):
                rows.append({**base, "schedule": name, "kind": kind, "steps": int(steps), "expected_kl": value})

            for name in ("tc", "dtc", "austin_thm10"):
                sizes = evaluation.build_for_eps(name, z, target)
                add(name, "schedule", len(sizes), error.expected_kl(z, sizes))
            for name in ("optimal", "uniform", "cosine", "loglinear"):
                k = evaluation.steps_to_reach(z, target, name)
                add(name, "schedule", k, error.expected_kl(z, evaluation.build(name, z, k)))
            add("thm9 bound (TC)", "bound", error.thm9_step_bound(length, target, tc))
            add("thm9 bound (DTC)", "bound", error.thm9_step_bound(length, target, dtc))
            add("li-cai bound", "bound", evaluation.li_cai_steps(length, tc, dtc, target))
    return pd.DataFrame(rows)


# --- lower-bound instances --------------------------------------------------------------------------


def _outside_share(code, membership, sizes, samples: int, rng) -> tuple[float, float]:
    """Share (and its standard error) of random-sampler outputs that fall outside the support: a
    lower bound on TV(mu, nu), since mu puts no mass there."""
    x = sampler.sample(code, sizes, samples, rng)
    share = 1.0 - float(membership(x).mean())
    return share, math.sqrt(max(share * (1 - share), 0.0) / samples)


def rs_oblivious_schedules(n: int, uniform_steps=(2, 4, 8), grid_steps: int = 8) -> dict:
    """Schedules built without knowing the code dimension: the Thm 9 schedules tuned on the uniform
    law (TC = DTC = 0: one shot), uniform with few steps, cosine and geometric grids, and the
    optimum for one fixed dimension n/2 (a guess)."""
    out = {"thm9 tuned on uniform law (one shot)": schedules.schedule("tc", n, eps=1.0, tc=0.0)}
    for k in uniform_steps:
        if k <= n:
            out[f"uniform k={k}"] = schedules.uniform(n, k)
    k = min(grid_steps, n)
    out[f"cosine k={k}"] = schedules.cosine(n, k)
    out[f"geometric k={k}"] = schedules.geometric(n, k)
    out[f"optimal for d={n // 2}: ({n // 2}, {n - n // 2})"] = np.array([n // 2, n - n // 2])
    return out


@experiment("ccl_rs_codes")
def rs_codes(seed: int = 0, n: int = 24, q: int = 29, samples: int = 400, uniform_steps=(2, 4, 8), grid_steps: int = 8, eps: float = 1.0):
    """CCL Prop 20 / Thm 24: Reed-Solomon codes (random points and shift) of every dimension d.
    For each d and schedule: exact expected KL (Thm 4 on Z = ln q 1[j > d]), the closed form
    ln q (N - d) (N = first revealed count >= d), and the share of random-sampler outputs outside
    the code (TV lower bound, by simulation with the code's exact oracle, for every schedule, also
    where the expected KL is 0). ``group`` = "oblivious" (built without knowing d) or "aware" (the
    (d, n - d) optimum, and the Thm 9 schedules given the true TC or DTC at target eps)."""
    oblivious = rs_oblivious_schedules(n, uniform_steps, grid_steps)
    rows = []
    for d in range(1, n):
        code = distributions.reed_solomon(n, d, q, seed=int(np.random.SeedSequence([seed, d]).generate_state(1)[0]))
        z = code.information_curve()
        tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
        aware = {
            "optimal (d, n-d)": np.array([d, n - d]),
            f"tc schedule, true TC, eps={eps:g}": schedules.schedule("tc", n, eps=eps, tc=tc),
            f"dtc schedule, true DTC, eps={eps:g}": schedules.schedule("dtc", n, eps=eps, dtc=dtc),
        }
        for group, chosen in (("oblivious", oblivious), ("aware", aware)):
            for s, (label, sizes) in enumerate(chosen.items()):
                exact = error.expected_kl(z, sizes)
                share, share_se = _outside_share(code, code.contains, sizes, samples, _rng(seed, d, s, group == "aware"))
                rows.append(
                    {
                        "n": n,
                        "q": q,
                        "dimension": d,
                        "group": group,
                        "schedule": label,
                        "sizes": schedules.format_sizes(sizes),
                        "steps": len(sizes),
                        "expected_kl": exact,
                        "closed_form": math.log(q) * evaluation.next_boundary_error(sizes, d),
                        "outside_share": share,
                        "outside_se": share_se,
                        "tc": tc,
                        "dtc": dtc,
                    }
                )
    return pd.DataFrame(rows)


@experiment("ccl_code_lift")
def code_lift(seed: int = 0, n: int = 12, q: int = 13, stay: float = 0.9, steps=(2, 3, 4), samples: int = 1000, mc_dimensions=None,
              enumeration_n: int = 5, enumeration_q: int = 7):
    """CCL Thm 25: mu* x code_k, mu* a binary Markov chain and code_k a Reed-Solomon code of dimension
    k over F_q (``Paired``); its curve is Z^{up k} = Z + ln q 1[j > k]. ``kind`` = "enumerated": at
    length ``enumeration_n`` over F_``enumeration_q``, the curve of the pair computed from its explicit
    joint pmf (``z_family``, no additivity assumed) against Z^{up k} (``z_up``), for every k; ``kind`` =
    "curve": Z and Z^{up k} at length n (one row per j); and
    (``kind`` = "error") the expected KL of the Markov-optimal K-step schedule (built on Z, not
    knowing k) on the lifted law, split into the Markov part and the code part ln q (N - k), versus the
    optimum on Z^{up k} with K and K + 1 steps (knowing k); on ``mc_dimensions`` also Monte Carlo with
    the paired oracle and the share of outputs outside the code."""
    chain = distributions.MarkovChain.symmetric(n, 2, stay)
    z = chain.information_curve()
    mc_dimensions = tuple(mc_dimensions) if mc_dimensions is not None else tuple(sorted({max(1, n // 4), n // 2, max(1, 3 * n // 4)}))
    rows = []
    # Thm 25 itself, tested without assuming additivity: the curve of the explicit product pmf of
    # (chain, RS code) (Lemma 13 on the enumerated table) against Z(chain) + ln q 1[j > k]
    small = distributions.MarkovChain.symmetric(enumeration_n, 2, stay)
    z_small = small.information_curve()
    for k in range(1, enumeration_n):
        pair = distributions.make_family("code_lift", n=enumeration_n, k=k, q=enumeration_q, stay=stay, seed=seed + k)
        enumerated = information.information_curve(distributions.Family.pmf(pair))
        lifted = z_small + distributions.mds_curve(enumeration_n, k, enumeration_q)
        rows += [
            {"kind": "enumerated", "k": k, "j": j + 1, "z": z_small[j], "z_up": lifted[j], "z_family": enumerated[j],
             "n_enumerated": enumeration_n, "q_enumerated": enumeration_q}
            for j in range(enumeration_n)
        ]
    for k in range(1, n):
        family = distributions.make_family("code_lift", n=n, k=k, q=q, stay=stay, seed=seed + k)
        lifted = z + distributions.mds_curve(n, k, q)
        rows += [{"kind": "curve", "k": k, "j": j + 1, "z": z[j], "z_up": lifted[j]} for j in range(n)]
        for steps_count in steps:
            markov_optimal, markov_error = schedules.optimal_schedule(z, steps_count)
            candidates = {
                "Markov-optimal (k unknown)": markov_optimal,
                "optimal on Z^{up k}, same steps": schedules.optimal_schedule(lifted, steps_count)[0],
                "optimal on Z^{up k}, one more step": schedules.optimal_schedule(lifted, min(steps_count + 1, n))[0],
            }
            for s, (label, sizes) in enumerate(candidates.items()):
                row = {
                    "kind": "error",
                    "k": k,
                    "K": steps_count,
                    "schedule": label,
                    "sizes": schedules.format_sizes(sizes),
                    "steps": len(sizes),
                    "expected_kl": error.expected_kl(lifted, sizes),
                    "markov_part": error.expected_kl(z, sizes),
                    "code_part": math.log(q) * evaluation.next_boundary_error(sizes, k),
                    "markov_optimal_error": markov_error,
                    "mc": np.nan,
                    "mc_se": np.nan,
                    "outside_share": np.nan,
                }
                if k in mc_dimensions:
                    rng = _rng(seed, k, steps_count, s)
                    mc = error.expected_kl_monte_carlo(family, family, sizes, samples, rng)
                    row["mc"], row["mc_se"] = mc["kl"], mc["kl_se"]
                    row["outside_share"] = _outside_share(family, lambda x: family.second.contains(family.split(x)[1]), sizes, samples, rng)[0]
                rows.append(row)
    table = pd.DataFrame(rows)
    table["n"], table["q"], table["stay"] = n, q, stay
    return table


@experiment("ccl_appendix_e")
def appendix_e(seed: int = 0, ns=(1024, 4096, 16384), eps=(0.05, 0.1, 0.2), k_factor: float = 3.0):
    """CCL Appendix E (Lemma 28 / Thm 30): on the hard curve appendix_e_curve(n, eps) the optimal
    k-step error, for k = 1..k_factor ln n / eps (``kind`` = "optimal", one DP pass), the Thm 9 TC
    and DTC schedules at target eps (``kind`` = "thm9"), and for the largest n the curve itself at its
    jumps (``kind`` = "curve": j, z)."""
    rows = []
    for n in ns:
        for target in eps:
            z = distributions.appendix_e_curve(int(n), float(target))
            base = {"n": int(n), "eps": float(target), "log_n": math.log(n), **_curve_labels(z)}
            k_max = min(int(n), math.ceil(k_factor * math.log(n) / target))
            for k, value in enumerate(schedules.optimal_errors(z, k_max), start=1):
                rows.append({**base, "kind": "optimal", "schedule": "optimal", "k": k, "expected_kl": value})
            for name in ("tc", "dtc"):
                sizes = evaluation.build_for_eps(name, z, float(target))
                rows.append({**base, "kind": "thm9", "schedule": name, "k": len(sizes), "expected_kl": error.expected_kl(z, sizes)})
            if n == max(ns):  # the curve itself, as the points on both sides of each jump
                jumps = np.flatnonzero(np.diff(z))
                for j in np.unique(np.concatenate([[0, len(z) - 1], jumps, jumps + 1])):
                    rows.append({**base, "kind": "curve", "j": int(j) + 1, "z": z[j]})
    return pd.DataFrame(rows)


# --- App. D: the hyperparameter sweep --------------------------------------------------------------


@experiment("ccl_sweep")
def sweep(seed: int = 0, n: int = 128, enumeration_n: int = 12, eps=(0.1,), families=CURVE_FAMILIES):
    """CCL App. D: TC / DTC unknown. For each family and eps, the TC and DTC schedules for every C of
    the grid H = {2^i : eps <= 2^i <= n ln q} (ascending, TC then DTC at each C): steps, exact error,
    the cumulative steps spent by the sweep, and the first schedule reaching error <= eps (where the
    sweep stops). Rows ``kind`` = "known" give the same schedules with C = the true TC / DTC."""
    tables = []
    for spec in families:
        label, z, q = family_curve(spec, n, enumeration_n)
        length = len(z)
        tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
        for target in eps:
            target = float(target)
            grid = schedules.sweep_grid(length, q, target)
            tried = [("sweep", name, float(c)) for c in grid for name in ("tc", "dtc")]
            tried += [("known", "tc", tc), ("known", "dtc", dtc)]
            rows = []
            for kind, name, c in tried:
                sizes = schedules.schedule(name, length, eps=target, **{name: c})
                rows.append({"kind": kind, "schedule": name, "c": c, "steps": len(sizes), "expected_kl": error.expected_kl(z, sizes)})
            table = pd.DataFrame(rows)
            table["reached"] = table.expected_kl <= target
            in_sweep = table.kind == "sweep"
            # the sweep runs the grid in order and stops at the first schedule reaching eps
            first = table.index[in_sweep & table.reached].min()
            table["stop"] = table.index == first
            table["cumulative_steps"] = table.steps.where(in_sweep).cumsum().where(in_sweep & (table.index <= first))
            tables.append(table.assign(family=label, n=length, q=q, eps=target, tc=tc, dtc=dtc, grid_size=len(grid)))
    return pd.concat(tables, ignore_index=True)


# --- heuristics audit (CCL Sec. 1 open question) ------------------------------------------------------


@experiment("ccl_heuristics")
def heuristics(
    seed: int = 0,
    n: int = 1024,
    enumeration_n: int = 12,
    families=CURVE_FAMILIES,
    k_points: int = 24,
    eps_fractions=(0.1, 0.01),
    names=("cosine", "loglinear", "uniform", "geometric"),
):
    """How far the practitioners' grids are from the optimum: ``kind`` = "k": expected KL of each
    schedule and of the DP optimum at the same k (``ratio`` = heuristic / optimal, inf where only the
    optimum is exact); ``kind`` = "steps": the smallest k with which each reaches eps = fraction x TC
    (the one-shot error; :func:`mdmsched.steps_to_reach`), the Thm 9 TC / DTC schedules' own step
    counts at that eps, the error at those steps, and the ratio to the optimum's steps."""
    tables = []
    for spec in families:
        label, z, q = family_curve(spec, n, enumeration_n)
        labels = {"family": label, "n": len(z), **_curve_labels(z)}
        table = evaluation.evaluate(z, evaluation.log_grid(len(z), k_points), tuple(names) + ("optimal",), kind="k", **labels)
        tables.append(evaluation.ratio_to_optimal(table, by=("family",)))
        tc = labels["tc"]
        if tc <= 1e-9:
            continue
        steps_rows = []
        for fraction in eps_fractions:
            target = fraction * tc
            best = evaluation.steps_to_reach(z, target, "optimal")
            for name in tuple(names) + ("optimal", "tc", "dtc"):
                if name in ("tc", "dtc"):  # Thm 9 with the true TC / DTC: its own step count
                    sizes = evaluation.build_for_eps(name, z, target)
                else:
                    k = best if name == "optimal" else evaluation.steps_to_reach(z, target, name)
                    sizes = evaluation.build(name, z, k)
                steps_rows.append({**labels, "kind": "steps", "schedule": name, "eps": target, "eps_fraction": fraction, "steps": len(sizes),
                                   "expected_kl": error.expected_kl(z, sizes), "optimal": best, "ratio": len(sizes) / best})
        tables.append(pd.DataFrame(steps_rows))
    return pd.concat(tables, ignore_index=True)
