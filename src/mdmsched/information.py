"""Information-theoretic curves of a law on Sigma^n, in nats.

Notation (CCL = Chen, Cong, Li, COLT 2026; LZ = Lavenant, Zanella 2025):

* entropy curve ``Hbar_i`` = mean of H(X_S) over |S| = i (CCL Def 12), ``Hbar_0 = 0``;
* information curve ``Z_j = E I(X_i; X_S)`` with |S| = j - 1 (CCL Def 3), computed through
  CCL Lemma 13: ``Z_j = Hbar_1 + Hbar_{j-1} - Hbar_j``;
* conditional entropies ``H_a = E H(X_j | X_A)`` with |A| = a, so ``Hbar_{a+1} - Hbar_a = H_a``
  and ``Z_{a+1} = H_0 - H_a``;
* LZ information profile ``f(l) = H_{l-1} - H_l`` for l = 1..n-1, whose sum is D = (TC + DTC) / n;
* total correlation and dual total correlation (CCL Def 7, Lemma 8): ``TC = sum_j Z_j`` and
  ``DTC = n Z_n - TC``.

Exact curves of tabular laws walk the subset lattice once (each marginal is obtained from a parent
marginal by summing out one axis, small subtrees in one vectorized batch), so memory stays at a few
copies of the pmf while every one of the 2^n marginal entropies is computed.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import gammaln

__all__ = [
    "xlogx",
    "entropy",
    "entropy_last_axis",
    "popcounts",
    "check_pmf",
    "subset_entropies",
    "entropy_curve",
    "information_curve",
    "information_curve_from_entropy_curve",
    "curve_from_conditional_entropies",
    "conditional_entropies_from_curve",
    "profile_from_curve",
    "total_correlation",
    "dual_total_correlation",
    "tc_from_curve",
    "dtc_from_curve",
    "check_curve",
    "check_profile",
    "CURVE_TOLERANCE",
]


def check_pmf(p) -> np.ndarray:
    """Return ``p`` as a float64 array of shape (q,)*n after checking it is a pmf."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim < 1 or len(set(p.shape)) != 1 or p.shape[0] < 2:
        raise ValueError(f"pmf must have shape (q,)*n with q >= 2, got shape {p.shape}")
    if np.any(p < 0) or not np.isfinite(p).all():
        raise ValueError("pmf must be finite and nonnegative")
    total = p.sum()
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"pmf must sum to 1, got {total!r}")
    return p


_TINY = np.finfo(np.float64).tiny  # log(max(x, tiny)) makes 0 log 0 = 0 without a masked pass
_CHUNK_ELEMENTS = 1 << 17  # expanded blocks of this size (1 MiB) stay in cache
_BATCH_STATES = 256  # (q+1)^T <= this: the T leading axes of every lattice node are done in one batch
_THREADED_SIZE = 1 << 16  # smaller tables are walked on the calling thread


def xlogx(table: np.ndarray) -> np.ndarray:
    """Elementwise x ln x (0 ln 0 = 0) in float64; about five times faster than scipy's entr."""
    out = np.empty_like(table, dtype=np.float64)
    np.maximum(table, _TINY, out=out)
    np.log(out, out=out)
    np.multiply(out, table, out=out)
    return out


def entropy(table: np.ndarray) -> float:
    return -float(xlogx(np.asarray(table, dtype=np.float64)).sum())


def entropy_last_axis(probs: np.ndarray) -> np.ndarray:
    """Entropy of each distribution along the last axis; short rows are summed slice by slice
    (numpy's reduce is several times slower there)."""
    plogp = xlogx(probs)
    if probs.shape[-1] > 8:
        return -plogp.sum(axis=-1)
    out = -plogp[..., 0]
    for value in range(1, probs.shape[-1]):
        out -= plogp[..., value]
    return out


def _sum_axis(table: np.ndarray, axis: int) -> np.ndarray:
    """Marginalize one axis by q - 1 additions of slices (numpy's reduce is several times slower
    when the axis is followed by only a few entries)."""
    index = (slice(None),) * axis
    out = np.add(table[index + (0,)], table[index + (1,)])
    for value in range(2, table.shape[axis]):
        np.add(out, table[index + (value,)], out=out)
    return out


def _leading_batch(table: np.ndarray, batch: int, axes: tuple, mask: int, out: np.ndarray) -> None:
    """H of the marginal on mask minus R for every subset R of the ``batch`` leading axes of ``table``.

    Each leading axis gets a (q+1)-th slot holding the sum over that axis, so the expanded block
    (q+1)^batch x rest holds each wanted marginal once; one x ln x pass, a sum over the rest and
    two-bucket reductions ([0, q): axis kept, q: summed out) give all 2^batch entropies. The rest
    is processed in cache-sized chunks.
    """
    q = table.shape[0]
    flat = table.reshape(q**batch, -1)
    rest = flat.shape[1]
    chunk = max(1, _CHUNK_ELEMENTS // (q + 1) ** batch)
    expanded = np.empty((q + 1,) * batch + (min(chunk, rest),))
    totals = np.zeros((q + 1,) * batch)
    values = slice(0, q)
    for begin in range(0, rest, chunk):
        width = min(chunk, rest - begin)
        block = expanded[..., :width]
        block[(values,) * batch] = flat[:, begin : begin + width].reshape((q,) * batch + (width,))
        for j in range(batch):
            # star slot of axis j: sum over its values, for every slot of axes < j (stars included)
            # and the values of axes > j (not expanded yet)
            head, tail = (slice(None),) * j, (values,) * (batch - j - 1)
            target = block[head + (q,) + tail]
            np.add(block[head + (0,) + tail], block[head + (1,) + tail], out=target)
            for value in range(2, q):
                np.add(target, block[head + (value,) + tail], out=target)
        totals += xlogx(block).sum(axis=-1)
    for j in range(batch):
        totals = np.add.reduceat(totals, [0, q], axis=j)
    removed = np.zeros((), dtype=np.int64)
    for axis in axes[:batch]:
        removed = np.add.outer(removed, np.array([0, 1 << axis], dtype=np.int64))
    out[mask - removed.ravel()] = -totals.ravel()


def _batch_size(q: int) -> int:
    batch = 1
    while (q + 1) ** (batch + 1) <= _BATCH_STATES:
        batch += 1
    return batch


def _visit(table: np.ndarray, axes: tuple, mask: int, stop: int, out: np.ndarray) -> None:
    """Depth-first walk below the marginal ``table`` (kept original axes ``axes``), removing axes in
    decreasing order (only positions < stop) so that every subset is reached once. Subsets that
    remove only leading axes are batched; only the current path of marginals is held in memory."""
    batch = min(_batch_size(table.shape[0]), stop)
    _leading_batch(table, batch, axes, mask, out)
    for position in range(batch, stop):
        _visit(_sum_axis(table, position), axes[:position] + axes[position + 1 :], mask & ~(1 << axes[position]), position, out)


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # respects taskset / cgroup cpusets
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def subset_entropies(p, workers: int | None = None) -> np.ndarray:
    """H(X_S) for every subset S of [n], indexed by the bitmask of S (bit i = position i), in nats.

    Walks the subset lattice depth first: the marginal of S is the marginal of S + {i} summed over
    axis i, removing axes in decreasing order so every subset is visited once (cost about (q+1)^n
    additions and x ln x evaluations, sum_S q^|S|). Only the current path of marginals is kept (at
    most the size of the pmf for q = 2), and at every node the subsets that remove only its few
    leading axes are finished in one vectorized batch (:func:`_leading_batch`). The branches below
    the root run on ``workers`` threads (default: the number of CPUs; numpy releases the GIL).
    """
    p = np.ascontiguousarray(check_pmf(p))
    n, q = p.ndim, p.shape[0]
    workers = _available_cpus() if workers is None else workers
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    out = np.empty(1 << n, dtype=np.float64)
    full = (1 << n) - 1
    axes = tuple(range(n))
    batch = min(_batch_size(q), n)
    _leading_batch(p, batch, axes, full, out)

    def branch(position):
        _visit(_sum_axis(p, position), axes[:position] + axes[position + 1 :], full & ~(1 << position), position, out)

    positions = range(n - 1, batch - 1, -1)  # largest subtrees first
    if workers == 1 or n - batch < 2 or p.size < _THREADED_SIZE:
        for position in positions:
            branch(position)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(branch, positions))
    out[0] = 0.0
    return out


def popcounts(n: int, dtype=np.int64) -> np.ndarray:
    """|S| for every bitmask S < 2^n (the upper half of the table is the lower half plus one)."""
    counts = np.zeros(1, dtype=dtype)
    for _ in range(n):
        counts = np.concatenate([counts, counts + 1])
    return counts


def entropy_curve(p, workers: int | None = None) -> np.ndarray:
    """Average entropy curve Hbar_0..Hbar_n of a tabular law (CCL Def 12), exact, in nats."""
    h = subset_entropies(p, workers=workers)
    n = np.asarray(p).ndim
    sizes = popcounts(n, np.uint8)  # one byte per subset: the averaging adds little to the peak memory
    sums = np.array([np.sum(h, where=sizes == size) for size in range(n + 1)])
    return sums / np.array([math.comb(n, size) for size in range(n + 1)], dtype=np.float64)


def information_curve_from_entropy_curve(hbar) -> np.ndarray:
    """Z_1..Z_n from Hbar_0..Hbar_n by CCL Lemma 13: Z_j = Hbar_1 + Hbar_{j-1} - Hbar_j."""
    hbar = np.asarray(hbar, dtype=np.float64)
    z = hbar[1] + hbar[:-1] - hbar[1:]
    z[0] = 0.0  # Z_1 = I(X_i; X_empty) = 0 exactly
    return z


def information_curve(p, workers: int | None = None) -> np.ndarray:
    """Exact information curve Z_1..Z_n (CCL Def 3) of a pmf array of shape (q,)*n, in nats.

    Cost about (q+1)^n; q = 2, n = 20 takes well under a minute on 2 cores (benchmarks/bench_core.py)."""
    return information_curve_from_entropy_curve(entropy_curve(p, workers=workers))


def curve_from_conditional_entropies(h) -> np.ndarray:
    """Z from conditional entropies H_a = E H(X_j | X_A), |A| = a = 0..n-1: Z_{a+1} = H_0 - H_a."""
    h = np.asarray(h, dtype=np.float64)
    return h[0] - h


def conditional_entropies_from_curve(z, h0: float) -> np.ndarray:
    """Inverse of :func:`curve_from_conditional_entropies` given the one-token entropy H_0."""
    return h0 - np.asarray(z, dtype=np.float64)


def profile_from_curve(z) -> np.ndarray:
    """LZ information profile f(l) = H_{l-1} - H_l = Z_{l+1} - Z_l, l = 1..n-1 (nonnegative by Han).
    Raises ValueError for an invalid curve (:func:`check_curve`)."""
    return np.diff(check_curve(z))


def tc_from_curve(z) -> float:
    """Total correlation as the area under the information curve (CCL Lemma 8.1).
    Raises ValueError for an invalid curve (:func:`check_curve`)."""
    return float(np.sum(check_curve(z)))


def dtc_from_curve(z) -> float:
    """Dual total correlation as the area above the curve capped at Z_n (CCL Lemma 8.2).
    Raises ValueError for an invalid curve (:func:`check_curve`)."""
    z = check_curve(z)
    return float(len(z) * z[-1] - z.sum())


def _single_and_leave_one_out_entropies(p: np.ndarray):
    n = p.ndim
    singles = np.array([entropy(p.sum(axis=tuple(j for j in range(n) if j != i))) for i in range(n)])
    leave_one_out = np.array([entropy(p.sum(axis=i)) for i in range(n)])
    return singles, leave_one_out, entropy(p)


def total_correlation(p) -> float:
    """TC = sum_i H(X_i) - H(X) (CCL Def 7) of a tabular law, in nats (needs only n marginals)."""
    singles, _, joint = _single_and_leave_one_out_entropies(check_pmf(p))
    return float(singles.sum() - joint)


def dual_total_correlation(p) -> float:
    """DTC = H(X) - sum_i H(X_i | X_-i) (CCL Def 7) of a tabular law, in nats."""
    _, leave_one_out, joint = _single_and_leave_one_out_entropies(check_pmf(p))
    return float(joint - np.sum(joint - leave_one_out))


CURVE_TOLERANCE = 1e-9  # slack of check_curve, relative to max(1, max |Z|): rounding of exact curves


def check_curve(z, name: str = "z", atol: float = CURVE_TOLERANCE) -> np.ndarray:
    """Validate an information curve Z_1..Z_n (CCL Def 3) and return it as float64.

    The one validator of every function that takes a curve or a profile: ``z`` must be a nonempty
    1-d array of finite numbers with Z_1 = 0 (I(X_i; X_empty) = 0) and nondecreasing (Han's
    inequality), both within ``atol * max(1, max |Z|)`` (default :data:`CURVE_TOLERANCE`), which
    absorbs the rounding of exact curves. Estimated curves must be fitted monotonely first.
    Raises ValueError naming ``name`` and what was expected.
    """
    try:
        z = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-d array of numbers Z_1..Z_n, got {z!r}") from None
    if z.ndim != 1 or len(z) < 1:
        raise ValueError(f"{name} must be a nonempty 1-d array Z_1..Z_n, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError(f"{name} must be finite, got {float(z[~np.isfinite(z)][0])} at Z_{int(np.argmin(np.isfinite(z))) + 1}")
    slack = atol * max(1.0, float(np.abs(z).max()))
    if abs(z[0]) > slack:
        raise ValueError(f"{name} must start at Z_1 = 0 (CCL Def 3), got Z_1 = {float(z[0])!r}")
    drops = np.flatnonzero(np.diff(z) < -slack)
    if len(drops):
        j = int(drops[0]) + 1
        raise ValueError(f"{name} must be nondecreasing (Han's inequality) within {slack:.3g}, got "
                         f"Z_{j + 1} = {float(z[j])!r} < Z_{j} = {float(z[j - 1])!r}; fit estimated curves monotonely first")
    return z


def check_profile(profile, n: int | None = None, name: str = "profile") -> np.ndarray:
    """Validate an LZ information profile f(1..n-1) (f(l) = Z_{l+1} - Z_l) and return it as float64.

    Checked as the curve it defines (Z_1 = 0, Z_{l+1} = Z_l + f(l)) by :func:`check_curve`: finite,
    and nonnegative within its tolerance. ``n``, when given, requires n - 1 entries. Raises
    ValueError naming ``name``.
    """
    try:
        f = np.asarray(profile, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-d array of numbers f(1..n-1), got {profile!r}") from None
    if f.ndim != 1 or (n is not None and f.shape != (n - 1,)):
        expected = f"n - 1 = {n - 1} entries" if n is not None else "a 1-d array"
        raise ValueError(f"{name} must have {expected} f(1..n-1), got shape {f.shape}")
    check_curve(np.concatenate([[0.0], np.cumsum(f)]), name=f"the curve of {name}")
    return f


def log_binomial(n, k):
    """log C(n, k) elementwise (float64), -inf outside 0 <= k <= n."""
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    valid = (k >= 0) & (k <= n)
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.where(valid, out, -np.inf)
