"""Batched linear algebra over a prime field F_p, for the code families (CCL Example 1, Defs 17-19)."""

from __future__ import annotations

import numpy as np

__all__ = ["check_prime", "next_prime_above", "inverse_table", "rref_mod_p", "rank_mod_p", "nullspace_mod_p"]


def check_prime(p: int, name: str = "q") -> int:
    p = int(p)
    if p < 2 or any(p % d == 0 for d in range(2, int(p**0.5) + 1)):
        raise ValueError(f"{name} must be a prime (codes are built over the prime field F_q), got {p}")
    return p


def next_prime_above(n: int) -> int:
    """The smallest prime > n (the field size of a Reed-Solomon code of length n needs q > n)."""
    candidate = max(int(n) + 1, 2)
    while any(candidate % d == 0 for d in range(2, int(candidate**0.5) + 1)):
        candidate += 1
    return candidate


def inverse_table(p: int) -> np.ndarray:
    """inv[a] = a^{-1} mod p for a = 1..p-1 (inv[0] = 0)."""
    a = np.arange(p, dtype=np.int64)
    inv = np.array([pow(int(v), p - 2, p) if v else 0 for v in a], dtype=np.int64)
    return inv


def rref_mod_p(matrices, p: int, pivot_columns: int | None = None):
    """Reduced row echelon form of a batch of matrices over F_p.

    ``matrices``: int array (m, r, c). Pivots are searched in the first ``pivot_columns`` columns
    (all by default), so an augmented right-hand side can ride along in the last columns.
    Returns (reduced (m, r, c), pivot column of each row (m, r) or -1, rank (m,)).
    """
    a = np.array(matrices, dtype=np.int64) % p
    if a.ndim == 2:
        a = a[None]
    m, r, c = a.shape
    inv = inverse_table(p)
    pivot_row = np.zeros(m, dtype=np.int64)
    pivot_col = np.full((m, r), -1, dtype=np.int64)
    row_index = np.arange(r)
    for col in range(c if pivot_columns is None else pivot_columns):
        candidates = (a[:, :, col] != 0) & (row_index[None, :] >= pivot_row[:, None])
        batch = np.nonzero(candidates.any(axis=1))[0]
        if batch.size == 0:
            continue
        source = np.argmax(candidates[batch], axis=1)
        target = pivot_row[batch]
        source_rows = a[batch, source].copy()
        a[batch, source] = a[batch, target]
        pivot = (source_rows * inv[source_rows[:, col]][:, None]) % p
        factors = a[batch, :, col].copy()
        factors[np.arange(batch.size), target] = 0
        reduced = (a[batch] - factors[:, :, None] * pivot[:, None, :]) % p
        reduced[np.arange(batch.size), target] = pivot
        a[batch] = reduced
        pivot_col[batch, target] = col
        pivot_row[batch] += 1
    return a, pivot_col, pivot_row


def rank_mod_p(matrices, p: int) -> np.ndarray:
    """Rank over F_p of each matrix in a batch (m, r, c)."""
    return rref_mod_p(matrices, p)[2]


def nullspace_mod_p(matrix, p: int) -> np.ndarray:
    """A basis (rows) of {x : matrix @ x = 0 mod p}, shape (c - rank, c)."""
    reduced, pivot_col, rank = rref_mod_p(np.asarray(matrix)[None], p)
    reduced, pivots = reduced[0], [int(j) for j in pivot_col[0] if j >= 0]
    c = reduced.shape[1]
    free = [j for j in range(c) if j not in pivots]
    basis = np.zeros((len(free), c), dtype=np.int64)
    for b, j in enumerate(free):
        basis[b, j] = 1
        for row, pc in enumerate(pivots):
            basis[b, pc] = (-reduced[row, j]) % p
    return basis
