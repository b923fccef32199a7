"""Figures of the unmasking-rules report (draw only): KL(mu || nu) versus NFE for every rule and
family, beside the random-order DP optimum (CCL Eq. 1), from the ``unmasking_rules`` table."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..io import read_table
from ..plotting import save_figure, use_style

__all__ = ["FIGURES", "COLOURS", "kl_vs_nfe", "draw_all"]

# section -> the figures (file names without extension) it saves; the report registry
# (mdmsched.reports.REPORTS) takes the workflow's figure list from here
FIGURES = {"exact": ("unmasking_kl_vs_nfe_exact",), "mc": ("unmasking_kl_vs_nfe_mc",)}
COLOURS = {
    "max_prob": "tab:blue",
    "margin": "tab:cyan",
    "entropy": "tab:green",
    "entropy_bound": "tab:olive",
    "confidence": "tab:red",
    "threshold": "tab:pink",
    "random": "tab:gray",
    "left_to_right": "tab:brown",
}
MARKERS = {"choose-then-sample": "o", "sample-then-choose": "s", "reference": "^"}


def kl_vs_nfe(table, section: str, figures_dir, floor: float = 1e-4):
    """One panel per family: KL (nats, log scale, values below ``floor`` drawn at it) against mean
    NFE for every rule (lines for scheduled rules at uniform step sizes, dashed for the adaptive-count
    rules; ``random`` is its mixture law when exact, CCL Thm 4's expected KL when Monte Carlo), and
    the DP optimum of CCL Eq. 1 (black). Saves ``FIGURES[section]`` as PDF and PNG; returns the figure."""
    use_style()
    rows = table[(table.section == section) & ~table.setting.astype(str).str.endswith("dp-sizes")]
    families = list(dict.fromkeys(rows.family))
    columns = min(4, max(1, len(families)))
    lines = math.ceil(len(families) / columns) if families else 1
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.4 * lines), squeeze=False)
    for ax, family in zip(axes.flat, families):
        group = rows[rows.family == family]
        for rule, by_rule in group.groupby("rule", sort=False):
            by_rule = by_rule.sort_values("nfe")
            adaptive = by_rule.k.isna().all()
            ax.plot(by_rule.nfe, np.maximum(by_rule.kl, floor), ls="--" if adaptive else "-",
                    marker=MARKERS.get(by_rule.kind.iloc[0], "o"), ms=3.5, color=COLOURS.get(rule), label=rule)
            if section != "exact" and by_rule.kl_se.notna().any():
                ax.fill_between(by_rule.nfe, np.maximum(by_rule.kl - 2 * by_rule.kl_se, floor),
                                np.maximum(by_rule.kl + 2 * by_rule.kl_se, floor), color=COLOURS.get(rule), alpha=0.12, lw=0)
        dp = group.dropna(subset=["dp_optimum"]).sort_values("nfe")
        dp = dp[dp.k.notna()].drop_duplicates("k")
        ax.plot(dp.nfe, np.maximum(dp.dp_optimum, floor), color="black", lw=2, label="DP optimum (random order)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(family, fontsize=9)
        ax.set_xlabel("NFE (oracle calls)")
        ax.set_ylabel("KL(mu || nu) (nats)")
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    n = int(rows.n.iloc[0]) if len(rows) else 0
    how = "exact" if section == "exact" else "replay Monte Carlo, 2 SE bands"
    fig.suptitle(f"Unmasking rules vs the random-order optimum, n = {n} ({how})", y=1.0)
    fig.legend(handles, labels, loc="lower center", ncol=5, bbox_to_anchor=(0.5, -0.06), fontsize=8)
    fig.tight_layout()
    save_figure(fig, FIGURES[section][0], figures_dir)
    return fig


def draw_all(tables_dir, figures_dir):
    """Both figures from ``tables_dir/unmasking_rules.csv``; returns the table."""
    table = read_table(Path(tables_dir) / "unmasking_rules.csv")
    for section in FIGURES:
        kl_vs_nfe(table, section, figures_dir)
        plt.close("all")
    return table
