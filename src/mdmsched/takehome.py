"""The schedule a user takes home: optimal per-step token counts from an (estimated) information curve.

Samplers of masked diffusion models (LLaDA's ``get_num_transfer_tokens``, diffusers'
``BlockRefinementScheduler``) take a schedule as ``num_transfer_tokens``: how many masked tokens to
reveal at each step, summing to the sequence length n. This module turns an information curve
Z_1..Z_n (nats; exact, or estimated from a trained model with a band) into those counts:

* for a step budget k, the DP optimum of CCL Eq. 1 (the best step approximation of the curve), whose
  expected KL under random-order parallel unmasking is the left-Riemann error of CCL Thm 4,
  ``sum_t sum_{j in block t} (Z_j - Z_{start of block t})`` (nats, per sequence);
* for a target error eps (nats), the fewest steps k whose optimum reaches it, and that schedule.

With an estimated curve the expected KL is the estimate's own (the error the schedule would have
if the curve were right); ``expected_kl_band_nats`` gives the same schedule scored on the lower and
upper edges of the band, a rough indication of how much the estimate's uncertainty matters.

:func:`schedule_plan` gathers this into one JSON-ready dict, :func:`write_schedule_plan` writes it
atomically, :func:`read_curve` reads a curve from a CSV (the ``learned_<model>_curve.csv`` table of
the workflow, or any CSV with a ``z`` column) or from such a JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import information
from .error import expected_kl
from .evaluation import steps_to_reach
from .schedules import optimal_path
from .io import atomic_path

__all__ = ["PLAN_FORMAT", "read_curve", "optimal_for_k", "optimal_for_eps", "schedule_plan",
           "write_schedule_plan"]

PLAN_FORMAT = "mdmsched schedule plan v1"


def read_curve(path, estimator: str = "model") -> np.ndarray:
    """Information curve Z_1..Z_n (float64, nats) from a CSV or a schedule-plan JSON.

    CSV: the ``z`` column, ordered by ``a`` when present; when an ``estimator`` column is present
    (the workflow's curve table holds "model", "exact oracle" and "true" rows) only the rows of
    ``estimator`` are used. JSON: the ``curve.z`` of a file written by :func:`write_schedule_plan`.
    """
    path = Path(path)
    if path.suffix == ".json":
        plan = json.loads(path.read_text())
        if plan.get("format") != PLAN_FORMAT:
            raise ValueError(f"{path} is not a {PLAN_FORMAT!r} file")
        return information.check_curve(plan["curve"]["z"])
    import pandas as pd

    table = pd.read_csv(path)
    if "z" not in table:
        raise ValueError(f"curve file {path} has no 'z' column (columns: {list(table.columns)})")
    if "estimator" in table:
        available = sorted(table["estimator"].unique())
        table = table[table["estimator"] == estimator]
        if table.empty:
            raise ValueError(f"curve file {path} has no rows of estimator {estimator!r}; it has {available}")
    if "model" in table and table["model"].nunique() > 1:
        raise ValueError(f"curve file {path} holds several models; keep one")
    if "a" in table:
        table = table.sort_values("a")
    return information.check_curve(table["z"].to_numpy(dtype=np.float64))


def optimal_for_k(z, k: int) -> tuple[np.ndarray, float]:
    """(num_transfer_tokens (k,) int64, expected KL in nats) of the DP-optimal k-step schedule."""
    z = information.check_curve(z)
    k = int(k)
    if not 1 <= k <= len(z):
        raise ValueError(f"k must be in 1..n={len(z)}, got {k}")
    return optimal_path(z, [k])[k]


def optimal_for_eps(z, eps: float) -> tuple[np.ndarray, float]:
    """(num_transfer_tokens, expected KL) of the DP optimum with the fewest steps whose expected KL
    is at most ``eps`` nats (k = n, one token per step, has error 0 and always qualifies)."""
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0 nats, got {eps}")
    z = information.check_curve(z)
    return optimal_for_k(z, steps_to_reach(z, float(eps), "optimal"))


def _entry(z, sizes, error, lower, upper, **labels) -> dict:
    entry = {**labels, "steps": len(sizes), "num_transfer_tokens": [int(s) for s in sizes],
             "expected_kl_nats": float(error)}
    if lower is not None:
        entry["expected_kl_band_nats"] = [float(expected_kl(lower, sizes)), float(expected_kl(upper, sizes))]
    return entry


def schedule_plan(z, ks=(), eps=(), lower=None, upper=None, **metadata) -> dict:
    """Optimal schedules of a curve for each step budget in ``ks`` and each target in ``eps``.

    ``z``: Z_1..Z_n (nats); ``lower``/``upper``: an optional band around it (same shape, e.g. the
    bootstrap band of :func:`mdmsched.estimation.estimate_information_curve`). Returns a JSON-ready
    dict: ``format``, ``n``, ``metadata``, ``curve`` (a, z, z_lower, z_upper, TC, DTC in nats),
    ``by_k`` (one entry per k: k, steps, num_transfer_tokens, expected_kl_nats and, with a band,
    expected_kl_band_nats) and ``by_eps`` (the same per eps, plus eps). k outside 1..n is skipped.
    """
    z = information.check_curve(z)
    n = len(z)
    if (lower is None) != (upper is None):
        raise ValueError("pass both lower and upper, or neither")
    if lower is not None:
        lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        if lower.shape != z.shape or upper.shape != z.shape:
            raise ValueError(f"lower and upper must have the curve's shape {z.shape}")
    ks = sorted({int(k) for k in ks if 1 <= int(k) <= n})
    by_k = [_entry(z, sizes, error, lower, upper, k=k) for k, (sizes, error) in optimal_path(z, ks).items()]
    by_eps = [_entry(z, *optimal_for_eps(z, float(e)), lower, upper, eps=float(e)) for e in eps]
    curve = {"a": list(range(1, n + 1)), "z": z.tolist(),
             "tc_nats": float(information.tc_from_curve(z)), "dtc_nats": float(information.dtc_from_curve(z))}
    if lower is not None:
        curve["z_lower"], curve["z_upper"] = lower.tolist(), upper.tolist()
    return {"format": PLAN_FORMAT, "n": n, "metadata": metadata, "curve": curve,
            "by_k": sorted(by_k, key=lambda entry: entry["k"]), "by_eps": by_eps}


def write_schedule_plan(plan: dict, path) -> None:
    """Write a :func:`schedule_plan` dict as indented JSON, atomically (same plan, same bytes)."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(plan, indent=1, allow_nan=False) + "\n")
