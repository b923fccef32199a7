"""Shared figure helpers: the house style and atomic PDF + PNG output."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import atomic_path
from .schedules import counts_from_sizes

__all__ = ["use_style", "save_figure", "draw_step_approximation"]


def use_style():
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)


def save_figure(fig, name: str, figures_dir) -> list[Path]:
    """Save ``fig`` as ``figures_dir/name.pdf`` and ``.png`` (atomically); returns both paths."""
    paths = []
    for extension in ("pdf", "png"):
        path = Path(figures_dir) / f"{name}.{extension}"
        with atomic_path(path) as temporary:
            fig.savefig(temporary, format=extension, dpi=150, bbox_inches="tight")
        paths.append(path)
    return paths


def draw_step_approximation(ax, z, sizes, label_blocks: bool = True, title: str | None = None):
    """CCL Figure 1: the curve Z, its left-Riemann step approximation for a schedule, and the shaded
    area between them, which equals the expected KL (CCL Thm 4). The last block is drawn to n + 1."""
    z = np.asarray(z, dtype=np.float64)
    n = len(z)
    counts = counts_from_sizes(sizes)
    j = np.arange(1, n + 2)
    z_ext = np.concatenate([z, [z[-1]]])
    ax.plot(j[:-1], z, color="tab:blue", marker="o", lw=2, label="information curve $Z_j$", zorder=3)
    for block, (start, stop) in enumerate(zip(counts[:-1], counts[1:])):
        height = z[start]
        for position in range(start, stop):
            ax.fill_between([position + 1, position + 2], height, z_ext[position], color="tab:blue", alpha=0.18, lw=0)
        ax.hlines(height, start + 1, stop + 1, color="tab:red", lw=2.5, label="step approximation" if block == 0 else None)
        ax.axvline(start + 1, color="0.6", lw=0.8, ls=":")
        if label_blocks:
            ax.text((start + stop) / 2 + 1, height, f"$s_{{{block + 1}}}={stop - start}$", ha="center", va="bottom", color="tab:red")
    ax.set_xlabel("index $j$ (tokens revealed + 1)")
    ax.set_ylabel("$Z_j$ (nats)")
    ax.set_xlim(0.5, n + 1.5)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    return ax
