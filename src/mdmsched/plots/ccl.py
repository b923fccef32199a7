"""Panels of the Chen-Cong-Li report.

Each panel ``(tables_dir, figures_dir)`` reads one experiment table (``ccl_<panel>``), draws and
saves its figure (PDF + PNG) and returns a short readable table. Panels only draw: the verdicts are
claims of :mod:`mdmsched.claims.ccl`, computed from the same tables (the workflow writes them to
``claims/ccl_report.csv``); the analysis the figures share with the claims (fits, summaries,
tolerance lines) is imported from there. :func:`show` runs a panel in a notebook and displays its
table and, given the claims table, the claims read from the panel's experiment.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import claims as claims_layer
from .. import schedules
from ..claims import ccl as verdicts
from ..io import read_table
from ..plotting import draw_step_approximation, save_figure

__all__ = [
    "FIGURES",
    "show",
    "figure1",
    "identity",
    "error_vs_k",
    "steps_vs_n",
    "rs_codes",
    "code_lift",
    "appendix_e",
    "sweep",
    "heuristics",
]

# panel -> the figures (file names without extension) it saves; the report registry
# (mdmsched.reports.REPORTS) takes the workflow's figure list from here
FIGURES = {
    "figure1": ("ccl_fig1_step_approximation", "ccl_fig1_optimal_schedule"),
    "identity": ("ccl_identity",),
    "error_vs_k": ("ccl_error_vs_k",),
    "steps_vs_n": ("ccl_steps_vs_n",),
    "rs_codes": ("ccl_rs_codes",),
    "code_lift": ("ccl_code_lift",),
    "appendix_e": ("ccl_appendix_e",),
    "sweep": ("ccl_sweep",),
    "heuristics": ("ccl_heuristics",),
}



def _table(tables_dir, name) -> pd.DataFrame:
    return read_table(Path(tables_dir) / f"{name}.csv")


def _grid(count: int, columns: int, width: float = 3.4, height: float = 2.9, **kwargs):
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False, **kwargs)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _legend_below(fig, axes, ncol: int = 6):
    handles, labels = {}, []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=ncol, frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 1))


def _fmt(value, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def show(panel, tables_dir, figures_dir, claims=None):
    """Run one panel in a notebook: its figures appear inline, then its readable table and, when
    ``claims`` (the report's claims table, as written by the workflow) is given, the claims that read
    the panel's experiment table."""
    from IPython.display import display

    table = panel(tables_dir, figures_dir)
    plt.show()
    if table is not None:
        display(table)
    if claims is not None:
        display(claims_layer.reading(claims, f"ccl_{panel.__name__}"))


# --- Figure 1 --------------------------------------------------------------------------------------


def figure1(tables_dir, figures_dir):
    """CCL Figure 1 and the same picture for the DP-optimal schedule with the same k."""
    table = _table(tables_dir, "ccl_figure1")
    names = dict(zip(("paper", "optimal"), FIGURES["figure1"]))
    summary = []
    for label, rows in table.groupby("schedule", sort=False):
        z = rows["z"].to_numpy()
        sizes = [int(s) for s in schedules.parse_sizes(rows["sizes"].iloc[0])]
        area = float(rows["shaded"].sum())
        fig, ax = plt.subplots(figsize=(7, 4.2))
        draw_step_approximation(ax, z, sizes, title=f"{label} schedule {tuple(sizes)}: shaded area = expected KL = {area:.2f}")
        save_figure(fig, names[label], figures_dir)
        summary.append({"schedule": label, "sizes": tuple(sizes), "shaded area (polygons)": verdicts.polygon_area(z, sizes),
                        "Thm 4 expected KL": float(rows["expected_kl"].iloc[0])})
    return pd.DataFrame(summary)


# --- Thm 4 / 16 identity -----------------------------------------------------------------------------


def identity(tables_dir, figures_dir):
    """Thm 4 / 16: theorem vs brute force vs Monte Carlo, and the mixture KL below the expected KL."""
    table = _table(tables_dir, "ccl_identity")
    enum = table[table.block == "enumeration"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    families = sorted(table.family.unique())
    colours = dict(zip(families, plt.cm.tab20(np.linspace(0, 1, 20))))
    top = max(table.theorem.max(), table.mc.max()) * 1.5
    for family in families:
        rows = table[table.family == family]
        left.errorbar(rows.theorem, rows.mc, yerr=2 * rows.mc_se, fmt="o", ms=4, color=colours[family], alpha=0.8, label=family)
        rows = enum[enum.family == family]
        left.plot(rows.theorem, rows.bruteforce, "x", ms=7, color=colours[family])
        right.plot(rows.theorem, rows.mixture_kl, "o", ms=4, color=colours[family], label=family)
    for ax in (left, right):
        ax.plot([0, top], [0, top], color="0.4", lw=1, ls="--", label="y = x")
        ax.set_xscale("symlog", linthresh=1e-2)
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_xlim(-1e-3, top)
        ax.set_ylim(-1e-3, top)
        ax.set_xlabel("Thm 4 expected KL (nats)")
    left.set_ylabel("estimate (nats)")
    left.set_title("Monte Carlo (o, ±2 s.e.) and brute force (x) vs Thm 4")
    right.set_ylabel("KL(mu || mixture nu) (nats)")
    right.set_title("Thm 16: KL of the sampler's law <= expected KL")
    left.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    save_figure(fig, FIGURES["identity"][0], figures_dir)

    # z-scores only where the estimate has sampling noise (zero-variance rows agree to rounding)
    zscore = ((table.mc - table.theorem) / table.mc_se.where(table.mc_se > 1e-9)).abs()
    summary = table.assign(brute_gap=(table.theorem - table.bruteforce).abs(), mixture_gap=table.mixture_kl - table.theorem, z=zscore)
    return (
        summary.groupby(["block", "family"])
        .agg(n=("n", "first"), q=("q", "first"), schedules=("schedule", "count"), max_theorem=("theorem", "max"),
             max_abs_theorem_minus_bruteforce=("brute_gap", "max"), max_mixture_minus_expected=("mixture_gap", "max"), max_abs_mc_z=("z", "max"))
        .reset_index()
    )


# --- expected KL versus k ---------------------------------------------------------------------------------


def error_vs_k(tables_dir, figures_dir):
    """Expected KL versus k for every schedule and family, the optimum as lower envelope."""
    table = _table(tables_dir, "ccl_error_vs_k")
    families = list(dict.fromkeys(table.family))
    fig, axes = _grid(len(families), 5, width=3.4, height=3.3)
    for ax, family in zip(axes, families):
        rows = table[table.family == family]
        for name, group in rows[rows.kind == "k"].groupby("schedule", sort=False):
            ax.plot(group.k, group.expected_kl, color=schedules.SCHEDULES[name].colour, lw=2.6 if name == "optimal" else 0.9, alpha=1 if name == "optimal" else 0.85,
                    zorder=3 if name == "optimal" else 2, label=schedules.SCHEDULES[name].label)
        for name, group in rows[rows.kind == "eps"].groupby("schedule", sort=False):
            ax.plot(group.steps, group.expected_kl, schedules.SCHEDULES[name].marker, color=schedules.SCHEDULES[name].colour, ms=4.5, ls="none", label=schedules.SCHEDULES[name].label + " (at its steps)")
        n, tc, dtc = rows.n.iloc[0], rows.tc.iloc[0], rows.dtc.iloc[0]
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{family}\nn={n}, TC={tc:.3g}, DTC={dtc:.3g}", fontsize=8)
        ax.set_xlabel("steps k")
        ax.set_ylabel("expected KL (nats)")
    fig.suptitle("CCL Thm 4: exact expected KL vs number of steps; the DP optimum (black) is the lower envelope", fontsize=11)
    _legend_below(fig, axes)
    save_figure(fig, FIGURES["error_vs_k"][0], figures_dir)

    at = table[(table.kind == "k")]
    k_show = [k for k in (2, 4, 8, 16) if k in set(at.k)]
    return at[at.k.isin(k_show)].pivot_table(index=["family", "k"], columns="schedule", values="expected_kl").round(4)


# --- steps versus n -------------------------------------------------------------------------------------


def steps_vs_n(tables_dir, figures_dir):
    """Steps to reach eps versus n: O(log n) for Thm 9 when min(TC, DTC) is O(1), Austin's sqrt(n)."""
    table = _table(tables_dir, "ccl_steps_vs_n")
    families = list(dict.fromkeys(table.family))
    bounded = verdicts.bounded_families(table)
    best = verdicts.best_thm9(table)
    fits = verdicts.log_fits(table)
    fig, axes = _grid(len(families), 3, width=4.2, height=3.4)
    for ax, family in zip(axes, families):
        rows = table[table.family == family]
        for name in ("tc", "dtc", "optimal", "uniform", "cosine", "loglinear", "austin_thm10"):
            group = rows[rows.schedule == name]
            ax.plot(group.n, group.steps, marker="o", ms=3, color=schedules.SCHEDULES[name].colour, lw=2.4 if name == "optimal" else 1.3, label=schedules.SCHEDULES[name].label)
        bound = rows[rows.schedule.str.startswith("thm9 bound")].groupby("n").steps.min()
        ax.plot(bound.index, bound.values, ls="--", color="tab:red", lw=1, label="Thm 9 bound, min(TC, DTC)")
        li_cai = rows[rows.schedule == "li-cai bound"]
        ax.plot(li_cai.n, li_cai.steps, ls=":", color="0.3", lw=1.4, label="Li-Cai bound (Rem. 32)")
        chosen = best[best.family == family]
        fit = fits[family]
        eps = rows.eps.iloc[0]
        if family in bounded:
            grid = np.geomspace(chosen.n.min(), chosen.n.max(), 50)
            ax.plot(grid, fit["intercept"] + fit["slope"] * np.log(grid), color="0.15", ls="-.", lw=1,
                    label="fit a + b ln n (better Thm 9 schedule)")
            note = f"better Thm 9 ~ {fit['intercept']:.0f} + {fit['slope']:.1f} ln n (R² {fit['r2']:.3f})"
        else:
            note = "min(TC, DTC) grows with n: no O(log n) claim"
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{family}, eps = {eps:g} nats\n{note}", fontsize=8.5)
        ax.set_xlabel("sequence length n")
        ax.set_ylabel("steps to reach expected KL <= eps")
    fig.suptitle("Steps needed vs n (CCL Thm 9: O(log n) when min(TC, DTC) = O(1); Thm 10: ~ sqrt(DTC n / eps))", fontsize=11)
    _legend_below(fig, axes, ncol=5)
    save_figure(fig, FIGURES["steps_vs_n"][0], figures_dir)

    largest = table[table.n == table.n.max()]
    order = ["optimal", "tc", "dtc", "cosine", "loglinear", "uniform", "austin_thm10", "thm9 bound (TC)", "thm9 bound (DTC)", "li-cai bound"]
    steps = largest.pivot_table(index="family", columns="schedule", values="steps", sort=False).reindex(columns=order).astype(int)
    return steps.rename_axis(columns=f"steps to reach eps at n = {table.n.max()}")


# --- Reed-Solomon codes (Prop 20, Thm 24) ---------------------------------------------------------------------


def rs_codes(tables_dir, figures_dir):
    """What every schedule pays on RS codes of every dimension, exactly and in TV (simulation)."""
    table = _table(tables_dir, "ccl_rs_codes")
    n, q = int(table.n.iloc[0]), int(table.q.iloc[0])
    import seaborn as sns

    order = list(dict.fromkeys(table.schedule))
    labels = {name: f"{name} [{group}]" for name, group in zip(table.schedule, table.group)}
    kl = table.pivot(index="schedule", columns="dimension", values="expected_kl").reindex(order).rename(index=labels)
    share = table.pivot(index="schedule", columns="dimension", values="outside_share").reindex(order).rename(index=labels)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(0.42 * n + 6, 9), sharex=True)
    sns.heatmap(kl, ax=top, cmap="rocket_r", annot=n <= 32, fmt=".0f", annot_kws={"fontsize": 6.5}, linewidths=0.3,
                cbar_kws={"label": "expected KL (nats)"})
    top.set_title(f"Thm 4 on RS codes (Z = ln q 1[j > d]): expected KL = ln q (N - d), N = first revealed count >= d\n"
                  f"n = {n}, q = {q}, ln q = {math.log(q):.2f} nats; zero exactly when a step ends at d")
    sns.heatmap(share, ax=bottom, cmap="mako_r", vmin=0, vmax=1, annot=n <= 32, fmt=".2f", annot_kws={"fontsize": 5.5}, linewidths=0.3,
                cbar_kws={"label": "share of samples outside the code (<= TV)"})
    bottom.set_title("TV lower bound by simulation with the code's exact oracle (Thm 24: some d has TV >= 1/16 for every oblivious schedule)")
    top.set_xlabel("")
    for ax in (top, bottom):
        ax.set_ylabel("")
        ax.tick_params(axis="y", labelsize=8)
    bottom.set_xlabel("code dimension d")
    fig.tight_layout()
    save_figure(fig, FIGURES["rs_codes"][0], figures_dir)

    return table.groupby(["group", "schedule"]).agg(
        steps=("steps", "max"),
        dims_with_zero_error=("expected_kl", lambda v: int((v.abs() <= 1e-12).sum())),
        mean_expected_kl=("expected_kl", "mean"),
        worst_share_outside=("outside_share", "max"),
    ).round(3)


# --- Thm 25 lift ---------------------------------------------------------------------------------------------------


def code_lift(tables_dir, figures_dir):
    """Thm 25: Markov chain x RS code of unknown dimension k; Z^{up k} and what the Markov-optimal pays."""
    table = _table(tables_dir, "ccl_code_lift")
    curves = table[table.kind == "enumerated"]
    errors = table[table.kind == "error"]
    n, q = int(table.n.iloc[0]), int(table.q.iloc[0])
    K = int(errors.K.max())
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    n_small, q_small = int(curves.n_enumerated.iloc[0]), int(curves.q_enumerated.iloc[0])
    base = curves[curves.k == curves.k.min()]
    left.plot(base.j, base.z, color="black", lw=2.5, marker="o", ms=3, label="Z (Markov chain mu*)")
    colours = plt.cm.viridis(np.linspace(0, 0.9, curves.k.nunique()))
    for (k, rows), colour in zip(curves.groupby("k"), colours):
        left.plot(rows.j, rows.z_up, color=colour, lw=1.5, label=f"Z + ln q 1[j > {k}]")
        left.plot(rows.j, rows.z_family, "x", color=colour, ms=8, label=f"Z(mu* x RS code, k={k}), from the joint pmf")
    left.set_xlabel("index j")
    left.set_ylabel("Z_j (nats)")
    left.set_title(f"Thm 25 lift by enumeration: n = {n_small}, q = {q_small} (ln q = {math.log(q_small):.2f})")
    left.legend(fontsize=7)
    styles = {"Markov-optimal (k unknown)": ("tab:red", "-"), "optimal on Z^{up k}, same steps": ("tab:blue", "--"), "optimal on Z^{up k}, one more step": ("tab:green", ":")}
    shown_errors = errors[errors.K == K]
    for name, rows in shown_errors.groupby("schedule", sort=False):
        colour, line = styles[name]
        right.plot(rows.k, rows.expected_kl, color=colour, ls=line, marker="o", ms=3.5, lw=1.8, label=name)
    markov_error = shown_errors.markov_optimal_error.iloc[0]
    right.axhline(markov_error, color="tab:red", lw=0.8, ls="-.", label=f"Markov-optimal error on Z itself ({markov_error:.2f})")
    mc = shown_errors[shown_errors.mc.notna()]
    right.errorbar(mc.k, mc.mc, yerr=2 * mc.mc_se, fmt="D", color="0.2", ms=4, label="Monte Carlo, paired exact oracle (±2 s.e.)")
    right.axhline(math.log(q), color="0.5", lw=0.8, ls=":", label="ln q")
    right.set_yscale("log")
    right.set_xlabel("code dimension k (unknown to the Markov-optimal schedule)")
    right.set_ylabel("expected KL on mu* x code_k (nats)")
    right.set_title(f"K = {K}-step schedules on the lifted laws (other K in the table)")
    right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    save_figure(fig, FIGURES["code_lift"][0], figures_dir)

    return errors.pivot_table(index="k", columns=["K", "schedule"], values="expected_kl").round(3)


# --- Appendix E ---------------------------------------------------------------------------------------------------

def appendix_e(tables_dir, figures_dir):
    """Appendix E: on the hard curve the optimal k-step error stays Omega(eps) until k ~ log n / eps."""
    table = _table(tables_dir, "ccl_appendix_e")
    optimal = table[table.kind == "optimal"]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.3))
    curve = table[table.kind == "curve"]
    n_max = int(curve.n.max())
    colours = dict(zip(sorted(optimal.eps.unique()), ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")))
    for eps, colour in colours.items():
        rows = curve[curve.eps == eps].sort_values("j")
        left.plot(n_max + 1 - rows.j, rows.z, color=colour, lw=1.2, label=f"eps = {eps:g}")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xlabel("n + 1 - j (distance from the end)")
    left.set_ylabel("Z_j")
    left.set_title(f"Appendix-E curves, n = {n_max}: blocks [(1+eps)^i, (1+eps)^(i+1))\nof height (1+eps)^-i / (4 ln n), read right to left")
    left.legend(fontsize=8)
    markers = dict(zip(sorted(optimal.n.unique()), "os^D"))
    floor = 1e-3
    for (n, eps), rows in optimal.groupby(["n", "eps"]):
        label = f"n = {n}, eps = {eps:g}"
        ratio = np.maximum(rows.expected_kl / eps, floor)
        middle.plot(rows.k, ratio, color=colours[eps], marker=markers[n], ms=2.5, lw=0.8, label=label)
        right.plot(rows.k * eps / np.log(n), ratio, color=colours[eps], marker=markers[n], ms=2.5, lw=0.8, label=label)
        thm9 = table[(table.kind == "thm9") & (table.n == n) & (table.eps == eps)]
        thm9 = thm9.loc[[thm9.k.idxmin()]]
        right.plot(thm9.k * eps / np.log(n), np.maximum(thm9.expected_kl / eps, floor), ls="none", marker="*", ms=10, color=colours[eps],
                   markeredgecolor="black", markeredgewidth=0.5)
    for ax in (middle, right):
        ax.axhline(verdicts.APPENDIX_E_FRACTION, color="0.4", ls=":", lw=1, label="error = eps / 4")
        ax.set_yscale("log")
        ax.set_ylim(floor * 0.8, None)
        ax.set_ylabel("optimal expected KL / eps (floored at 1e-3)")
    middle.set_xscale("log")
    middle.set_xlabel("steps k")
    middle.set_title("best k-step error (DP optimum)")
    right.axvline(verdicts.APPENDIX_E_C, color="tab:red", ls="--", lw=1, label=f"k = {verdicts.APPENDIX_E_C} ln n / eps")
    right.set_xlim(0, 1.5)
    right.set_xlabel("k eps / ln n")
    right.set_title("collapse: k in units of ln n / eps\n(* = the better Thm 9 schedule at target eps)")
    right.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    save_figure(fig, FIGURES["appendix_e"][0], figures_dir)

    summary = verdicts.appendix_e_summary(table)
    return summary.round(3)


# --- App. D sweep ----------------------------------------------------------------------------------------------


def sweep(tables_dir, figures_dir):
    """App. D: sweep C over powers of two when TC / DTC are unknown; cost versus knowing them."""
    table = _table(tables_dir, "ccl_sweep")
    summary = verdicts.sweep_summary(table)
    eps0 = table.eps.min()
    families = list(dict.fromkeys(table.family))
    colours = dict(zip(families, plt.cm.tab10(np.linspace(0, 1, 10))))
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.6))
    rows = table[(table.kind == "sweep") & (table.eps == eps0)]
    for family in families:
        for name, line in (("tc", "-"), ("dtc", "--")):
            group = rows[(rows.family == family) & (rows.schedule == name)]
            left.plot(group.c, group.expected_kl / eps0, ls=line, marker="o", ms=3, color=colours[family], label=family if name == "tc" else None)
        stop = rows[(rows.family == family) & rows.stop]
        left.plot(stop.c, stop.expected_kl / eps0, marker="*", ms=12, ls="none", color=colours[family], markeredgecolor="black", markeredgewidth=0.6)
    for n, group in rows.groupby("n"):  # steps depend on (n, C, eps) only
        family = group.family.iloc[0]
        for name, line in (("tc", "-"), ("dtc", "--")):
            one = group[(group.family == family) & (group.schedule == name)]
            middle.plot(one.c, one.steps, ls=line, marker="o" if name == "tc" else "x", ms=4 if name == "tc" else 7,
                        color="tab:red" if name == "tc" else "tab:pink", label=f"{name.upper()} schedule, n = {n}")
    middle.legend(fontsize=7)
    left.axhline(1, color="black", lw=1, ls=":")
    left.set_xscale("log", base=2)
    left.set_yscale("symlog", linthresh=1e-2)
    left.set_ylim(bottom=0)
    left.set_xlabel("estimate C of TC (solid) or DTC (dashed)")
    left.set_ylabel("expected KL / eps")
    left.set_title(f"App. D sweep, eps = {eps0:g} nats: error (* = where the sweep stops)")
    left.legend(fontsize=6.5)
    middle.set_xscale("log", base=2)
    middle.set_yscale("log")
    middle.set_xlabel("estimate C")
    middle.set_ylabel("steps")
    middle.set_title("steps of the Thm 9 schedules (depend on n, C, eps only;\nTC and DTC schedules are near mirror images)")
    shown = summary[summary.eps == eps0]
    x = np.arange(len(shown))
    right.bar(x - 0.2, shown["known steps"], 0.4, label="TC / DTC known (better of the two)")
    right.bar(x + 0.2, shown["sweep steps"], 0.4, label="sweep until error <= eps (total)")
    right.set_xticks(x, [f.replace(" ", "\n", 1) for f in shown.family], rotation=60, fontsize=6.5, ha="right")
    right.set_yscale("log")
    right.set_ylabel("total steps")
    right.set_title("cost of not knowing TC / DTC")
    right.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, FIGURES["sweep"][0], figures_dir)

    return summary.round(3)


# --- heuristics audit -----------------------------------------------------------------------------------------------


def heuristics(tables_dir, figures_dir):
    """CCL open question: how far cosine and log-linear are from the optimum on each family."""
    table = _table(tables_dir, "ccl_heuristics")
    at_k = table[(table.kind == "k") & (table.schedule != "optimal")]
    steps = table[table.kind == "steps"]
    families = list(dict.fromkeys(table.family))
    colours = dict(zip(families, plt.cm.tab10(np.linspace(0, 1, 10))))
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    beyond = at_k[at_k.k > 1].groupby("family").ratio.apply(lambda v: np.isinf(v).mean())
    curved = [family for family in families if beyond[family] < 0.5]  # the optimum is not exact at most k
    for ax, name in zip(axes[:2], ("cosine", "loglinear")):
        for family in curved:
            rows = at_k[(at_k.family == family) & (at_k.schedule == name) & (at_k.k > 1) & np.isfinite(at_k.ratio)]
            ax.plot(rows.k, rows.ratio, marker="o", ms=2.5, lw=1, color=colours[family], label=family)
        ax.axhline(1, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("steps k")
        ax.set_ylabel("expected KL / optimal expected KL")
        ax.set_title(f"{schedules.SCHEDULES[name].label} vs the DP optimum at equal k\n(not shown: {', '.join(f for f in families if f not in curved)}:"
                     "\nthe optimum is exact there, the heuristic is not)", fontsize=8.5)
    axes[0].legend(fontsize=6.5)
    fraction = steps.eps_fraction.min()
    shown = steps[(steps.eps_fraction == fraction) & (steps.schedule != "optimal")]
    pivot = shown.pivot_table(index="family", columns="schedule", values="ratio").reindex(families)
    x = np.arange(len(pivot))
    width = 0.8 / len(pivot.columns)
    for i, name in enumerate(pivot.columns):
        axes[2].bar(x + (i - (len(pivot.columns) - 1) / 2) * width, pivot[name], width, color=schedules.SCHEDULES[name].colour, label=schedules.SCHEDULES[name].label)
    axes[2].axhline(1, color="black", lw=0.8)
    axes[2].set_yscale("log")
    axes[2].set_xticks(x, [f.replace(" ", "\n", 1) for f in pivot.index], rotation=60, fontsize=6.5, ha="right")
    axes[2].set_ylabel("steps needed / optimal steps")
    axes[2].set_title(f"steps to reach eps = {fraction:g} x TC")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, FIGURES["heuristics"][0], figures_dir)

    order = ["optimal", "tc", "dtc", "cosine", "loglinear", "geometric", "uniform"]
    summary = steps.pivot_table(index=["family", "eps_fraction"], columns="schedule", values="steps", sort=False)
    return summary.reindex(columns=[name for name in order if name in summary.columns]).astype(int)
