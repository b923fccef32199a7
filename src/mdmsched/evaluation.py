"""Evaluate many schedules on one information curve (exact, by CCL Thm 4).

Schedules that take a number of steps k (uniform, cosine, log-linear, polynomial, geometric, the
DP optimum and the LZ square-root rules) are built for each k by :func:`build`; schedules driven by a
target error (TC, DTC, Austin) are built by :func:`build_for_eps`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import information, schedules
from .error import expected_kl

__all__ = ["K_SCHEDULES", "EPS_SCHEDULES", "build", "build_for_eps", "evaluate", "steps_to_reach", "log_grid"]

K_SCHEDULES = ("uniform", "cosine", "loglinear", "polynomial", "geometric", "sqrt", "optimal")
EPS_SCHEDULES = ("tc", "dtc", "austin_cor34", "austin_thm10")


def build(name: str, z, k: int, **params) -> np.ndarray:
    """A k-step schedule ``name`` for the curve z (curve-aware schedules read z, others ignore it)."""
    n = len(z)
    if name in ("optimal", "sqrt"):
        return schedules.schedule(name, n, k=k, z=np.asarray(z), **params)
    return schedules.schedule(name, n, k=k, **params)


def build_for_eps(name: str, z, eps: float, slack: float = 1.0) -> np.ndarray:
    """A schedule targeting error eps from the scalar it needs (TC or DTC of z, times ``slack`` >= 1,
    i.e. an upper estimate as CCL Thm 9 assumes)."""
    n = len(z)
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    if name == "tc":
        return schedules.schedule("tc", n, eps=eps, tc=slack * tc)
    if name in ("dtc", "austin_cor34", "austin_thm10"):
        return schedules.schedule(name, n, eps=eps, dtc=slack * dtc)
    raise ValueError(f"unknown eps-driven schedule {name!r}; expected one of {EPS_SCHEDULES}")


def evaluate(z, ks, names=K_SCHEDULES, **labels) -> pd.DataFrame:
    """Exact expected KL of each named schedule at each k: one row per (schedule, k)."""
    z = information.check_curve(z)
    rows = []
    for name in names:
        for k in ks:
            if not 1 <= k <= len(z):
                continue
            sizes = build(name, z, int(k))
            rows.append(
                {
                    **labels,
                    "schedule": name,
                    "k": int(k),
                    "steps": len(sizes),
                    "max_size": int(sizes.max()),
                    "expected_kl": expected_kl(z, sizes),
                }
            )
    return pd.DataFrame(rows)


def steps_to_reach(z, eps: float, name: str, **params) -> int:
    """Smallest k for which the k-step schedule ``name`` has expected KL <= eps.

    Uses bisection on k, exact for the DP optimum (its error is nonincreasing in k); for other
    schedules the error is nonincreasing in practice and the answer is then checked one below."""
    z = information.check_curve(z)
    n = len(z)

    def ok(k):
        return expected_kl(z, build(name, z, k, **params)) <= eps

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
    """About ``points`` integers from 1 to n, geometrically spaced, without repeats."""
    return np.unique(np.round(np.geomspace(1, n, points)).astype(int))

