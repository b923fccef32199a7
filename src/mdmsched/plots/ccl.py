"""Panels of the Chen-Cong-Li report."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import error
from ..io import read_table
from ..plotting import draw_step_approximation, save_figure


def figure1(tables_dir, figures_dir, claims):
    """CCL Figure 1 and the same picture for the DP-optimal schedule with the same k."""
    table = read_table(Path(tables_dir) / "ccl_figure1.csv")
    names = {"paper": "ccl_fig1_step_approximation", "optimal": "ccl_fig1_optimal_schedule"}
    figures = []
    for label, rows in table.groupby("schedule", sort=False):
        z = rows["z"].to_numpy()
        sizes = [int(s) for s in rows["sizes"].iloc[0].split("-")]
        area = float(rows["shaded"].sum())
        fig, ax = plt.subplots(figsize=(7, 4.2))
        draw_step_approximation(ax, z, sizes, title=f"{label} schedule {tuple(sizes)}: shaded area = expected KL = {area:.2f}")
        save_figure(fig, names[label], figures_dir)
        figures.append(fig)
        claims.check(
            f"Fig. 1 ({label} {tuple(sizes)}): shaded area equals Thm 4 expected KL",
            "area = sum_i sum_j (Z_{N_{i-1}+j} - Z_{N_{i-1}+1})",
            f"area {area:.6f}, Thm 4 {error.expected_kl(z, sizes):.6f}",
            np.isclose(area, error.expected_kl(z, sizes), atol=1e-12),
        )
    paper = table[table.schedule == "paper"]["expected_kl"].iloc[0]
    best = table[table.schedule == "optimal"]["expected_kl"].iloc[0]
    claims.check(
        "Fig. 1: the DP optimum with the same k is no worse than the drawn schedule",
        "optimal schedule = best step approximation (Eq. 1)",
        f"paper {paper:.3f} vs optimal {best:.3f}",
        best <= paper + 1e-12,
    )
    return figures
