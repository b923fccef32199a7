"""Experiments for Lavenant, Zanella (2025), *Error bounds and optimal schedules for masked
diffusions with factorized approximations* (notation LZ: N tokens, K steps, revealed counts
a_0 = 0 < a_1 < .. < a_K = N, profile f(l) = H_{l-1} - H_l = Z_{l+1} - Z_l, D = sum f).

Every table is exact: closed-form or enumerated information curves (the families' own, through
:func:`mdmsched.distributions.curve`), the LZ / CCL Thm 4 error formula, and exact fixed-set laws for
small instances; continuum limits come from :mod:`mdmsched.limits`.

LZ's "constant sizes" are :func:`mdmsched.schedules.balanced` (sizes as equal as possible, the larger
ones spread evenly; schedule name ``balanced`` in the tables), not the remainder-first ``uniform``
of LLM samplers, whose larger steps all come first where the profile is largest.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import distributions, error, evaluation, information, schedules
from ..finite_field import next_prime_above
from ..limits import continuum_predictions, integer_continuum_optimum, limit_profile, sqrt_rule_bounded_limit
from . import experiment

__all__ = ["family_curve"]


# Families of the profile and error-vs-K panels (LZ Lemma 6), with their parameters.
FAMILY_LABELS = {
    "markov": "Markov chain (q=2, stay 0.9)",
    "mixture": "mixture of 4 iid products (q=2)",
    "beta_bernoulli": "Beta(1,1)-Bernoulli (q=2)",
    "gaussian": "exchangeable Gaussian (rho=1)",
    "block_copy": "block copy (blocks of 4, q=3)",
    "parity": "parity code (q=2)",
    "reed_solomon": "Reed-Solomon (dim N/2)",
    "all_equal": "all-equal (q=2)",
}
MIXTURE_THETAS = (0.1, 0.35, 0.65, 0.9)


def _panel_family(name: str, n: int) -> tuple[str, dict, str]:
    """(registry family, parameters, how its curve is computed) of one LZ panel family at length n."""
    specs = {
        "markov": ("markov", {"q": 2, "stay": 0.9}, "lag-MI formula (exact)"),
        "mixture": ("exchangeable_mixture", {"weights": [0.25] * 4, "thetas": list(MIXTURE_THETAS)}, "exchangeable closed form"),
        "beta_bernoulli": ("beta_bernoulli", {"a": 1.0, "b": 1.0}, "closed form"),
        "gaussian": ("exchangeable_gaussian", {"rho": 1.0}, "closed form"),
        "block_copy": ("block_copy", {"block_sizes": [4] * (n // 4), "q": 3}, "closed form"),
        "parity": ("parity", {"q": 2}, "MDS closed form"),
        "reed_solomon": ("reed_solomon", {"k": max(n // 2, 1), "q": next_prime_above(n)}, "MDS closed form"),
        "all_equal": ("all_equal", {"q": 2}, "closed form"),
    }
    if name not in specs:
        raise ValueError(f"unknown LZ family {name!r}; expected one of {sorted(FAMILY_LABELS)}")
    return specs[name]


def family_curve(name: str, n: int) -> dict:
    """Exact curve of one LZ panel family at length n (:func:`mdmsched.distributions.curve`):
    dict(z, q, log_q, label, how). ``q`` is |Sigma| (None for the Gaussian, a continuous law; log_q nan)."""
    family, params, how = _panel_family(name, n)
    q = None if family == "exchangeable_gaussian" else params.get("q", 2)
    return {
        "z": distributions.curve(family, n, **params),
        "q": q,
        "log_q": math.log(q) if q else float("nan"),
        "label": FAMILY_LABELS[name],
        "how": how,
    }


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _blocks_label(blocks) -> str:
    """'3-2-1', or '2 x 96' for many equal blocks."""
    if len(set(blocks)) == 1 and len(blocks) > 4:
        return f"{blocks[0]} x {len(blocks)}"
    return schedules.format_sizes(blocks)


def _random_composition(n: int, rng: np.random.Generator, k: int | None = None) -> np.ndarray:
    """A random schedule: k - 1 distinct cut points in 1..n-1 (k uniform in 2..ceil(n/2) by default,
    so that small laws keep few enough ordered partitions for brute force)."""
    k = int(rng.integers(2, max(3, math.ceil(n / 2) + 1))) if k is None else k
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return np.diff(np.concatenate([[0], cuts, [n]])).astype(np.int64)


def _ordered_partition_count(sizes) -> int:
    count, left = 1, int(np.sum(sizes))
    for s in sizes:
        count *= math.comb(left, int(s))
        left -= int(s)
    return count


def _expect(p, table) -> float:
    """E_p[table] over the support of p (table broadcast to p's shape)."""
    support = p > 0
    return float(np.sum(p[support] * np.broadcast_to(table, p.shape)[support]))


def _conditional_tc_sum(entropies, sets) -> float:
    """sum_k TC(X_{S_k} | X_{S_<k}) = sum_k [sum_{j in S_k} H(X_j | X_B) - H(X_{S_k} | X_B)] (LZ E_fact
    of a fixed planner), from the table of subset entropies indexed by bitmask."""
    total, before = 0.0, 0
    for block in sets:
        mask = sum(1 << int(i) for i in block)
        total += sum(entropies[before | (1 << int(i))] - entropies[before] for i in block)
        total -= entropies[before | mask] - entropies[before]
        before |= mask
    return float(total)


def _learning_error(p_true: error.LogMarginals, p_model: error.LogMarginals, p, sets) -> float:
    """LZ E_learn of a fixed planner: sum_k sum_{j in S_k} E KL(mu(x_j | x_B) || p_theta(x_j | x_B)),
    the denoiser p_theta being the conditionals of the model law."""
    total, before = 0.0, ()
    for block in sets:
        for j in block:
            j = int(j)
            with np.errstate(invalid="ignore"):  # -inf - -inf off the support of mu, never read
                log_ratio = (p_true(before + (j,)) - p_true(before)) - (p_model(before + (j,)) - p_model(before))
            total += _expect(p, log_ratio)
        before = before + tuple(int(i) for i in block)
    return float(total)


def _identity_families(seed: int) -> dict:
    """Small laws with full pmf tables (q^n <= a few 10^4) for the exact identities."""
    return {
        "tabular": distributions.random_tabular(6, 3, alpha=0.5, seed=seed),
        "markov": distributions.MarkovChain.symmetric(8, 3, 0.7),
        "mixture": distributions.MixtureOfProducts.random(8, 2, 3, seed=seed),
        "beta_bernoulli": distributions.BetaBernoulli(8, 0.5, 1.5),
        "block_copy": distributions.BlockCopy([3, 2, 1], 3),
        "parity": distributions.parity(7, 2),
        "subspace": distributions.random_subspace(7, 3, 3, seed=seed),
        "reed_solomon": distributions.reed_solomon(5, 2, 7, seed=seed),
        "all_equal": distributions.AllEqual(6, 3),
    }


# ----------------------------------------------------------------------------------------------
# Experiments
# ----------------------------------------------------------------------------------------------


@experiment("lz_identities")
def identities(seed: int = 0, schedules_per_family: int = 3, bruteforce_limit: int = 1000, model_weight: float = 0.3, gaussian_n: int = 64):
    """LZ decomposition and the LZ = CCL identity, exactly, on small laws (LZ Prop 2, Lemma 6).

    Per family and random schedule (seeded): CCL Thm 4 on the exact curve; LZ's form
    sum_k sum_l (a_k - l) f(l); the brute-force mean of KL(mu || nu^S) over every ordered partition
    (when there are at most ``bruteforce_limit``). For one random fixed planner S and a learned
    denoiser p_theta (the conditionals of the model law (1 - w) mu + w Dirichlet(1), w =
    ``model_weight``): KL(mu || q_S) directly, E_fact = sum_k TC(S_k | S_<k) from entropies (and as
    KL(mu || nu^S)), and E_learn = sum of per-token KLs (LZ: KL = E_fact + E_learn exactly). For the
    random planner (brute force): KL(mu || mixture of the q_S) <= E E_fact + E E_learn. The exchangeable
    Gaussian (closed forms, no pmf) compares its block-TC formula with Thm 4 and LZ's form.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for name, family in _identity_families(seed).items():
        p = family.pmf()
        n = family.n
        z = information.information_curve(p)
        z_family = family.information_curve()
        entropies = information.subset_entropies(p)
        model_table = (1 - model_weight) * p + model_weight * rng.dirichlet(np.ones(p.size)).reshape(p.shape)
        true_marginals, model_marginals = error.LogMarginals(p), error.LogMarginals(model_table)
        for _ in range(schedules_per_family):
            sizes = _random_composition(n, rng)
            sets = error.ordered_partitions(n, sizes)
            order = rng.permutation(n)
            counts = schedules.counts_from_sizes(sizes)
            fixed = [tuple(order[counts[i] : counts[i + 1]]) for i in range(len(sizes))]
            row = {
                "family": name,
                "n": n,
                "q": family.q,
                "sizes": schedules.format_sizes(sizes),
                "k": len(sizes),
                "s_max": int(sizes.max()),
                "curve_closed_vs_enumerated": float(np.abs(z_family - z).max()),
                "thm4": error.expected_kl(z, sizes),
                "lz_form": error.factorization_error(information.profile_from_curve(z), sizes),
                "closed_form": float("nan"),
                "kl_fixed": error.kl_divergence(p, error.fixed_set_law(model_table, fixed)),
                "e_fact_fixed_tc": _conditional_tc_sum(entropies, fixed),
                "e_fact_fixed_kl": error.kl_divergence(p, error.fixed_set_law(p, fixed)),
                "e_learn_fixed": _learning_error(true_marginals, model_marginals, p, fixed),
                "partitions": _ordered_partition_count(sizes),
                "bruteforce": float("nan"),
                "kl_mixture": float("nan"),
                "e_fact_random": float("nan"),
                "e_learn_random": float("nan"),
            }
            if row["partitions"] <= bruteforce_limit:
                kls, laws, learn = [], [], []
                for partition in sets:
                    kls.append(error.kl_divergence(p, error.fixed_set_law(p, partition)))
                    laws.append(error.fixed_set_law(model_table, partition))
                    learn.append(_learning_error(true_marginals, model_marginals, p, partition))
                row.update(
                    bruteforce=float(np.mean(kls)),
                    kl_mixture=error.kl_divergence(p, np.mean(laws, axis=0)),
                    e_fact_random=float(np.mean(kls)),
                    e_learn_random=float(np.mean(learn)),
                )
            rows.append(row)
    gaussian = distributions.ExchangeableGaussian(gaussian_n, 1.0)
    z = gaussian.information_curve()
    for _ in range(schedules_per_family):
        sizes = _random_composition(gaussian_n, rng)
        rows.append(
            {
                "family": "gaussian",
                "n": gaussian_n,
                "q": float("nan"),
                "sizes": schedules.format_sizes(sizes),
                "k": len(sizes),
                "s_max": int(sizes.max()),
                "thm4": error.expected_kl(z, sizes),
                "lz_form": error.factorization_error(gaussian.profile(), sizes),
                "closed_form": gaussian.schedule_error(sizes),
            }
        )
    return pd.DataFrame(rows)


@experiment("lz_profiles")
def profiles(seed: int = 0, n: int = 64, families=tuple(FAMILY_LABELS)):
    """LZ Lemma 6: the information profile f(l) = Z_{l+1} - Z_l, l = 1..N-1, of each family, with
    D = sum f = (TC + DTC) / N, TC and DTC (nats), from exact curves."""
    rows = []
    for name in families:
        curve = family_curve(name, n)
        z = curve["z"]
        f = information.profile_from_curve(z)
        rows.append(
            pd.DataFrame(
                {
                    "family": name,
                    "label": curve["label"],
                    "how": curve["how"],
                    "n": n,
                    "q": curve["q"],
                    "l": np.arange(1, n),
                    "f": f,
                    "D": float(f.sum()),
                    "tc": information.tc_from_curve(z),
                    "dtc": information.dtc_from_curve(z),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@experiment("lz_error_vs_k")
def error_vs_k(seed: int = 0, n: int = 64, k_points: int = 12, families=tuple(FAMILY_LABELS), names=("balanced", "sqrt", "geometric", "optimal")):
    """LZ Lemma 6: E_fact versus K for constant, square-root-rule, geometric and DP-optimal
    schedules on each family, with LZ's bounds (s_max - 1) D (random order) and (N - K) ln q (any
    planner) and whether either is violated."""
    rows = []
    ks = np.union1d(evaluation.log_grid(n, k_points), [n])
    for family in families:
        curve = family_curve(family, n)
        z = curve["z"]
        f = information.profile_from_curve(z)
        d = float(f.sum())
        for name in names:
            for k in ks:
                sizes = evaluation.build(name, z, int(k))
                e_fact = error.factorization_error(f, sizes)
                bound = error.lz_bound(d, sizes)
                worst = error.lz_worst_case(n, len(sizes), curve["q"]) if curve["q"] else float("nan")
                rows.append(
                    {
                        "family": family,
                        "label": curve["label"],
                        "n": n,
                        "log_q": curve["log_q"],
                        "schedule": name,
                        "k": len(sizes),
                        "s_max": int(sizes.max()),
                        "e_fact": e_fact,
                        "thm4": error.expected_kl(z, sizes),
                        "D": d,
                        "bound_smax": bound,
                        "bound_worst": worst,
                        "violates_smax": bool(e_fact > bound + 1e-12),
                        "violates_worst": bool(e_fact > worst + 1e-12),
                    }
                )
    return pd.DataFrame(rows)


@experiment("lz_worst_case")
def worst_case(
    seed: int = 0,
    q: int = 3,
    block_lists=((3, 2, 1),),
    block_lengths=(2, 3, 4),
    n_values=(6, 8, 9, 12, 24, 48, 96, 192, 384),
    exact_limit: int = 60_000,
    bruteforce_limit: int = 3000,
):
    """LZ Prop 3 / Lemma 4: the block-copy law (each block a copy of one uniform symbol) under a deterministic
    planner that reveals each block in one step pays (N - K) ln q, LZ's worst case (exactly: the KL
    of the fixed-set law, by enumeration when q^N <= ``exact_limit``); the random-order planner with
    the same sizes pays CCL Thm 4 on the exact curve (and the brute-force mean over partitions when
    there are at most ``bruteforce_limit``), at most (s_max - 1) D."""
    cases = [tuple(int(b) for b in blocks) for blocks in block_lists]
    for n in n_values:
        for b in block_lengths:
            if n % b == 0 and n // b >= 1:
                cases.append((int(b),) * (n // b))
    rows = []
    for blocks in cases:
        n, k = sum(blocks), len(blocks)
        sizes = np.array(blocks)
        z = distributions.BlockCopy(blocks, q).information_curve()
        d = float(z[-1])
        row = {
            "blocks": _blocks_label(blocks),
            "block_length": blocks[0] if len(set(blocks)) == 1 else 0,
            "n": n,
            "k": k,
            "q": q,
            "deterministic_closed": error.lz_worst_case(n, k, q),
            "deterministic_exact": float("nan"),
            "random_thm4": error.expected_kl(z, sizes),
            "random_bruteforce": float("nan"),
            "D": d,
            "bound_smax": error.lz_bound(d, sizes),
        }
        if q**n <= exact_limit:
            family = distributions.BlockCopy(blocks, q)
            p = family.pmf()
            counts = schedules.counts_from_sizes(sizes)
            aligned = [tuple(range(counts[i], counts[i + 1])) for i in range(k)]
            row["deterministic_exact"] = error.kl_divergence(p, error.fixed_set_law(p, aligned))
            if _ordered_partition_count(sizes) <= bruteforce_limit:
                row["random_bruteforce"] = error.expected_kl_bruteforce(p, sizes)
        rows.append(row)
    return pd.DataFrame(rows)


DIMENSION_FREE_FAMILIES = ("markov", "mixture", "beta_bernoulli", "gaussian", "block_copy", "all_equal")


@experiment("lz_dimension_free")
def dimension_free(seed: int = 0, n_values=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096), ratios=(2, 4, 8), families=DIMENSION_FREE_FAMILIES):
    """LZ Thm 7: constant sizes s = N/K at fixed ratio N/K as N grows: E_fact against LZ's
    dimension-free bound (N/K - 1) D (D = (TC + DTC)/N <= ln q), with equality for the all-equal law."""
    rows = []
    for family in families:
        for n in n_values:
            curve = family_curve(family, n)
            z = curve["z"]
            f = information.profile_from_curve(z)
            d = float(f.sum())
            for ratio in ratios:
                if n % ratio or n // ratio < 1:
                    continue
                sizes = schedules.balanced(n, n // ratio)
                e_fact = error.factorization_error(f, sizes)
                rows.append(
                    {
                        "family": family,
                        "label": curve["label"],
                        "n": n,
                        "k": n // ratio,
                        "ratio": ratio,
                        "e_fact": e_fact,
                        "D": d,
                        "bound": (ratio - 1) * d,
                        "bound_log_q": (ratio - 1) * curve["log_q"],
                        "violates": bool(e_fact > (ratio - 1) * d + 1e-12),
                    }
                )
    return pd.DataFrame(rows)


SCALING_PROFILES = ("flat", "power", "exp", "markov", "block_copy")
SCALING_SCHEDULES = ("balanced", "sqrt", "sqrt_continuum", "optimal")


def _scaling_schedule(name, z, k, g):
    if name == "sqrt_continuum":
        return schedules.schedule("sqrt_continuum", len(z), k=k, g=g)
    return evaluation.build(name, z, k)


@experiment("lz_scaling_limit")
def scaling_limit(
    seed: int = 0,
    profiles=SCALING_PROFILES,
    k_values=(4, 8, 16, 32, 64),
    n_factor: int = 16,
    ratios=(4, 8),
    n_values=(256, 512, 1024, 2048),
):
    """LZ Prop 13: the continuum limits, with f(l) ~ g(l/N)/N.

    Regime "A" (N/K -> infinity): K in ``k_values``, N = n_factor K^2; (K/N) E_fact -> D/2 for
    constant sizes and -> (int sqrt g)^2 / 2 for the square-root rule (discrete and continuum) and
    the DP optimum. Regime "B" (N/K = c fixed, N in ``n_values``): E_fact -> 1/2 int (s(u) - 1) g du:
    (c - 1) D / 2 for constant sizes; for the square-root rules the floor/ceil mix of the local
    size c G(1)/sqrt g; for the DP the integer-size optimum (:func:`integer_continuum_optimum`); the
    real-valued formula (c/2)(int sqrt g)^2 - D/2 is a lower bound. For DP-optimal schedules the
    column path_deviation is max_k |a_k / N - alpha*(k/K)|, alpha* = G^{-1}(t G(1))."""
    rows = []
    for profile in profiles:
        spec = limit_profile(profile)
        pred = continuum_predictions(spec["g"])
        bounded = {}  # (schedule kind, c) -> limit, computed once per profile
        cases = [("A", n_factor * k * k, k) for k in k_values]
        cases += [("B", n, n // c) for c in ratios for n in n_values if n % c == 0]
        curves = {}
        for regime, n, k in cases:
            if n not in curves:
                curves[n] = spec["curve"](n)
            z = curves[n]
            f = information.profile_from_curve(z)
            ratio = n / k
            for name in SCALING_SCHEDULES:
                sizes = _scaling_schedule(name, z, k, spec["g"])
                e_fact = error.factorization_error(f, sizes)
                if regime == "A":
                    measured = k / n * e_fact
                    prediction = pred["D"] / 2 if name == "balanced" else pred["sqrt_integral"] ** 2 / 2
                    real_formula = prediction
                else:
                    measured = e_fact
                    real_formula = ratio / 2 * pred["sqrt_integral"] ** 2 - pred["D"] / 2
                    if name == "balanced":
                        prediction = (ratio - 1) * pred["D"] / 2
                        real_formula = prediction
                    else:
                        kind = "optimal" if name == "optimal" else "sqrt"
                        if (kind, ratio) not in bounded:
                            limit = integer_continuum_optimum if kind == "optimal" else sqrt_rule_bounded_limit
                            bounded[kind, ratio] = limit(spec["g"], ratio)
                        prediction = bounded[kind, ratio]
                counts = schedules.counts_from_sizes(sizes)[1:]
                deviation = float(np.abs(counts / n - pred["alpha"](np.arange(1, k + 1) / k)).max())
                rows.append(
                    {
                        "regime": regime,
                        "profile": profile,
                        "label": spec["label"],
                        "n": n,
                        "k": k,
                        "ratio": ratio,
                        "schedule": name,
                        "e_fact": e_fact,
                        "measured": measured,
                        "prediction": prediction,
                        "real_formula": real_formula,
                        "relative_error": measured / prediction - 1,
                        "D_n": float(f.sum()),
                        "D_limit": pred["D"],
                        "sqrt_integral": pred["sqrt_integral"],
                        "path_deviation": deviation,
                    }
                )
    return pd.DataFrame(rows)


@experiment("lz_optimal_path")
def optimal_path(seed: int = 0, profiles=SCALING_PROFILES, n: int = 16384, k: int = 32, profile_points: int = 200, profile_n_values=(256, 4096, 65536)):
    """LZ Prop 13: the DP-optimal revealed fraction a_k / N and the square-root rule's against LZ's
    alpha*(t) = G^{-1}(t G(1)) (kind "path"), and the rescaled profile N f(uN) of each law against its
    limit g(u) (kind "profile"), including the exchangeable Gaussian, whose N f(uN) -> 0 (no limit g)."""
    rows = []
    for profile in profiles:
        spec = limit_profile(profile)
        pred = continuum_predictions(spec["g"])
        z = spec["curve"](n)
        t = np.arange(0, k + 1) / k
        for name in ("optimal", "sqrt"):
            counts = schedules.counts_from_sizes(evaluation.build(name, z, k))
            rows.append(pd.DataFrame({"kind": "path", "profile": profile, "label": spec["label"], "n": n, "k": k, "schedule": name, "x": t, "value": counts / n, "reference": pred["alpha"](t)}))
        for size in profile_n_values:
            zz = spec["curve"](size)
            l = np.unique(np.linspace(1, size - 1, profile_points).astype(int))
            u = l / size
            scaled = size * information.profile_from_curve(zz)[l - 1]
            rows.append(pd.DataFrame({"kind": "profile", "profile": profile, "label": spec["label"], "n": size, "k": 0, "schedule": "", "x": u, "value": scaled, "reference": spec["g"](u)}))
    for size in profile_n_values:
        gaussian = distributions.ExchangeableGaussian(size, 1.0)
        l = np.unique(np.linspace(1, size - 1, profile_points).astype(int))
        scaled = size * gaussian.profile()[l - 1]
        rows.append(pd.DataFrame({"kind": "profile", "profile": "gaussian", "label": "exchangeable Gaussian (rho=1)", "n": size, "k": 0, "schedule": "", "x": l / size, "value": scaled, "reference": 0.0}))
    return pd.concat(rows, ignore_index=True)


GAUSSIAN_SCHEDULES = ("balanced", "geometric", "sqrt", "optimal")


@experiment("lz_gaussian_errors")
def gaussian_errors(seed: int = 0, rho: float = 1.0, n_values=(256, 1024), k_values=(8, 10, 20)):
    """LZ exchangeable Gaussian example: E_fact of constant / geometric / square-root / DP schedules on the exchangeable
    Gaussian, by LZ's closed-form block TC and by CCL Thm 4 on its closed-form curve."""
    rows = []
    for n in n_values:
        gaussian = distributions.ExchangeableGaussian(n, rho)
        z = gaussian.information_curve()
        for k in k_values:
            for name in GAUSSIAN_SCHEDULES:
                sizes = evaluation.build(name, z, int(k))
                rows.append(
                    {
                        "n": n,
                        "k": int(k),
                        "rho": rho,
                        "schedule": name,
                        "e_fact": gaussian.schedule_error(sizes),
                        "thm4": error.expected_kl(z, sizes),
                        "s_max": int(sizes.max()),
                        "counts": schedules.format_sizes(schedules.counts_from_sizes(sizes)[1:]),
                    }
                )
    return pd.DataFrame(rows)


@experiment("lz_gaussian_steps")
def gaussian_steps(seed: int = 0, rho: float = 1.0, n_values=(16, 64, 256, 1024, 4096, 16384), eps: float = 0.1):
    """LZ exchangeable Gaussian example: the smallest K with E_fact <= eps for each schedule versus N (exchangeable Gaussian),
    with the error at K = log2(N + 1) (dyadic) for reference. Raises ValueError unless eps > 0 is finite."""
    if not 0 < eps < float("inf"):
        raise ValueError(f"eps must be positive and finite, got {eps!r}")
    rows = []
    for n in n_values:
        gaussian = distributions.ExchangeableGaussian(n, rho)
        z = gaussian.information_curve()
        for name in GAUSSIAN_SCHEDULES:
            k_min = evaluation.steps_to_reach(z, eps, name)
            sizes = evaluation.build(name, z, k_min)
            below = evaluation.build(name, z, k_min - 1) if k_min > 1 else None
            rows.append(
                {
                    "n": n,
                    "schedule": name,
                    "eps": eps,
                    "k_min": k_min,
                    "e_fact_at_k_min": gaussian.schedule_error(sizes),
                    "e_fact_below": gaussian.schedule_error(below) if below is not None else float("nan"),
                    "log2_n": math.log2(n),
                }
            )
    return pd.DataFrame(rows)


@experiment("lz_gaussian_dyadic")
def gaussian_dyadic(seed: int = 0, rho: float = 1.0, k_values=tuple(range(2, 13))):
    """LZ exchangeable Gaussian example: for rho = 1 and N = 2^K - 1 (and N = 2^K), is the DP optimum a_k = 2^k - 1? Compares
    the DP counts with the dyadic counts (a_K = N), their errors, and the smallest increase of the
    error when one dyadic a_k moves by +-1 (a strict local optimum when positive)."""
    rows = []
    for k in k_values:
        for n in (2**k - 1, 2**k):
            gaussian = distributions.ExchangeableGaussian(n, rho)
            z = gaussian.information_curve()
            dp_sizes, _ = schedules.optimal_schedule(z, k)
            dyadic = np.minimum(2 ** np.arange(1, k + 1) - 1, n)
            dyadic[-1] = n
            dyadic_error = gaussian.schedule_error(np.diff(np.concatenate([[0], dyadic])))
            margins = []
            for i in range(k - 1):
                for step in (-1, 1):
                    moved = dyadic.copy()
                    moved[i] += step
                    sizes = np.diff(np.concatenate([[0], moved]))
                    if np.all(sizes > 0):
                        margins.append(gaussian.schedule_error(sizes) - dyadic_error)
            dp_counts = schedules.counts_from_sizes(dp_sizes)[1:]
            rows.append(
                {
                    "k": k,
                    "n": n,
                    "rho": rho,
                    "dp_counts": schedules.format_sizes(dp_counts),
                    "dyadic_counts": schedules.format_sizes(dyadic),
                    "dp_is_dyadic": bool(np.array_equal(dp_counts, dyadic)),
                    "e_dp": gaussian.schedule_error(dp_sizes),
                    "e_dyadic": dyadic_error,
                    "min_neighbour_margin": min(margins) if margins else float("nan"),
                }
            )
    return pd.DataFrame(rows)
