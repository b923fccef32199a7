"""Evaluate many schedules on one information curve (exact, by CCL Thm 4).

Schedules that take a number of steps k (uniform, cosine, log-linear, polynomial, geometric, the
DP optimum and the LZ square-root rules) are built for each k by :func:`build`; schedules driven by a
target error (TC, DTC, Austin) are built by :func:`build_for_eps`.

Also here, because both papers' experiments need them:

* the DP optimum for many k in one pass (:func:`optimal_path`, :func:`optimal_errors`), used by
  :func:`evaluate` and :func:`steps_to_reach`;
* exact information curves of large laws in closed form (:func:`curve`, registry :data:`CURVES`):
  MDS codes, all-equal, Beta-Bernoulli, exchangeable mixtures of products, homogeneous Markov chains,
  the CCL Thm 25 lift, exchangeable Gaussian, the CCL Appendix-E curve; every other family falls back
  to ``make_family(...).information_curve()``;
* small analysis helpers: inverting the Li-Cai bound into a step count, fitting an O(log n) law,
  ratios to the optimum.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from . import distributions, error, information, schedules
from .error import expected_kl

__all__ = [
    "K_SCHEDULES",
    "EPS_SCHEDULES",
    "CURVES",
    "build",
    "build_for_eps",
    "thm9_schedule",
    "evaluate",
    "evaluate_for_eps",
    "steps_to_reach",
    "log_grid",
    "optimal_path",
    "optimal_errors",
    "next_boundary_error",
    "li_cai_steps",
    "fit_log_law",
    "ratio_to_optimal",
    "curve",
    "mds_curve",
    "markov_curve",
    "beta_bernoulli_curve",
    "exchangeable_mixture_curve",
]

K_SCHEDULES = ("uniform", "cosine", "loglinear", "polynomial", "geometric", "sqrt", "optimal")
EPS_SCHEDULES = ("tc", "dtc", "austin_cor34", "austin_thm10")


def build(name: str, z, k: int, **params) -> np.ndarray:
    """A k-step schedule ``name`` for the curve z (curve-aware schedules read z, others ignore it)."""
    n = len(z)
    if name in ("optimal", "sqrt"):
        return schedules.schedule(name, n, k=k, z=np.asarray(z), **params)
    return schedules.schedule(name, n, k=k, **params)


def thm9_schedule(name: str, n: int, eps: float, c: float) -> np.ndarray:
    """CCL Thm 9 schedule ``"tc"`` or ``"dtc"`` for the upper estimate c (of TC or DTC).

    With c = 0 (a product law), zeta = 1 + ceil(0 / eps) = 1 and the recursion N_1 = floor(n / 1)
    reveals everything at once: the one-shot schedule, which is then exact (handled here too, as
    the first core constructors divided by log(1 / (1 - 1/zeta)) = inf in that case).
    """
    if name not in ("tc", "dtc"):
        raise ValueError(f"thm9_schedule builds 'tc' or 'dtc', got {name!r}")
    if eps > 0 and c == 0:
        return schedules.one_shot(n)
    return schedules.schedule(name, n, eps=eps, **{name: c})


def build_for_eps(name: str, z, eps: float, slack: float = 1.0) -> np.ndarray:
    """A schedule targeting error eps from the scalar it needs (TC or DTC of z, times ``slack`` >= 1,
    i.e. an upper estimate as CCL Thm 9 assumes)."""
    n = len(z)
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    if name in ("tc", "dtc"):
        return thm9_schedule(name, n, eps, slack * (tc if name == "tc" else dtc))
    if name in ("austin_cor34", "austin_thm10"):
        return schedules.schedule(name, n, eps=eps, dtc=slack * dtc)
    raise ValueError(f"unknown eps-driven schedule {name!r}; expected one of {EPS_SCHEDULES}")


def _row(labels, name, sizes, z, **extra):
    return {
        **labels,
        "schedule": name,
        **extra,
        "steps": len(sizes),
        "max_size": int(sizes.max()),
        "expected_kl": expected_kl(z, sizes),
    }


def evaluate(z, ks, names=K_SCHEDULES, **labels) -> pd.DataFrame:
    """Exact expected KL of each named schedule at each k: one row per (schedule, k).

    The DP optimum is computed for every k in one pass (:func:`optimal_path`)."""
    z = information.check_curve(z)
    ks = [int(k) for k in ks if 1 <= k <= len(z)]
    rows = []
    for name in names:
        if name == "optimal":
            path = optimal_path(z, ks)
            rows += [_row(labels, name, path[k][0], z, k=k) for k in ks]
            continue
        rows += [_row(labels, name, build(name, z, k), z, k=k) for k in ks]
    return pd.DataFrame(rows)


def evaluate_for_eps(z, eps_values, names=EPS_SCHEDULES, slack: float = 1.0, **labels) -> pd.DataFrame:
    """Exact expected KL and step count of each eps-driven schedule (CCL Thm 9 TC / DTC, Austin Cor 34
    / Thm 10) built for each target eps from the true TC / DTC of z (times ``slack``).

    Columns add ``eps``, ``c`` (the estimate used) and ``thm9_bound`` = 2 + (1 + ln n)(1 + ceil(c / eps))
    (defined for all four; Thm 9 promises it only for tc / dtc)."""
    z = information.check_curve(z)
    n = len(z)
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    rows = []
    for name in names:
        c = slack * (tc if name == "tc" else dtc)
        for eps in eps_values:
            sizes = build_for_eps(name, z, float(eps), slack)
            rows.append(_row(labels, name, sizes, z, eps=float(eps), c=c, thm9_bound=error.thm9_step_bound(n, eps, c)))
    return pd.DataFrame(rows)


def steps_to_reach(z, eps: float, name: str, built_from=None, **params) -> int:
    """Smallest k for which the k-step schedule ``name`` has expected KL <= eps.

    Exact for the DP optimum (its error is nonincreasing in k; the DP runs layer by layer until the
    error is reached). Other schedules use bisection on k, exact when their error is nonincreasing
    in k (true of the usual grids in practice, not guaranteed). ``built_from``: build the schedules
    from this curve instead (e.g. a model's estimate) while scoring them on z. Raises ValueError
    unless eps is a positive number (inf: one step) and z a valid curve."""
    if not eps > 0:  # also NaN: no schedule reaches a meaningless target
        raise ValueError(f"eps must be positive, got {eps!r}")
    z = information.check_curve(z)
    n = len(z)
    if name == "optimal" and built_from is None:
        errors = optimal_errors(z, n, stop_at=eps)
        reached = np.flatnonzero(errors <= eps)
        return int(reached[0]) + 1 if len(reached) else n  # k = n is exact (rounding aside)

    def ok(k):
        return expected_kl(z, build(name, z if built_from is None else built_from, k, **params)) <= eps

    lo, hi = 1, n
    if ok(1):
        return 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def log_grid(n: int, points: int) -> np.ndarray:
    """About ``points`` integers from 1 to n, geometrically spaced, without repeats. Raises
    ValueError unless n >= 1 and points >= 1."""
    if not (n >= 1 and points >= 1):
        raise ValueError(f"n and points must be at least 1, got n={n!r}, points={points!r}")
    return np.unique(np.round(np.geomspace(1, n, points)).astype(int))


# --- the DP optimum for many k at once ------------------------------------------------------------


def _optimal_layers(z, k_max: int):
    """Yield (k, optimal k-step error, DP parents so far) for k = 1..k_max (CCL Eq. 1).

    Layer k of the DP of :func:`mdmsched.schedules.optimal_schedule` holds F_k(N), the best error of
    revealing N tokens in k steps, so F_k(n) for all k comes out of one pass of k_max layers."""
    z = information.check_curve(z)
    n = len(z)
    prefix = np.concatenate([[0.0], np.cumsum(z)])
    z_next = np.concatenate([z, [z[-1]]])
    previous = np.full(n + 1, np.inf)
    previous[0] = 0.0
    parents = []
    for steps in range(1, min(int(k_max), n) + 1):
        previous, argbest = schedules.dp_layer(previous, prefix, z_next, steps, n)
        parents.append(argbest)
        yield steps, max(float(previous[n]), 0.0), parents


def _backtrack(parents, n: int) -> np.ndarray:
    counts = [n]
    for argbest in reversed(parents):
        counts.append(int(argbest[counts[-1]]))
    return schedules.validate_sizes(np.diff(counts[::-1]), n)


def optimal_path(z, ks) -> dict:
    """The DP-optimal schedule and its error for every k in ``ks``: {k: (sizes, error)}.

    Same schedules as :func:`mdmsched.schedules.optimal_schedule` (same DP, same tie-breaking), in
    one pass of max(ks) layers instead of one DP per k."""
    n = len(z)
    wanted = {int(k) for k in ks if 1 <= k <= n}
    out = {}
    if not wanted:
        return out
    for steps, _, parents in _optimal_layers(z, max(wanted)):
        if steps in wanted:
            sizes = _backtrack(parents, n)
            out[steps] = (sizes, expected_kl(z, sizes))  # the Thm 4 sum itself, as optimal_schedule reports
    return out


def optimal_errors(z, k_max: int, stop_at: float | None = None) -> np.ndarray:
    """Optimal k-step expected KL for k = 1..k_max (fewer if the error falls to ``stop_at`` first)."""
    values = []
    for _, value, _ in _optimal_layers(z, k_max):
        values.append(value)
        if stop_at is not None and value <= stop_at:
            break
    return np.array(values)


def next_boundary_error(sizes, jump: int) -> int:
    """For a curve with a single unit jump after index ``jump`` (Z_j = 1[j > jump], e.g. an MDS code of
    dimension ``jump``, CCL Prop 20), the Thm 4 error of a schedule is (N - jump) for N the first
    revealed count >= jump: zero exactly when a step ends at ``jump``."""
    counts = schedules.counts_from_sizes(sizes)
    return int(counts[np.searchsorted(counts, jump)] - jump)


# --- analysis helpers ---------------------------------------------------------------------------


def li_cai_steps(n: int, tc: float, dtc: float, eps: float) -> int:
    """Steps the Li-Cai bound certifies (CCL Thm 31 / Remark 32): the fewest steps of a schedule whose
    largest step s_max has ((2^ceil(log2 s_max) - 1) / n)(TC + DTC) <= eps, i.e. ceil(n / s) for s the
    largest power of two with (s - 1)(TC + DTC) <= eps n."""
    total = tc + dtc
    if total <= 0:
        return 1
    largest = 1 + eps * n / total
    s = 2 ** math.floor(math.log2(largest))
    return math.ceil(n / min(s, n))


def fit_log_law(n_values, steps) -> dict:
    """Least squares fit steps = a + b ln n; returns a, b and R^2 (the O(log n) law of CCL Thm 9)."""
    x = np.log(np.asarray(n_values, dtype=np.float64))
    y = np.asarray(steps, dtype=np.float64)
    b, a = np.polyfit(x, y, 1)
    residual = y - (a + b * x)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return {"intercept": float(a), "slope": float(b), "r2": float(r2)}


def ratio_to_optimal(table: pd.DataFrame, by=("family",), value: str = "expected_kl", tol: float = 1e-12) -> pd.DataFrame:
    """Add ``optimal`` (the DP optimum's value at the same k within each group ``by``) and ``ratio`` =
    value / optimal; ratio is inf where the optimum is zero (<= tol) and the schedule is not, 1 where
    both are zero."""
    by = list(by)
    best = table[table.schedule == "optimal"][by + ["k", value]].rename(columns={value: "optimal"})
    out = table.merge(best, on=by + ["k"], how="left")
    zero_opt = out["optimal"] <= tol
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out[value] / out["optimal"]
    out["ratio"] = np.where(zero_opt, np.where(out[value] <= tol, 1.0, np.inf), ratio)
    return out


# --- exact information curves in closed form (large n) ------------------------------------------


def mds_curve(n: int, dim: int, q: int) -> np.ndarray:
    """Uniform law on a dim-dimensional MDS code over F_q (e.g. Reed-Solomon, parity = dim n - 1):
    Z_j = ln q 1[j > dim] (CCL Prop 20), without building the n x n generator."""
    return np.where(np.arange(1, n + 1) > dim, math.log(q), 0.0)


def markov_curve(chain) -> np.ndarray:
    """Exact Z of a homogeneous Markov chain (any initial law) in O(n^2), for n in the thousands.

    For S = {s_1 < ... < s_m}, H(X_S) = H(X_{s_1}) + sum_j H(X_{s_{j+1}} | X_{s_j}) (Markov property),
    and H(X_b | X_a) = sum_x P(X_a = x) H(P^{b-a}[x, .]). Averaging over |S| = i needs only
    P(min S = a) = C(n-1-a, i-1) / C(n, i) and P(a, b consecutive in S) = C(n-1-(b-a), i-2) / C(n, i)
    (0-based), which gives Hbar_i (CCL Def 12) and Z by Lemma 13."""
    n = chain.n
    marginals = chain.site_marginals  # (n, q), P(X_a = .)
    site_entropy = information.entropy_last_axis(marginals)  # H(X_a)
    row_entropy = information.entropy_last_axis(chain.powers[1:n])  # (n - 1, q): H(P^d[x, .]) for d = 1..n-1
    # sum over a = 0..n-1-d of P(X_a = .), then dotted with the row entropies at distance d
    cumulative = np.cumsum(marginals, axis=0)
    d = np.arange(1, n)
    pair_total = np.einsum("dq,dq->d", cumulative[n - 1 - d], row_entropy)  # sum_a H(X_{a+d} | X_a)
    i = np.arange(n + 1)[:, None]
    log_total = information.log_binomial(n, i)
    first = np.exp(information.log_binomial(n - 1 - np.arange(n)[None, :], i - 1) - log_total)  # (n+1, n)
    pairs = np.exp(information.log_binomial(n - 1 - d[None, :], i - 2) - log_total)  # (n+1, n-1)
    hbar = first @ site_entropy + pairs @ pair_total
    hbar[0] = 0.0
    return information.information_curve_from_entropy_curve(hbar)


def _binary_entropy(p):
    p = np.clip(p, 0.0, 1.0)
    return information.entropy_last_axis(np.stack([p, 1.0 - p], axis=-1))


def beta_bernoulli_curve(n: int, a: float = 1.0, b: float = 1.0) -> np.ndarray:
    """Exact Z of the Beta(a, b)-Bernoulli exchangeable law through conditional entropies:
    H_r = E H(X_j | r revealed) = sum_t P(t ones of r) h((a + t) / (a + b + r)), Z_{r+1} = H_0 - H_r.

    For a = b = 1 (Polya urn, uniform t) the sum has a closed form in prefix sums of u ln u, so the
    curve costs O(n): H_r = ((N - 1) ln N - (2 / N) sum_{u<N} u ln u) / (r + 1), N = r + 2. Other
    (a, b) use the family's O(n^2) entropy curve."""
    if a == 1.0 and b == 1.0:
        u = np.arange(1, n + 2, dtype=np.float64)
        prefix = np.concatenate([[0.0], np.cumsum(u * np.log(u))])  # prefix[m] = sum_{u<=m} u ln u
        r = np.arange(n, dtype=np.float64)
        big_n = r + 2
        h = ((big_n - 1) * np.log(big_n) - 2.0 / big_n * prefix[(big_n - 1).astype(int)]) / (r + 1)
        return h[0] - h
    return distributions.BetaBernoulli(n, a, b).information_curve()


def exchangeable_mixture_curve(n: int, weights, thetas, width: float = 10.0) -> np.ndarray:
    """Exact Z of a mixture of i.i.d. Bernoulli(theta_c) products with weights w_c (a mixture of
    m products, DTC <= ln m; CCL Example 2) through conditional entropies
    H_r = sum_c w_c E_{t ~ Bin(r, theta_c)} h(P(X_j = 1 | t ones among r revealed)), Z_{r+1} = H_0 - H_r.

    Each binomial expectation is summed over ``width`` standard deviations around r theta_c (the
    mass left out is below 2 e^{-width^2/2}), vectorized over blocks of r: O(n^1.5) work."""
    w = np.asarray(weights, dtype=np.float64)
    th = np.asarray(thetas, dtype=np.float64)
    if w.shape != th.shape or not np.isclose(w.sum(), 1) or np.any((th <= 0) | (th >= 1)):
        raise ValueError("weights must sum to 1 and thetas lie in (0, 1), one per component")
    log_w, log_t, log_1t = np.log(w), np.log(th), np.log1p(-th)
    h = np.zeros(n)
    for begin in range(0, n, 256):
        r = np.arange(begin, min(begin + 256, n), dtype=np.float64)[:, None]  # (R, 1)
        for theta in th:
            half = math.ceil(width * math.sqrt(r[-1, 0] * theta * (1 - theta)) + width)
            t = np.round(r * theta) + np.arange(-half, half + 1)[None, :]  # (R, T)
            valid = (t >= 0) & (t <= r)
            t = np.clip(t, 0, r)
            log_joint = log_w[:, None, None] + t[None] * log_t[:, None, None] + (r - t)[None] * log_1t[:, None, None]
            log_count = logsumexp(log_joint, axis=0)  # log P(t ones | r), up to C(r, t)
            predictive = np.einsum("crt,c->rt", np.exp(log_joint - log_count), th)
            log_binomial = information.log_binomial(r, t)
            pmf = np.exp(log_binomial + t * np.log(theta) + (r - t) * np.log1p(-theta))
            component = w[th == theta].sum() / np.count_nonzero(th == theta)
            h[begin : begin + len(r)] += component * np.sum(np.where(valid, pmf * _binary_entropy(predictive), 0.0), axis=1)
    return h[0] - h


def _code_lift_curve(n: int, k: int, q: int, stay: float = 0.9, seed: int = 0) -> np.ndarray:
    """CCL Thm 25: Z(mu* x code_k) = Z(mu*) + ln q 1[j > k] = Z^{up k}, mu* the binary Markov chain."""
    return markov_curve(distributions.MarkovChain.symmetric(n, 2, stay)) + mds_curve(n, k, q)


CURVES = {
    "mds_code": lambda n, dim, q: mds_curve(n, dim, q),
    "parity": lambda n, q=2, seed=None: mds_curve(n, n - 1, q),
    "reed_solomon": lambda n, k, q, seed=0: mds_curve(n, k, q),
    "all_equal": lambda n, q, weights=None: distributions.AllEqual(n, q, weights).information_curve(),
    "beta_bernoulli": beta_bernoulli_curve,
    "exchangeable_mixture": exchangeable_mixture_curve,
    "markov": lambda n, q=2, stay=0.9: markov_curve(distributions.MarkovChain.symmetric(n, q, stay)),
    "code_lift": _code_lift_curve,
    "exchangeable_gaussian": lambda n, rho=1.0: distributions.ExchangeableGaussian(n, rho).information_curve(),
    "appendix_e": lambda n, eps: distributions.appendix_e_curve(n, eps),
}


def curve(name: str, n: int, **params) -> np.ndarray:
    """Exact information curve Z_1..Z_n (nats) of the law ``name`` of length n: a closed form from
    :data:`CURVES` when there is one (cheap for large n), else the family's own exact curve
    (``make_family(name, n=n, **params).information_curve()``, enumeration for small n)."""
    if name in CURVES:
        try:
            return np.asarray(CURVES[name](n, **params), dtype=np.float64)
        except TypeError as problem:
            raise ValueError(f"bad parameters {params} for curve {name!r}: {problem}") from None
    return distributions.make_family(name, n=n, **params).information_curve()
