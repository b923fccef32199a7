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
marginal by summing out one axis), so memory stays at two copies of the pmf while every one of the
2^n marginal entropies is computed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, gammaln

__all__ = [
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


def _entropy(table: np.ndarray) -> float:
    return float(entr(table).sum())


def subset_entropies(p) -> np.ndarray:
    """H(X_S) for every subset S of [n], indexed by the bitmask of S (bit i = position i).

    Walks the lattice depth first: the marginal of S is the marginal of S + {i} summed over axis i,
    removing axes in increasing order so every subset is visited once. Cost sum_S q^|S| = (q+1)^n.
    """
    p = check_pmf(p)
    n = p.ndim
    out = np.empty(1 << n, dtype=np.float64)
    full = (1 << n) - 1
    out[full] = _entropy(p)
    out[0] = 0.0

    # stack entries: (marginal over kept axes (in original order), kept bitmask, smallest removable axis)
    stack = [(p, full, 0)]
    while stack:
        table, mask, start = stack.pop()
        kept = [i for i in range(n) if mask >> i & 1]
        for i in range(start, n):
            if not mask >> i & 1:
                continue
            child_mask = mask & ~(1 << i)
            if child_mask == 0:
                continue
            child = table.sum(axis=kept.index(i))
            out[child_mask] = _entropy(child)
            if child.ndim > 1:
                stack.append((child, child_mask, i + 1))
    return out


def _popcounts(n: int) -> np.ndarray:
    masks = np.arange(1 << n, dtype=np.int64)
    counts = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        counts += (masks >> i) & 1
    return counts


def entropy_curve(p) -> np.ndarray:
    """Average entropy curve Hbar_0..Hbar_n of a tabular law (CCL Def 12), exact, in nats."""
    h = subset_entropies(p)
    n = np.asarray(p).ndim
    sizes = _popcounts(n)
    sums = np.bincount(sizes, weights=h, minlength=n + 1)
    counts = np.bincount(sizes, minlength=n + 1)
    return sums / counts


def information_curve_from_entropy_curve(hbar) -> np.ndarray:
    """Z_1..Z_n from Hbar_0..Hbar_n by CCL Lemma 13: Z_j = Hbar_1 + Hbar_{j-1} - Hbar_j."""
    hbar = np.asarray(hbar, dtype=np.float64)
    z = hbar[1] + hbar[:-1] - hbar[1:]
    z[0] = 0.0  # Z_1 = I(X_i; X_empty) = 0 exactly
    return z


def information_curve(p) -> np.ndarray:
    """Exact information curve Z_1..Z_n (CCL Def 3) of a pmf array of shape (q,)*n, in nats."""
    return information_curve_from_entropy_curve(entropy_curve(p))


def curve_from_conditional_entropies(h) -> np.ndarray:
    """Z from conditional entropies H_a = E H(X_j | X_A), |A| = a = 0..n-1: Z_{a+1} = H_0 - H_a."""
    h = np.asarray(h, dtype=np.float64)
    return h[0] - h


def conditional_entropies_from_curve(z, h0: float) -> np.ndarray:
    """Inverse of :func:`curve_from_conditional_entropies` given the one-token entropy H_0."""
    return h0 - np.asarray(z, dtype=np.float64)


def profile_from_curve(z) -> np.ndarray:
    """LZ information profile f(l) = H_{l-1} - H_l = Z_{l+1} - Z_l, l = 1..n-1 (nonnegative by Han)."""
    return np.diff(np.asarray(z, dtype=np.float64))


def tc_from_curve(z) -> float:
    """Total correlation as the area under the information curve (CCL Lemma 8.1)."""
    return float(np.sum(z))


def dtc_from_curve(z) -> float:
    """Dual total correlation as the area above the curve capped at Z_n (CCL Lemma 8.2)."""
    z = np.asarray(z, dtype=np.float64)
    return float(len(z) * z[-1] - z.sum())


def _single_and_leave_one_out_entropies(p: np.ndarray):
    n = p.ndim
    singles = np.array([_entropy(p.sum(axis=tuple(j for j in range(n) if j != i))) for i in range(n)])
    leave_one_out = np.array([_entropy(p.sum(axis=i)) for i in range(n)])
    return singles, leave_one_out, _entropy(p)


def total_correlation(p) -> float:
    """TC = sum_i H(X_i) - H(X) (CCL Def 7) of a tabular law, in nats (needs only n marginals)."""
    singles, _, joint = _single_and_leave_one_out_entropies(check_pmf(p))
    return float(singles.sum() - joint)


def dual_total_correlation(p) -> float:
    """DTC = H(X) - sum_i H(X_i | X_-i) (CCL Def 7) of a tabular law, in nats."""
    _, leave_one_out, joint = _single_and_leave_one_out_entropies(check_pmf(p))
    return float(joint - np.sum(joint - leave_one_out))


def check_curve(z, name: str = "Z", atol: float = 1e-9) -> np.ndarray:
    """Validate an information curve: finite, Z_1 = 0 (up to atol), nondecreasing (Han)."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1 or len(z) < 1:
        raise ValueError(f"{name} must be a 1-d array Z_1..Z_n, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError(f"{name} must be finite")
    if np.any(np.diff(z) < -atol):
        raise ValueError(f"{name} must be nondecreasing (Han's inequality); use a monotone fit first")
    return z


def log_binomial(n, k):
    """log C(n, k) elementwise (float64), -inf outside 0 <= k <= n."""
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    valid = (k >= 0) & (k <= n)
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.where(valid, out, -np.inf)


def conditional_entropies_monte_carlo(oracle, x, rng: np.random.Generator) -> np.ndarray:
    """Per-sample unbiased estimates of H_a = E H(X_j | X_A), a = 0..n-1, with an exact oracle.

    Row r reveals the first a positions of a random permutation of its sample x_r ~ mu and averages
    the entropy of the oracle's conditional over the n - a masked positions (a Rao-Blackwellized
    estimator: one oracle call yields every masked position). Returns float64 (m, n).
    """
    x = np.asarray(x, dtype=np.int64)
    m, n = x.shape
    rank = np.argsort(np.argsort(rng.random((m, n)), axis=1), axis=1)  # rank[r, i]: when i is revealed
    out = np.empty((m, n))
    for a in range(n):
        revealed = rank < a
        probs = oracle.conditional_marginals(x, revealed)
        per_position = entr(probs).sum(axis=2)
        out[:, a] = np.where(revealed, 0.0, per_position).sum(axis=1) / (n - a)
    return out


def information_curve_monte_carlo(family, m: int, rng: np.random.Generator, progress: bool = False) -> dict:
    """Information curve, TC and DTC of a large law by Monte Carlo with its exact oracle.

    Uses :func:`conditional_entropies_monte_carlo` on m samples; standard errors are across samples
    (each sample gives an unbiased curve). Returns z, z_se, tc, tc_se, dtc, dtc_se (nats).
    """
    x = family.sample(m, rng)
    chunks = range(0, m, 16)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=f"MC curve n={family.n}", unit="x16")
    h = np.concatenate([conditional_entropies_monte_carlo(family, x[i : i + 16], rng) for i in chunks])
    z = h[:, :1] - h  # per-sample Z, CCL Lemma 13
    n = family.n
    tc = z.sum(axis=1)
    dtc = n * z[:, -1] - tc

    def se(v):
        return v.std(axis=0, ddof=1) / np.sqrt(len(v))

    return {
        "z": z.mean(axis=0),
        "z_se": se(z),
        "tc": float(tc.mean()),
        "tc_se": float(se(tc)),
        "dtc": float(dtc.mean()),
        "dtc_se": float(se(dtc)),
    }
