"""Experiments for Chen, Cong, Li (COLT 2026)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import distributions, error, schedules
from . import experiment


@experiment("ccl_figure1")
def figure1(seed: int = 0, sizes=distributions.FIGURE1_SIZES, curve=None):
    """CCL Figure 1: the curve, the step approximation of the paper's schedule (4, 5, 2, 2) and of the
    DP-optimal schedule with the same k, one row per schedule and index j, with the shaded error
    (CCL Thm 4 summands). The values of Z are read off the paper's figure."""
    z = distributions.FIGURE1_CURVE if curve is None else np.asarray(curve, dtype=np.float64)
    optimal, _ = schedules.optimal_schedule(z, len(sizes))
    rows = []
    for label, chosen in (("paper", np.asarray(sizes)), ("optimal", optimal)):
        counts = schedules.counts_from_sizes(chosen)
        block = np.repeat(np.arange(len(chosen)), chosen)
        step = z[counts[:-1]][block]
        rows.append(
            pd.DataFrame(
                {
                    "schedule": label,
                    "sizes": "-".join(map(str, chosen)),
                    "j": np.arange(1, len(z) + 1),
                    "z": z,
                    "block": block + 1,
                    "step": step,
                    "shaded": z - step,
                    "expected_kl": error.expected_kl(z, chosen),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
