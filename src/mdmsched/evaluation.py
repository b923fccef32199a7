"""Evaluate many schedules on one information curve (exact, by CCL Thm 4).

Schedules of kind "steps" (uniform, cosine, log-linear, polynomial, geometric, the DP optimum and
the LZ square-root rule) are built for each k by :func:`build`; schedules of kind "target" (TC, DTC,
Austin) by :func:`build_for_eps`; both come from the registry :data:`mdmsched.schedules.SCHEDULES`.

Also here, the small analysis helpers of both papers' experiments: inverting the Li-Cai bound into
a step count, fitting an O(log n) law, ratios to the optimum. The DP optimum lives in
:mod:`mdmsched.schedules`; exact curves of named laws in :func:`mdmsched.distributions.curve`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import error, information, schedules
from .error import expected_kl

__all__ = [
    "K_SCHEDULES",
    "EPS_SCHEDULES",
    "build",
    "build_for_eps",
    "evaluate",
    "evaluate_for_eps",
    "steps_to_reach",
    "log_grid",
    "revealed_count_grid",
    "next_boundary_error",
    "li_cai_steps",
    "fit_log_law",
    "ratio_to_optimal",
]

# the schedules a user can build for a number of steps, and those built for a target error
K_SCHEDULES = schedules.names(kind="steps", needs=(None, "curve"))
EPS_SCHEDULES = schedules.names(kind="target")


def build(name: str, z, k: int, **params) -> np.ndarray:
    """A k-step schedule ``name`` for the curve z (curve-aware schedules read z, others ignore it)."""
    return schedules.schedule(name, len(z), k=k, z=np.asarray(z), **params)


def build_for_eps(name: str, z, eps: float, slack: float = 1.0) -> np.ndarray:
    """A schedule targeting error eps from the scalar it needs (TC or DTC of z, times ``slack`` >= 1,
    i.e. an upper estimate as CCL Thm 9 assumes)."""
    needs = schedules.SCHEDULES[name].needs if name in schedules.SCHEDULES else None
    if needs not in ("tc", "dtc"):
        raise ValueError(f"unknown eps-driven schedule {name!r}; expected one of {EPS_SCHEDULES}")
    z = information.check_curve(z)
    c = information.tc_from_curve(z) if needs == "tc" else information.dtc_from_curve(z)
    return schedules.schedule(name, len(z), eps=eps, **{needs: slack * c})


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

    The DP optimum is computed for every k in one pass (:func:`mdmsched.schedules.optimal_path`)."""
    z = information.check_curve(z)
    ks = [int(k) for k in ks if 1 <= k <= len(z)]
    rows = []
    for name in names:
        if name == "optimal":
            path = schedules.optimal_path(z, ks)
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
        c = slack * (tc if schedules.SCHEDULES[name].needs == "tc" else dtc)
        for eps in eps_values:
            sizes = build_for_eps(name, z, float(eps), slack)
            rows.append(_row(labels, name, sizes, z, eps=float(eps), c=c, thm9_bound=error.thm9_step_bound(n, eps, c)))
    return pd.DataFrame(rows)


def steps_to_reach(z, eps: float, name: str, *, built_from=None, **params) -> int:
    """The smallest k whose k-step schedule ``name`` has expected KL (CCL Thm 4) <= eps.

    Exact for every schedule, whether or not its error is monotone in k (cosine, uniform, log-linear
    and geometric grids are not: on ``mds_curve(1024, 256, 1031)`` cosine reaches 1% of TC at k = 13,
    misses it at k = 14..98, and bisection answered 99). The k-step schedules are scanned upward from
    k = 1 and the first one reaching eps is returned, so nothing is assumed about the order of the
    errors. Each k costs one build and an O(k) Thm 4 sum from prefix sums, and the k found is
    confirmed with :func:`mdmsched.error.expected_kl` (the number the tables report, so a step count
    and its error never disagree by rounding). The scan ends by k = n: n steps of size one have error
    exactly 0. For the DP optimum (``"optimal"``, no ``built_from``) the scan is one DP pass, layer k
    holding the optimal k-step error (CCL Eq. 1), stopped at the first layer within rounding of eps.

    ``built_from``: build the schedules from this curve instead (e.g. a model's estimate) while
    scoring them on z. ``params`` go to the schedule's builder (e.g. ``power`` for polynomial).
    Raises ValueError unless eps >= 0 (NaN included) and z is a valid curve."""
    z = information.check_curve(z)
    n = len(z)
    eps = float(eps)
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    # prefix-sum forms of Thm 4 (the DP's F_k(n), the O(k) screen below) differ from the direct sum
    # of expected_kl by rounding only, far below this slack: a k they put above eps + slack has error
    # > eps, and the others are decided by expected_kl itself, exactly as a full scan would
    slack = 1e-9 * max(1.0, float(np.abs(z).max()) * n)
    if name == "optimal" and built_from is None and not params:
        k = len(schedules.optimal_errors(z, n, stop_at=eps + slack))  # F_j(n) > eps + slack for j < k
        while k < n and expected_kl(z, schedules.optimal_path(z, [k])[k][0]) > eps:
            k += 1  # only within rounding of eps
        return k
    source = z if built_from is None else information.check_curve(built_from)
    if len(source) != n:
        raise ValueError(f"built_from has {len(source)} entries, z has {n}")
    total = float(np.sum(z))
    for k in range(1, n + 1):
        sizes = build(name, source, k, **params)
        starts = np.concatenate([[0], np.cumsum(sizes[:-1])])
        if total - float(np.dot(sizes, z[starts])) <= eps + slack and expected_kl(z, sizes) <= eps:
            return k
    return n


def log_grid(n: int, points: int) -> np.ndarray:
    """About ``points`` integers from 1 to n, geometrically spaced, without repeats. Raises
    ValueError unless n >= 1 and points >= 1."""
    if not (n >= 1 and points >= 1):
        raise ValueError(f"n and points must be at least 1, got n={n!r}, points={points!r}")
    return np.unique(np.round(np.geomspace(1, n, points)).astype(int))


def revealed_count_grid(n: int, points: int | None) -> np.ndarray | None:
    """Revealed counts a at which an information curve is measured: 0, n-1 and the counts of
    ``log_grid(n - 1, points)`` (geometrically spaced, dense where few tokens are revealed and the
    curve bends most; rounding merges some: 29 counts for n = 64, points = 41), which
    :func:`mdmsched.estimation.fit_information_curve` interpolates. None or 0: None (every
    a = 0..n-1). Int64, sorted, without repeats. Raises ValueError unless n is an integer >= 1 and
    points is None or an integer >= 0."""
    for name, value, least in (("n", n, 1), ("points", 0 if points is None else points, 0)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not points:
        return None
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    return np.unique(np.concatenate([[0], log_grid(n - 1, int(points)), [n - 1]])).astype(np.int64)


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
