"""Experiments for Lavenant, Zanella (2025), *Error bounds and optimal schedules for masked
diffusions with factorized approximations* (spec section 3; notation LZ: N tokens, K steps, revealed
counts a_0 = 0 < a_1 < .. < a_K = N, profile f(l) = H_{l-1} - H_l = Z_{l+1} - Z_l, D = sum f).

Every table is exact: closed-form or enumerated information curves, the LZ / CCL Thm 4 error
formula, and exact fixed-set laws for small instances. The helpers at the top give exact curves at
large N that the core does not have (stationary Markov chains without cancellation at any N,
block-copy laws without a (#blocks, N) array, discretized continuous profiles) and the
continuum-limit profiles g(u) = lim N f(uN); other large curves come from
:mod:`mdmsched.evaluation`.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd
from scipy import optimize

from .. import distributions, error, evaluation, information, schedules
from . import experiment

__all__ = [
    "markov_information_curve",
    "markov_limit_profile",
    "block_copy_information_curve",
    "discretized_profile_curve",
    "block_copy_limit_profile",
    "family_curve",
    "limit_profile",
    "continuum_predictions",
    "integer_continuum_optimum",
    "sqrt_rule_bounded_limit",
]


# ----------------------------------------------------------------------------------------------
# Exact curves at large N and limit profiles
# ----------------------------------------------------------------------------------------------


def _lag_mutual_information(chain: distributions.MarkovChain, max_lag: int, tol: float) -> np.ndarray:
    """I(X_0; X_d) for d = 0..L of a stationary chain, truncated once it falls below ``tol``."""
    pi = chain.init
    h_pi = information.entropy(pi)
    values = [h_pi]
    power = np.eye(chain.q)
    for _ in range(max_lag):
        power = power @ chain.transition
        conditional = float(np.dot(pi, -information.xlogx(power).sum(axis=1)))  # H(X_d | X_0)
        values.append(max(h_pi - conditional, 0.0))
        if values[-1] < tol:
            break
    return np.array(values)


def markov_information_curve(chain: distributions.MarkovChain, tol: float = 1e-18) -> np.ndarray:
    """Exact information curve Z_1..Z_N of a *stationary* Markov chain at any N, in O(N L).

    For a revealed set A (|A| = a) and a masked j with nearest revealed neighbours at distances L
    (left) and R (right), the Markov property gives H(X_j | X_A) = H(pi) - I(L) - I(R) + I(L + R),
    with I(d) = I(X_0; X_d) the lag mutual information (I(none) = 0). Averaging over j and A:
    Z_{a+1} = (1/N) [2 sum_l (N - l) p_a(l) I(l) - sum_m (m - 1)(N - m) q_a(m) I(m)], where
    p_a(l) = P(j-l in A, j-l+1..j-1 not in A) and q_a(m) the two-sided analogue (m = L + R), both
    products of hypergeometric factors. I(d) decays geometrically, so the sums stop at the lag L
    where I < ``tol``. No cancellation: Z is computed directly, not as a difference of entropies.
    """
    if not np.allclose(chain.init, chain.stationary(), atol=1e-12):
        raise ValueError("markov_information_curve needs a stationary chain (init = stationary law)")
    n = chain.n
    lag_mi = _lag_mutual_information(chain, n - 1, tol)
    lags = len(lag_mi) - 1  # I(d) used for d = 1..lags
    if lags < 1:
        return np.zeros(n)
    d = np.arange(1, lags + 1)
    z = np.zeros(n)
    for start in range(1, n, 2048):
        a = np.arange(start, min(start + 2048, n), dtype=np.float64)[:, None]
        # survival[t] = P(t given positions are all outside A), t = 0..lags
        t = np.arange(lags + 1, dtype=np.float64)[None, :]
        factors = np.clip((n - 1 - a - t) / np.maximum(n - 1 - t, 1.0), 0.0, None)
        survival = np.concatenate([np.ones((len(a), 1)), np.cumprod(factors, axis=1)[:, :-1]], axis=1)
        one_sided = survival[:, d - 1] * a / np.maximum(n - d, 1)  # p_a(l), l = d
        weight_one = np.where(d < n, (n - d) * lag_mi[d], 0.0)
        m = d[d >= 2]
        two_sided = survival[:, m - 2] * a * (a - 1) / np.maximum((n - m + 1) * (n - m), 1)
        weight_two = np.where(m < n, (m - 1) * (n - m) * lag_mi[m], 0.0)
        z[start : start + len(a)] = (2 * one_sided @ weight_one - two_sided @ weight_two) / n
    return np.maximum(z, 0.0)  # z[a] holds Z_{a+1}; Z_1 = 0


def markov_limit_profile(chain: distributions.MarkovChain, u, tol: float = 1e-18) -> np.ndarray:
    """g(u) = lim N f(uN) for a stationary chain: with revealed density u the gaps L, R are
    independent Geometric(u), so Z(u) = 2 E I(L) - E I(L + R) and g = Z'(u), namely
    g(u) = sum_l [2 (1-u)^{l-2} (1 - l u)] I(l) - sum_m (m-1) u (1-u)^{m-3} (2 - m u) I(m)."""
    u = np.atleast_1d(np.asarray(u, dtype=np.float64))
    lag_mi = _lag_mutual_information(chain, 100_000, tol)
    lags = len(lag_mi) - 1
    g = np.zeros(len(u))
    for start in range(0, len(u), 8192):
        v = u[start : start + 8192, None]
        # powers[:, j] = (1 - u)^j, j = 0..lags, by cumulative products (cheaper than pow)
        powers = np.concatenate([np.ones_like(v), np.cumprod(np.broadcast_to(1.0 - v, (len(v), lags)), axis=1)], axis=1)
        d = np.arange(1, lags + 1)
        mi = lag_mi[1:]
        one = powers[:, d - 1] - (d - 1) * v * powers[:, np.maximum(d - 2, 0)]  # d/du u (1-u)^{d-1}
        two = 2 * v * powers[:, np.maximum(d - 2, 0)] - (d - 2) * v**2 * powers[:, np.maximum(d - 3, 0)]  # d/du u^2 (1-u)^{d-2}
        two = np.where(d >= 2, (d - 1) * two, 0.0)
        g[start : start + len(v)] = (2 * one - two) @ mi
    return g


def block_copy_information_curve(block_sizes, q: int) -> np.ndarray:
    """Exact Z_1..Z_N of the LZ block-copy law in O(N * distinct sizes * s_max), any N.

    A token's conditional entropy given a random set A (|A| = a, among the N - 1 other positions)
    is ln q unless one of its s - 1 block mates is revealed, so
    Z_{a+1} = ln q [1 - (1/N) sum_blocks s C(N - s, a) / C(N - 1, a)], the ratio of binomials taken
    as a product of a-dependent factors (no large intermediate; the core's
    ``BlockCopy.information_curve`` holds a (#blocks, N) array and is used for checks only)."""
    sizes, counts = np.unique(np.asarray(block_sizes, dtype=np.int64), return_counts=True)
    n = int(np.sum(sizes * counts))
    a = np.arange(n, dtype=np.float64)
    untouched = np.zeros(n)
    for s, count in zip(sizes, counts):
        ratio = np.ones(n)
        for i in range(int(s) - 1):  # P(the s - 1 block mates all avoid A)
            ratio *= np.clip((n - 1 - a - i) / (n - 1 - i), 0.0, None)
        untouched += s * count * ratio
    return math.log(q) * np.maximum(1.0 - untouched / n, 0.0)


def discretized_profile_curve(g: Callable, n: int) -> np.ndarray:
    """The curve of a continuous profile g on [0, 1] at N points: f(l) = g(l/N)/N, l = 1..N-1, and
    Z_1 = 0, Z_{j+1} = Z_j + f(j). It is a legitimate information curve (Z_1 = 0, nondecreasing) whose
    rescaled profile N f(uN) equals g exactly, so LZ's continuum limits hold with no model error."""
    l = np.arange(1, n, dtype=np.float64)
    f = np.maximum(np.asarray(g(l / n), dtype=np.float64), 0.0) / n
    return np.concatenate([[0.0], np.cumsum(f)])


def block_copy_limit_profile(block: int, q: int) -> Callable:
    """g(u) = (b - 1)(1 - u)^{b - 2} ln q for block-copy laws with all blocks of size b: a token's
    conditional entropy is ln q while none of its b - 1 block mates is revealed, so
    H(u) = ln q (1 - u)^{b-1} and g = -H'."""
    return lambda u: (block - 1) * (1 - np.asarray(u, dtype=np.float64)) ** (block - 2) * math.log(q)


_GRID = np.linspace(0.0, 1.0, 200_001)  # quadrature grid of the continuum predictions

# Synthetic continuous profiles (each with int g = 1).
_EXP_RATE = 6.0
SYNTHETIC_PROFILES: dict[str, Callable] = {
    "flat": lambda u: np.ones_like(np.asarray(u, dtype=np.float64)),
    "power": lambda u: 3.0 * np.asarray(u, dtype=np.float64) ** 2,
    "exp": lambda u: _EXP_RATE * np.exp(-_EXP_RATE * np.asarray(u, dtype=np.float64)) / (1 - math.exp(-_EXP_RATE)),
}

# Families of the profile and error-vs-K panels (item 7), with their parameters.
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


def _next_prime(value: int) -> int:
    candidate = max(value, 2)
    while any(candidate % p == 0 for p in range(2, int(math.isqrt(candidate)) + 1)):
        candidate += 1
    return candidate


def family_curve(name: str, n: int) -> dict:
    """Exact curve of one LZ panel family at length n: dict(z, q, log_q, label, how).

    ``log_q`` is ln |Sigma| (nan for the Gaussian, a continuous law); ``how`` says how the curve is
    computed (closed form / exact formula)."""
    if name == "markov":
        chain = distributions.MarkovChain.symmetric(n, 2, 0.9)
        z, q, how = markov_information_curve(chain), 2, "lag-MI formula (exact)"
    elif name == "mixture":
        z = evaluation.exchangeable_mixture_curve(n, np.full(4, 0.25), MIXTURE_THETAS)
        q, how = 2, "exchangeable closed form"
    elif name == "beta_bernoulli":
        z, q, how = evaluation.beta_bernoulli_curve(n, 1.0, 1.0), 2, "closed form"
    elif name == "gaussian":
        z, q, how = distributions.ExchangeableGaussian(n, 1.0).information_curve(), None, "closed form"
    elif name == "block_copy":
        if n % 4:
            raise ValueError(f"block_copy uses blocks of 4: n must be a multiple of 4, got {n}")
        z, q, how = block_copy_information_curve([4] * (n // 4), 3), 3, "closed form"
    elif name == "parity":
        z, q, how = distributions.parity(n, 2).information_curve(), 2, "MDS closed form"
    elif name == "reed_solomon":
        q = _next_prime(n + 1)
        z, how = distributions.reed_solomon(n, max(n // 2, 1), q).information_curve(), "MDS closed form"
    elif name == "all_equal":
        z, q, how = distributions.AllEqual(n, 2).information_curve(), 2, "closed form"
    else:
        raise ValueError(f"unknown LZ family {name!r}; expected one of {sorted(FAMILY_LABELS)}")
    return {
        "z": np.asarray(z, dtype=np.float64),
        "q": q,
        "log_q": math.log(q) if q else float("nan"),
        "label": FAMILY_LABELS[name],
        "how": how,
    }


def limit_profile(name: str) -> dict:
    """A profile with a continuum limit (item 10): dict(g, curve(n), label).

    Synthetic profiles are discretized exactly (``discretized_profile_curve``); ``markov`` (q=2,
    stay 0.9) and ``block_copy`` (blocks of 4, q=2) are real laws whose exact curves converge to g."""
    if name in SYNTHETIC_PROFILES:
        g = SYNTHETIC_PROFILES[name]
        labels = {"flat": "g = 1", "power": "g = 3u^2", "exp": f"g ~ exp(-{_EXP_RATE:g} u)"}
        return {"g": g, "curve": lambda n: discretized_profile_curve(g, n), "label": f"synthetic {labels[name]}"}
    if name == "markov":
        template = distributions.MarkovChain.symmetric(8, 2, 0.9)
        nodes = np.linspace(0.0, 1.0, 20_001)  # g is smooth: tabulated once, linear interpolation error < 1e-8
        table = markov_limit_profile(template, nodes)
        return {
            "g": lambda u: np.interp(u, nodes, table),
            "curve": lambda n: markov_information_curve(distributions.MarkovChain.symmetric(n, 2, 0.9)),
            "label": "Markov chain (q=2, stay 0.9)",
        }
    if name == "block_copy":
        return {
            "g": block_copy_limit_profile(4, 2),
            "curve": lambda n: block_copy_information_curve([4] * (n // 4), 2),
            "label": "block copy (blocks of 4, q=2)",
        }
    raise ValueError(f"unknown limit profile {name!r}; expected one of {sorted(SYNTHETIC_PROFILES) + ['markov', 'block_copy']}")


def _integrate(values) -> float:
    from scipy.integrate import simpson

    return float(simpson(values, x=_GRID))


def continuum_predictions(g: Callable) -> dict:
    """int g (= D in the limit), (int sqrt g)^2, and alpha*(t) = G^{-1}(t G(1)) on a fine grid (LZ)."""
    values = np.maximum(np.asarray(g(_GRID), dtype=np.float64), 0.0)
    root = np.sqrt(values)
    big_g = np.concatenate([[0.0], np.cumsum((root[1:] + root[:-1]) / 2 * np.diff(_GRID))])
    return {
        "D": _integrate(values),
        "sqrt_integral": _integrate(root),
        "alpha": lambda t: np.interp(np.asarray(t) * big_g[-1], big_g, _GRID),
    }


def _best_integer_size(g_values, lam):
    """argmin over integers s >= 1 of (s - 1) g / 2 + lam / s, and the minimum."""
    continuous = np.sqrt(2 * lam / np.maximum(g_values, 1e-300))
    best_value = np.full_like(g_values, np.inf)
    best_size = np.ones_like(g_values)
    for s in (np.floor(continuous), np.ceil(continuous)):
        s = np.clip(s, 1.0, 1e12)
        value = (s - 1) * g_values / 2 + lam / s
        better = value < best_value
        best_value = np.where(better, value, best_value)
        best_size = np.where(better, s, best_size)
    return best_size, best_value


def integer_continuum_optimum(g: Callable, ratio: float) -> float:
    """Limit of the DP-optimal E_fact when N/K -> c = ``ratio`` (bounded regime), integer sizes.

    Locally a block of size s costs s (s - 1) g / (2N), so a schedule with local size s(u) pays
    E = 1/2 int (s(u) - 1) g(u) du subject to int 1/s(u) du = 1/c; sizes are integers, and mixing
    neighbouring sizes makes the local cost the chord of s -> (s - 1)/2 over 1/s. The optimum is the
    Lagrangian dual max_lam int min_{s in N} [(s - 1) g / 2 + lam / s] du - lam / c (strong duality
    for the convexified problem). Compare: the real-valued formula (c/2)(int sqrt g)^2 - D/2."""
    values = np.maximum(np.asarray(g(_GRID), dtype=np.float64), 0.0)

    def negative_dual(lam):
        return -(_integrate(_best_integer_size(values, lam)[1]) - lam / ratio)

    top = ratio**2 * max(values.max(), 1e-12) * 4
    result = optimize.minimize_scalar(negative_dual, bounds=(0.0, top), method="bounded", options={"xatol": 1e-12})
    return float(-result.fun)


def sqrt_rule_bounded_limit(g: Callable, ratio: float) -> float:
    """Limit of E_fact for the discrete square-root rule when N/K -> c: its local mean size is
    sigma(u) = c G(1) / sqrt g(u) (needs sigma >= 1), realized by steps of floor and ceil of sigma;
    a fraction p = m + 1 - sigma of steps of size m = floor(sigma) gives a local cost per unit
    length [p m (m-1) + (1-p) m (m+1)] / (2 sigma) times g."""
    values = np.maximum(np.asarray(g(_GRID), dtype=np.float64), 0.0)
    root = np.sqrt(values)
    sigma = ratio * _integrate(root) / np.maximum(root, 1e-300)
    if sigma.min() < 1 - 1e-9:
        return float("nan")
    sigma = np.minimum(sigma, 1e12)  # where g = 0 the cost is 0 whatever the size
    m = np.floor(sigma)
    p = m + 1 - sigma
    cost = (p * m * (m - 1) + (1 - p) * m * (m + 1)) / (2 * sigma)
    return _integrate(np.where(values > 0, cost * values, 0.0))


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _sizes_label(sizes) -> str:
    return "-".join(str(int(s)) for s in sizes)


def _blocks_label(blocks) -> str:
    """'3-2-1', or '2 x 96' for many equal blocks."""
    if len(set(blocks)) == 1 and len(blocks) > 4:
        return f"{blocks[0]} x {len(blocks)}"
    return _sizes_label(blocks)


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
    """LZ decomposition and the LZ = CCL identity, exactly, on small laws (spec section 3).

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
                "sizes": _sizes_label(sizes),
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
                "sizes": _sizes_label(sizes),
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
    """Item 7: the LZ information profile f(l) = Z_{l+1} - Z_l, l = 1..N-1, of each family, with
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
def error_vs_k(seed: int = 0, n: int = 64, k_points: int = 12, families=tuple(FAMILY_LABELS), names=("uniform", "sqrt", "geometric", "optimal")):
    """Item 7: E_fact (LZ form) versus K for constant, square-root-rule, geometric and DP-optimal
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
    """Item 8: the block-copy law (each block a copy of one uniform symbol) under a deterministic
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
        z = block_copy_information_curve(blocks, q)
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
    """Item 9: constant sizes s = N/K at fixed ratio N/K as N grows: E_fact against LZ's
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
                sizes = schedules.uniform(n, n // ratio)
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
SCALING_SCHEDULES = ("uniform", "sqrt", "sqrt_continuum", "optimal")


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
    """Item 10: LZ's continuum limits, with f(l) ~ g(l/N)/N.

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
                    prediction = pred["D"] / 2 if name == "uniform" else pred["sqrt_integral"] ** 2 / 2
                    real_formula = prediction
                else:
                    measured = e_fact
                    real_formula = ratio / 2 * pred["sqrt_integral"] ** 2 - pred["D"] / 2
                    if name == "uniform":
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
    """Item 10: the DP-optimal revealed fraction a_k / N and the square-root rule's against LZ's
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


GAUSSIAN_SCHEDULES = ("uniform", "geometric", "sqrt", "optimal")


@experiment("lz_gaussian_errors")
def gaussian_errors(seed: int = 0, rho: float = 1.0, n_values=(256, 1024), k_values=(8, 10, 20)):
    """Item 11: E_fact of constant / geometric / square-root / DP schedules on the exchangeable
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
                        "counts": _sizes_label(schedules.counts_from_sizes(sizes)[1:]),
                    }
                )
    return pd.DataFrame(rows)


@experiment("lz_gaussian_steps")
def gaussian_steps(seed: int = 0, rho: float = 1.0, n_values=(16, 64, 256, 1024, 4096, 16384), eps: float = 0.1):
    """Item 11: the smallest K with E_fact <= eps for each schedule versus N (exchangeable Gaussian),
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
    """Item 11: for rho = 1 and N = 2^K - 1 (and N = 2^K), is the DP optimum a_k = 2^k - 1? Compares
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
                    "dp_counts": _sizes_label(dp_counts),
                    "dyadic_counts": _sizes_label(dyadic),
                    "dp_is_dyadic": bool(np.array_equal(dp_counts, dyadic)),
                    "e_dp": gaussian.schedule_error(dp_sizes),
                    "e_dyadic": dyadic_error,
                    "min_neighbour_margin": min(margins) if margins else float("nan"),
                }
            )
    return pd.DataFrame(rows)
