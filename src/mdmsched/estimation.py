"""Information curves and factorization gaps estimated with an oracle on sequences, by Monte Carlo.

The one estimator of both: everything here takes ANY conditional-marginal oracle (an exact family of
:mod:`mdmsched.distributions` or a trained model, :class:`mdmsched.mdm.oracle.ModelOracle`), so one
code path gives Monte Carlo curves of laws too large to enumerate, checks against exact curves and
estimates for trained models. Only numpy and scipy.

* Loss curve: for each sequence x draw one random order; revealing its first a positions gives the
  per-token cross-entropy ``L(a) = mean_{j not in A} -log p(x_j | x_A)`` and the oracle's own
  predictive entropy averaged over the same masked positions. With the exact oracle and x ~ mu both
  have expectation ``H_a = E H(X_j | X_A)``, |A| = a (the entropy is the Rao-Blackwellized one: the
  conditional expectation of the cross-entropy given the revealed tokens); with a model the
  cross-entropy is ``H_a + excess loss(a) >= H_a`` (LZ, "profile from a trained model").
* Information curve (CCL Lemma 13): ``Z_{a+1} = H_0 - H_a``, the LZ profile ``f(l) = H_{l-1} - H_l``
  and CCL Lemma 8 ``TC = sum_j Z_j``, ``DTC = n Z_n - TC``. :func:`information_curve_monte_carlo`
  reports the unbiased sample means with standard errors across samples;
  :func:`fit_information_curve` / :func:`estimate_information_curve` fit the mean curve monotonely
  (``H_a`` is nonincreasing in a: conditioning reduces entropy; weighted isotonic regression), with
  bands and standard errors from a bootstrap over sequences that refits every replicate.
* Factorization gap: :func:`mdmsched.sampler.schedule_log_likelihood` scores x under the
  random-order sampler of a schedule (CCL Sec 2: every position of a step is drawn from the oracle
  given the same revealed set); the one-token-at-a-time score minus it is the gap paid for parallel
  steps. With the exact oracle and x ~ mu its mean is the expected KL of CCL Def 1 / Thm 4.

All quantities are in nats unless a name says bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression

from .information import curve_from_conditional_entropies, dtc_from_curve, profile_from_curve, tc_from_curve
from .sampler import random_orders, schedule_log_likelihood, schedule_log_likelihoods, step_of_position
from .schedules import validate_sizes

__all__ = [
    "oracle_log_probabilities",
    "LossCurve",
    "loss_curve",
    "information_curve_monte_carlo",
    "CurveEstimate",
    "fit_information_curve",
    "estimate_information_curve",
    "FactorizationGap",
    "one_at_a_time_log_likelihood",
    "factorization_gap",
    "factorization_gaps",
]


def oracle_log_probabilities(oracle, x, revealed) -> np.ndarray:
    """log p(X_i = . | x_revealed), float64 (m, n, q), using the oracle's log method if it has one
    (more accurate for tiny probabilities), else the log of its conditional marginals."""
    log_method = getattr(oracle, "log_conditional_marginals", None)
    if log_method is not None:
        return np.asarray(log_method(x, revealed), dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(oracle.conditional_marginals(x, revealed), dtype=np.float64))


def _check_sequences(oracle, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != oracle.n or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"x must be an integer array (m, n={oracle.n}), got {x.shape} {x.dtype}")
    if len(x) < 2:
        raise ValueError("need at least 2 sequences for standard errors")
    return x.astype(np.int64, copy=False)


def _check_orders(orders, m: int, n: int, rng) -> np.ndarray:
    if orders is None:
        if rng is None:
            raise ValueError("pass rng (np.random.Generator) or explicit orders")
        return random_orders(m, n, rng)
    orders = np.asarray(orders, dtype=np.int64)
    if orders.shape != (m, n) or np.any(np.sort(orders, axis=1) != np.arange(n)):
        raise ValueError(f"orders must hold one permutation of 0..{n - 1} per sequence, shape {(m, n)}")
    return orders


@dataclass(frozen=True)
class LossCurve:
    """Per-sequence loss curve: ``cross_entropy[i, g]`` and ``entropy[i, g]`` are the mean over the
    masked positions of -log p(x_j | x_A) and of the predictive entropy, for sequence i with the
    first ``grid[g]`` positions of its order revealed (nats)."""

    grid: np.ndarray
    cross_entropy: np.ndarray
    entropy: np.ndarray

    def mean_and_se(self, statistic: str = "cross_entropy"):
        """Means across sequences and their standard errors, each of shape (len(grid),)."""
        values = getattr(self, statistic)
        return values.mean(axis=0), values.std(axis=0, ddof=1) / math.sqrt(len(values))


def _check_grid(grid, n: int) -> np.ndarray:
    grid = np.arange(n) if grid is None else np.unique(np.asarray(grid, dtype=np.int64))
    if grid.size == 0 or grid[0] < 0 or grid[-1] > n - 1:
        raise ValueError(f"grid values a must lie in 0..n-1={n - 1}")
    return grid


def loss_curve(oracle, x, grid=None, rng: np.random.Generator | None = None, orders=None,
               batch_size: int = 256) -> LossCurve:
    """Cross-entropy and predictive entropy with a revealed tokens, per sequence (module doc).

    One random order per sequence (``rng``, or explicit ``orders``), shared by every a in ``grid``
    (default all a = 0..n-1), so the differences L(a) - L(a') have low variance. One oracle call per
    a and chunk of ``batch_size`` sequences gives all masked positions at once.
    """
    x = _check_sequences(oracle, x)
    m, n = x.shape
    grid = _check_grid(grid, n)
    ranks = step_of_position(_check_orders(orders, m, n, rng), np.ones(n, dtype=np.int64))
    cross_entropy = np.empty((m, len(grid)))
    entropy = np.empty((m, len(grid)))
    for start in range(0, m, batch_size):
        rows = slice(start, start + batch_size)
        for g, a in enumerate(grid):
            revealed = ranks[rows] < a
            log_p = oracle_log_probabilities(oracle, x[rows], revealed)
            masked = ~revealed
            true_log_p = np.take_along_axis(log_p, x[rows, :, None], axis=2)[..., 0]
            with np.errstate(invalid="ignore"):  # 0 * log 0 = 0
                token_entropy = -np.where(log_p > -np.inf, np.exp(log_p) * log_p, 0.0).sum(axis=2)
            cross_entropy[rows, g] = -(true_log_p * masked).sum(axis=1) / (n - a)
            entropy[rows, g] = (token_entropy * masked).sum(axis=1) / (n - a)
    return LossCurve(grid, cross_entropy, entropy)


def information_curve_monte_carlo(family, m: int, rng: np.random.Generator, batch_size: int = 256) -> dict:
    """Information curve, TC and DTC of a law by Monte Carlo with its exact oracle, not fitted.

    Draws m samples x ~ mu from ``family`` (its ``sample`` and its exact oracle), then one random
    order each (``rng``), and takes the predictive-entropy statistic of :func:`loss_curve`: an
    unbiased estimate of H_0..H_{n-1} per sample, hence of Z = H_0 - H (CCL Lemma 13), TC and DTC
    (CCL Lemma 8) per sample. Returns the means with standard errors across samples: ``z`` and
    ``z_se`` float64 (n,) for Z_1..Z_n (Z_1 = 0 exactly), and floats ``tc``, ``tc_se``, ``dtc``,
    ``dtc_se``, all in nats. The mean curve may dip by noise (fit it monotonely, or use
    :func:`estimate_information_curve`). Raises ValueError unless m is an integer >= 2 (standard
    errors need two samples).
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"m (number of samples) must be an integer >= 2, got {m!r}")
    x = family.sample(m, rng)
    h = loss_curve(family, x, rng=rng, batch_size=batch_size).entropy
    z = h[:, :1] - h  # per-sample Z, CCL Lemma 13
    tc = z.sum(axis=1)
    dtc = family.n * z[:, -1] - tc

    def se(values):
        return values.std(axis=0, ddof=1) / math.sqrt(len(values))

    return {"z": z.mean(axis=0), "z_se": se(z), "tc": float(tc.mean()), "tc_se": float(se(tc)),
            "dtc": float(dtc.mean()), "dtc_se": float(se(dtc))}


@dataclass(frozen=True)
class CurveEstimate:
    """Estimated conditional entropies, information curve (CCL Def 3), LZ profile, TC and DTC.

    ``grid``, ``loss_mean``, ``loss_se``: the raw mean curve L(a) being fitted and its standard
    errors. ``conditional_entropies`` H_0..H_{n-1} (monotone fit, interpolated between grid
    points), ``information_curve`` Z_1..Z_n with bootstrap band ``information_curve_lower`` /
    ``_upper`` at level ``confidence``, ``profile`` f(1..n-1) >= 0, and TC, DTC with bootstrap
    standard errors. All in nats.
    """

    grid: np.ndarray
    loss_mean: np.ndarray
    loss_se: np.ndarray
    conditional_entropies: np.ndarray
    information_curve: np.ndarray
    information_curve_lower: np.ndarray
    information_curve_upper: np.ndarray
    profile: np.ndarray
    tc: float
    tc_se: float
    dtc: float
    dtc_se: float
    confidence: float


def _fit_conditional_entropies(grid, means, weights, n) -> np.ndarray:
    fitted = isotonic_regression(means, weights=weights, increasing=False).x
    return np.interp(np.arange(n), grid, fitted)


def fit_information_curve(grid, values, n: int, n_bootstrap: int = 200, confidence: float = 0.9,
                          rng: np.random.Generator | None = None) -> CurveEstimate:
    """Monotone fit of per-sequence values (m, len(grid)) estimating H_a, and everything derived.

    The mean curve is fitted by isotonic regression (nonincreasing in a, weights 1/SE^2), linearly
    interpolated to every a = 0..n-1 (``grid`` must contain 0 and n-1), and turned into
    Z_{a+1} = H_0 - H_a (CCL Lemma 13), f(l) = H_{l-1} - H_l clipped at 0 (LZ profile),
    TC = sum Z and DTC = n Z_n - TC (CCL Lemma 8). Bootstrap replicates resample sequences with
    replacement and refit, giving the band and the standard errors. Raises ValueError for a bad
    grid, values, confidence or n_bootstrap (an integer >= 0).
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}")
    grid = _check_grid(grid, n)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(grid) or len(values) < 2:
        raise ValueError(f"values must have shape (m >= 2, len(grid)={len(grid)}), got {values.shape}")
    if grid[0] != 0 or grid[-1] != n - 1:
        raise ValueError(f"grid must contain a = 0 and a = n-1 = {n - 1} to give the whole curve")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    m = len(values)
    means = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / math.sqrt(m)
    weights = 1.0 / (se ** 2 + 1e-12)

    def derived(mean_curve):
        h = _fit_conditional_entropies(grid, mean_curve, weights, n)
        z = curve_from_conditional_entropies(h)
        return h, z, tc_from_curve(z), dtc_from_curve(z)

    h, z, tc, dtc = derived(means)
    rng = np.random.default_rng(0) if rng is None else rng
    replicate_z = np.empty((n_bootstrap, n))
    replicate_tc = np.empty(n_bootstrap)
    replicate_dtc = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        sample = values[rng.integers(0, m, size=m)].mean(axis=0)
        _, replicate_z[b], replicate_tc[b], replicate_dtc[b] = derived(sample)
    tail = 100.0 * (1.0 - confidence) / 2.0
    lower, upper = (np.percentile(replicate_z, [tail, 100.0 - tail], axis=0)
                    if n_bootstrap > 1 else (z, z))
    spread = (lambda r: float(r.std(ddof=1))) if n_bootstrap > 1 else (lambda r: float("nan"))
    return CurveEstimate(
        grid=grid, loss_mean=means, loss_se=se, conditional_entropies=h, information_curve=z,
        information_curve_lower=lower, information_curve_upper=upper,
        profile=np.clip(profile_from_curve(z), 0.0, None), tc=tc, tc_se=spread(replicate_tc),
        dtc=dtc, dtc_se=spread(replicate_dtc), confidence=confidence)


def estimate_information_curve(oracle, x, grid=None, rng: np.random.Generator | None = None,
                               statistic: str = "cross_entropy", n_bootstrap: int = 200,
                               confidence: float = 0.9, batch_size: int = 256,
                               orders_per_sequence: int = 1) -> CurveEstimate:
    """Information curve of the law behind held-out ``x`` as seen by ``oracle`` (module doc).

    ``statistic`` is ``"cross_entropy"`` (L(a), an upper bound on H_a for a model and unbiased for
    the exact oracle) or ``"entropy"`` (the oracle's own predictive entropy: for the exact oracle
    the conditional expectation of the cross-entropy given the revealed tokens, so unbiased with a
    smaller variance, Rao-Blackwell; for a model, its own entropy, which may sit on either side of
    H_a). ``orders_per_sequence`` independent random orders per sequence (each costing one oracle
    call per grid point) are averaged per sequence before the fit, so the bootstrap still resamples
    whole sequences. ``rng`` drives the orders and the bootstrap.
    """
    if statistic not in ("cross_entropy", "entropy"):
        raise ValueError(f"statistic must be 'cross_entropy' or 'entropy', got {statistic!r}")
    repeats = int(orders_per_sequence)
    if repeats < 1:
        raise ValueError(f"orders_per_sequence must be >= 1, got {orders_per_sequence}")
    rng = np.random.default_rng() if rng is None else rng
    x = _check_sequences(oracle, x)
    curve = loss_curve(oracle, np.repeat(x, repeats, axis=0), grid, rng=rng, batch_size=batch_size)
    values = getattr(curve, statistic)
    values = values.reshape(len(x), repeats, values.shape[1]).mean(axis=1)
    return fit_information_curve(curve.grid, values, oracle.n, n_bootstrap, confidence, rng)


@dataclass(frozen=True)
class FactorizationGap:
    """Schedule NLL minus one-token-at-a-time NLL of held-out text (same orders for both).

    ``nats`` per sequence and ``bits_per_char`` per position, each with its standard error across
    sequences, plus the two NLLs in bits per character.
    """

    nats: float
    nats_se: float
    bits_per_char: float
    bits_per_char_se: float
    schedule_bits_per_char: float
    autoregressive_bits_per_char: float
    steps: int


def one_at_a_time_log_likelihood(oracle, x, orders, batch_size: int = 256) -> np.ndarray:
    """log p(x) of each row revealed one token at a time in its given order (n oracle calls per
    batch): the reference of :func:`factorization_gap`. Float64 (m,), nats."""
    x = _check_sequences(oracle, x)
    orders = _check_orders(orders, *x.shape, None)
    ones = np.ones(x.shape[1], dtype=np.int64)
    return np.concatenate([schedule_log_likelihood(oracle, x[i:i + batch_size], ones,
                                                   orders=orders[i:i + batch_size])
                           for i in range(0, len(x), batch_size)])


def factorization_gap(oracle, x, sizes, rng: np.random.Generator | None = None, orders=None,
                      batch_size: int = 256) -> FactorizationGap:
    """Factorization gap of a schedule on held-out ``x``: mean of log p_AR(x) - log p_sched(x).

    Both log-likelihoods come from :func:`mdmsched.sampler.schedule_log_likelihoods` with the same
    random order per sequence (common random numbers), ``batch_size`` sequences at a time. For the
    exact oracle and x ~ mu the mean is the expected KL of the schedule (CCL Def 1, Thm 4 / LZ
    E_fact); for a model it is the model's own factorization gap on real data.
    """
    return factorization_gaps(oracle, x, [sizes], rng, orders, batch_size)[0]


def factorization_gaps(oracle, x, schedules, rng: np.random.Generator | None = None, orders=None,
                       batch_size: int = 256) -> list[FactorizationGap]:
    """:func:`factorization_gap` of several schedules on the same x and orders: the one-at-a-time
    reference and every schedule share the oracle calls (one per revealed count, at most n per
    batch, :func:`mdmsched.sampler.schedule_log_likelihoods`). Raises ValueError for invalid x,
    orders or sizes."""
    x = _check_sequences(oracle, x)
    m, n = x.shape
    schedules = [validate_sizes(sizes, n) for sizes in schedules]
    orders = _check_orders(orders, m, n, rng)
    everything = schedules + [np.ones(n, dtype=np.int64)]
    scores = np.concatenate([schedule_log_likelihoods(oracle, x[i:i + batch_size], everything,
                                                      orders=orders[i:i + batch_size])
                             for i in range(0, m, batch_size)], axis=1)
    autoregressive = scores[-1]
    to_bits = 1.0 / (n * math.log(2))
    gaps = []
    for sizes, scheduled in zip(schedules, scores[:-1]):
        gap = autoregressive - scheduled
        se = gap.std(ddof=1) / math.sqrt(m)
        gaps.append(FactorizationGap(
            nats=float(gap.mean()), nats_se=float(se), bits_per_char=float(gap.mean() * to_bits),
            bits_per_char_se=float(se * to_bits),
            schedule_bits_per_char=float(-scheduled.mean() * to_bits),
            autoregressive_bits_per_char=float(-autoregressive.mean() * to_bits), steps=len(sizes)))
    return gaps
