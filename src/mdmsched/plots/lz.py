"""Panels of the Lavenant-Zanella report: each loads its experiment tables, draws one figure (PDF +
PNG) and returns it. Panels only draw: the verdicts are :mod:`mdmsched.claims.lz`, whose tolerances
the bands drawn here show. Errors are in nats; "constant" sizes are the ``balanced`` schedule."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import schedules
from ..claims.lz import RATE_A, RATE_B
from ..io import read_table
from ..plotting import save_figure

# panel -> the figures (file names without extension) it saves; the report registry
# (mdmsched.reports.REPORTS) takes the workflow's figure list from here
FIGURES = {
    "identities": ("lz_identities",),
    "profiles": ("lz_profiles",),
    "error_vs_k": ("lz_error_vs_k",),
    "worst_case": ("lz_worst_case",),
    "dimension_free": ("lz_dimension_free",),
    "scaling_limit": ("lz_scaling_limit",),
    "optimal_path": ("lz_optimal_path", "lz_limit_profiles"),
    "gaussian": ("lz_gaussian",),
}


def _table(tables_dir, name) -> pd.DataFrame:
    return read_table(Path(tables_dir) / f"{name}.csv")


# ------------------------------------------------------------------------------------------------
# The decomposition (LZ Prop. 2) and the LZ form = CCL Thm 4 (LZ Lemma 6)
# ------------------------------------------------------------------------------------------------


def identities(tables_dir, figures_dir):
    """LZ form = CCL Thm 4 (= brute force), KL = E_fact + E_learn for fixed planners, and the random
    planner's KL(mu || p_alg) <= E_fact + E_learn."""
    table = _table(tables_dir, "lz_identities")
    finite = table[table.family != "gaussian"]
    gap_lz = float((table.lz_form - table.thm4).abs().max())
    brute = finite.dropna(subset=["bruteforce"])
    random = finite.dropna(subset=["kl_mixture"])

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    ax = axes[0]
    positive = table[table.thm4 > 1e-9]
    for family, rows in positive.groupby("family"):
        ax.scatter(rows.thm4, rows.lz_form, label=family, s=30)
    brute_pos = brute[brute.thm4 > 1e-9]
    ax.scatter(brute_pos.thm4, brute_pos.bruteforce, marker="x", color="k", s=50, label="brute force (all partitions)")
    lims = [positive.thm4.min() / 2, positive.thm4.max() * 2]
    ax.plot(lims, lims, color="0.5", lw=1, ls="--", label="y = x")
    ax.set(xscale="log", yscale="log", xlabel="CCL Thm 4 expected KL (nats)", ylabel="LZ form E_fact (nats)", title=f"LZ form = CCL Thm 4 (max |diff| {gap_lz:.0e})")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax = axes[1]
    total = finite.e_fact_fixed_tc + finite.e_learn_fixed
    ax.scatter(total, finite.kl_fixed, label="fixed planner: KL(pi || q_z)", s=30, color="tab:blue")
    ax.scatter(random.e_fact_random + random.e_learn_random, random.kl_mixture, label="random planner: KL(pi || p_alg)", s=30, marker="s", color="tab:red")
    lims = [min(total.min(), random.kl_mixture.min()) * 0.8, total.max() * 1.2]
    ax.plot(lims, lims, color="0.5", lw=1, ls="--", label="y = x")
    ax.set(xscale="log", yscale="log", xlabel="E_fact + E_learn (nats)", ylabel="KL of the sampler's law (nats)", title="KL = E_fact + E_learn (fixed); <= (random)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    save_figure(fig, FIGURES["identities"][0], figures_dir)
    return fig


# ------------------------------------------------------------------------------------------------
# Profiles, E_fact versus K, the bounds (LZ Thm 7, Prop. 3)
# ------------------------------------------------------------------------------------------------


def _family_grid(count):
    cols = 4
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def profiles(tables_dir, figures_dir):
    """Information profiles f(l) of the families (LZ)."""
    table = _table(tables_dir, "lz_profiles")
    families = list(dict.fromkeys(table.family))
    fig, axes = _family_grid(len(families))
    for ax, family in zip(axes, families):
        rows = table[table.family == family]
        f = rows.f.to_numpy()
        l = rows.l.to_numpy()
        if np.count_nonzero(f > 1e-15) <= 3:  # codes, all-equal: single jumps of Z
            ax.vlines(l, 0, f, lw=1.5)
            ax.plot(l[f > 1e-15], f[f > 1e-15], "o", ms=4)
        else:
            ax.plot(l, f, marker=".", ms=3, lw=1.2)
            if np.all(f > 1e-15):
                ax.set_yscale("log")
        ax.set_title(f"{rows.label.iloc[0]}\nD = {rows.D.iloc[0]:.3f} nats", fontsize=9)
        ax.set_xlabel("l  (two tokens given l - 1 revealed)")
        ax.set_ylabel("f(l) (nats)")
    n = int(table.n.iloc[0])
    fig.suptitle(f"LZ information profiles f(l) = H_(l-1) - H_l at N = {n} (exact curves)", y=1.0)
    fig.tight_layout()
    save_figure(fig, FIGURES["profiles"][0], figures_dir)
    return fig


def error_vs_k(tables_dir, figures_dir):
    """E_fact versus K (log-log) for four schedules, with LZ's two bounds."""
    table = _table(tables_dir, "lz_error_vs_k")
    families = list(dict.fromkeys(table.family))
    fig, axes = _family_grid(len(families))
    floor = 1e-4
    for ax, family in zip(axes, families):
        rows = table[table.family == family]
        for name, group in rows.groupby("schedule", sort=False):
            style = schedules.style(name)
            ax.plot(group.k, np.maximum(group.e_fact, floor * 1.5), ms=4, lw=1.3, **style)
            zero = group[group.e_fact <= floor]
            ax.plot(zero.k, np.full(len(zero), floor * 1.5), ls="none", marker=style["marker"], ms=7, mfc="white", color=style["color"])
        constant = rows[(rows.schedule == "balanced") & (rows.k < rows.n)]
        ax.plot(constant.k, constant.bound_smax, color="k", ls="--", lw=1, label="(s_max - 1) D, constant sizes")
        if constant.bound_worst.notna().all():
            ax.plot(constant.k, constant.bound_worst, color="tab:red", ls=":", lw=1.3, label="(N - K) ln q (any planner)")
        ax.set(xscale="log", yscale="log", xlabel="steps K", ylabel="E_fact (nats)")
        ax.set_ylim(bottom=floor)
        ax.set_title(rows.label.iloc[0], fontsize=9)
    extra = [(h, l) for ax in axes for h, l in zip(*ax.get_legend_handles_labels())]
    seen = dict((l, h) for h, l in extra)
    fig.legend(list(seen.values()), list(seen.keys()), loc="lower center", ncol=6, fontsize=8, bbox_to_anchor=(0.5, -0.04))
    n = int(table.n.iloc[0])
    fig.suptitle(f"Random-order factorization error vs steps at N = {n} (hollow markers on the bottom axis: E_fact < {floor:g}, mostly exactly 0)", y=1.0)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, FIGURES["error_vs_k"][0], figures_dir)
    return fig


# ------------------------------------------------------------------------------------------------
# Worst case, deterministic versus random planner (LZ Lemma 4)
# ------------------------------------------------------------------------------------------------


def worst_case(tables_dir, figures_dir):
    """Block-copy law: deterministic block-aligned planner (N - K) ln q versus random order."""
    table = _table(tables_dir, "lz_worst_case")
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    equal = table[table.block_length > 0]
    colors = dict(zip(sorted(equal.block_length.unique()), ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]))
    for b, rows in equal.groupby("block_length"):
        c = colors[b]
        ax.plot(rows.n, rows.deterministic_closed, color=c, ls="--", lw=1.3, label=f"deterministic, blocks of {b}: (N - K) ln q")
        ex = rows.dropna(subset=["deterministic_exact"])
        ax.plot(ex.n, ex.deterministic_exact, "o", color=c, mfc="none", ms=8)
        ax.plot(rows.n, rows.random_thm4, color=c, lw=2, marker="s", ms=4, label=f"random order, blocks of {b} (Thm 4)")
        br = rows.dropna(subset=["random_bruteforce"])
        ax.plot(br.n, br.random_bruteforce, "x", color="k", ms=7)
    for _, row in table[table.block_length == 0].iterrows():
        ax.plot(row.n, row.deterministic_exact, "*", color="tab:red", ms=13, zorder=5)
        ax.plot(row.n, row.random_thm4, "*", color="tab:red", ms=11, mfc="white", zorder=5, label=f"blocks ({row.blocks.replace('-', ',')}): deterministic (filled) / random (open)")
        ax.annotate(f"blocks ({row.blocks.replace('-', ',')}): {row.deterministic_exact:.3f} = {row.n - row.k} ln {row.q}", (row.n, row.deterministic_exact), xytext=(row.n * 3, row.deterministic_exact * 1.5), textcoords="data", fontsize=8, color="tab:red", arrowprops=dict(arrowstyle="->", color="tab:red", lw=0.8))
    ax.plot([], [], "o", color="0.3", mfc="none", label="enumerated KL(mu || nu^S)")
    ax.plot([], [], "x", color="k", label="brute force over partitions")
    ax.set(xscale="log", yscale="log", xlabel="N (tokens)", ylabel="E_fact (nats)", title=f"Block-copy law, q = {int(table.q.iloc[0])}: deterministic vs random planner (same sizes)")
    ax.legend(fontsize=7.5, ncol=2, loc="upper left")
    fig.tight_layout()
    save_figure(fig, FIGURES["worst_case"][0], figures_dir)
    return fig


def worst_case_table(tables_dir) -> pd.DataFrame:
    table = _table(tables_dir, "lz_worst_case")
    shown = table[["blocks", "n", "k", "deterministic_exact", "deterministic_closed", "random_thm4", "random_bruteforce", "bound_smax"]].copy()
    shown["ratio"] = shown.deterministic_closed / shown.random_thm4
    return shown.round(4)


# ------------------------------------------------------------------------------------------------
# Dimension-free bound (LZ Thm 7)
# ------------------------------------------------------------------------------------------------


def dimension_free(tables_dir, figures_dir):
    """E_fact at fixed N/K as N grows (constant sizes) against (N/K - 1) D."""
    table = _table(tables_dir, "lz_dimension_free")
    families = list(dict.fromkeys(table.family))
    cols = 3
    fig, axes = plt.subplots(math.ceil(len(families) / cols), cols, figsize=(13, 3.3 * math.ceil(len(families) / cols)), squeeze=False)
    axes = axes.ravel()
    ratios = sorted(table.ratio.unique())
    colors = dict(zip(ratios, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]))
    for ax, family in zip(axes, families):
        rows = table[table.family == family]
        for r, group in rows.groupby("ratio"):
            ax.plot(group.n, group.e_fact, marker="o", ms=4, color=colors[r], label=f"E_fact, N/K = {r}")
            ax.plot(group.n, group.bound, ls="--", color=colors[r], lw=1, label=f"(N/K - 1) D, N/K = {r}")
        ax.set(xscale="log", xlabel="N (tokens)", ylabel="E_fact (nats)")
        ax.set_title(rows.label.iloc[0], fontsize=9)
        ax.set_ylim(bottom=0)
    for ax in axes[len(families):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, bbox_to_anchor=(0.5, -0.03))
    fig.suptitle("Constant sizes at fixed N/K: E_fact (solid) stays below (N/K - 1) D (dashed) and converges as N grows", y=1.0)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, FIGURES["dimension_free"][0], figures_dir)
    return fig


# ------------------------------------------------------------------------------------------------
# Continuum limit and the square-root rule (LZ Sec. 5, Prop. 13)
# ------------------------------------------------------------------------------------------------

PROFILE_COLORS = {"flat": "tab:gray", "power": "tab:purple", "exp": "tab:brown", "markov": "tab:blue", "block_copy": "tab:orange"}


def _plain_log_ticks(ax, values):
    """Log x axis with the data values as plain tick labels (no 10^x minor clutter)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    values = sorted(int(v) for v in values)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(v) for v in values])


def scaling_limit(tables_dir, figures_dir):
    """(K/N) E_fact -> D/2 and (int sqrt g)^2/2 (N/K -> inf); E_fact -> 1/2 int (s - 1) g (N/K = c)."""
    table = _table(tables_dir, "lz_scaling_limit")
    a = table[table.regime == "A"]
    b = table[table.regime == "B"]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    for col, names in enumerate((["balanced"], ["optimal"], ["sqrt", "sqrt_continuum"])):
        ax = axes[0, col]
        for profile, rows in a[a.schedule.isin(names)].groupby("profile", sort=False):
            for name, group in rows.groupby("schedule", sort=False):
                ax.plot(group.k, group.measured / group.prediction, marker="o" if name != "sqrt_continuum" else "v", ls="-" if name != "sqrt_continuum" else ":", color=PROFILE_COLORS.get(profile), ms=4, label=f"{group.label.iloc[0]}" + (" (continuum rule)" if name == "sqrt_continuum" else ""))
        ks = np.sort(a.k.unique())
        ax.fill_between(ks, 1 - RATE_A / ks, 1 + RATE_A / ks, color="0.85", label=f"1 +- {RATE_A:g}/K")
        ax.axhline(1, color="k", lw=0.8)
        target = "D / 2" if names == ["balanced"] else "(int sqrt g)^2 / 2"
        ax.set(xlabel="K (N = %d K^2)" % int(a.n.iloc[0] / a.k.iloc[0] ** 2), ylabel=f"(K/N) E_fact / [{target}]")
        _plain_log_ticks(ax, ks)
        ax.set_title(f"N/K -> inf: {schedules.SCHEDULES[names[0]].label}", fontsize=10)
    for col, names in enumerate((["balanced"], ["optimal"], ["sqrt", "sqrt_continuum"])):
        ax = axes[1, col]
        for (profile, ratio), rows in b[b.schedule.isin(names)].groupby(["profile", "ratio"], sort=False):
            for name, group in rows.groupby("schedule", sort=False):
                ax.plot(group.n, group.measured / group.prediction, marker="o" if ratio == b.ratio.min() else "s", ls="-" if name != "sqrt_continuum" else ":", color=PROFILE_COLORS.get(profile), ms=4, label=f"{profile}, N/K = {ratio:g}" + (" (continuum rule)" if name == "sqrt_continuum" else ""))
        ns = np.sort(b.n.unique())
        ax.fill_between(ns, 1 - RATE_B / ns, 1 + RATE_B / ns, color="0.85", label=f"1 +- {RATE_B:g}/N")
        ax.axhline(1, color="k", lw=0.8)
        target = {"balanced": "(c-1) D/2", "optimal": "integer-size optimum", "sqrt": "floor/ceil mix of c G(1)/sqrt g"}[names[0]]
        ax.set(xlabel="N (N/K = c fixed)", ylabel=f"E_fact / [{target}]")
        _plain_log_ticks(ax, ns)
        ax.set_title(f"N/K = c: {schedules.SCHEDULES[names[0]].label}", fontsize=10)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=6.5, ncol=2)
    fig.suptitle("LZ continuum limits: measured / predicted (exact E_fact; f(l) ~ g(l/N)/N)", y=1.0)
    fig.tight_layout()
    save_figure(fig, FIGURES["scaling_limit"][0], figures_dir)
    return fig


def scaling_table(tables_dir) -> pd.DataFrame:
    table = _table(tables_dir, "lz_scaling_limit")
    top_a = table[(table.regime == "A") & (table.k == table[table.regime == "A"].k.max())]
    top_b = table[(table.regime == "B") & (table.n == table[table.regime == "B"].n.max())]
    shown = pd.concat([top_a, top_b])[["regime", "profile", "n", "k", "schedule", "measured", "prediction", "real_formula", "relative_error", "path_deviation"]]
    return shown.round(5).reset_index(drop=True)


def optimal_path(tables_dir, figures_dir):
    """DP-optimal a_k / N against alpha*(t) = G^{-1}(t G(1)), and N f(uN) against g(u)."""
    table = _table(tables_dir, "lz_optimal_path")
    paths = table[table.kind == "path"]
    profiles = list(dict.fromkeys(paths.profile))
    fig, axes = plt.subplots(2, len(profiles), figsize=(3.3 * len(profiles), 6.4), squeeze=False, gridspec_kw={"height_ratios": [3, 2]})
    for ax, profile in zip(axes[1], profiles):
        rows = paths[paths.profile == profile]
        for name, group in rows.groupby("schedule", sort=False):
            style = schedules.style(name)
            ax.plot(group.x, group.value - group.reference, marker=style["marker"], color=style["color"], ms=3, lw=1, label=style["label"])
        ax.axhline(0, color="k", lw=0.8)
        ax.set(xlabel="t = k / K", ylabel="a_k / N - alpha*(k/K)")
    for ax, profile in zip(axes[0], profiles):
        rows = paths[paths.profile == profile]
        reference = rows[rows.schedule == "optimal"]
        t = np.linspace(0, 1, 401)
        ax.plot(reference.x, reference.reference, color="k", lw=1.5, label="alpha*(t) = G^-1(t G(1))")
        for name, group in rows.groupby("schedule", sort=False):
            style = schedules.style(name)
            ax.plot(group.x, group.value, ls="none", marker=style["marker"], color=style["color"], ms=4, mfc="none" if name == "sqrt" else None, label=style["label"])
        ax.plot(t, t, color="0.6", ls=":", lw=1, label="constant sizes")
        ax.set(ylabel="revealed fraction a_k / N")
        ax.set_title(f"{rows.label.iloc[0]}\nN = {int(rows.n.iloc[0])}, K = {int(rows.k.iloc[0])}", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    save_figure(fig, FIGURES["optimal_path"][0], figures_dir)

    limits = table[table.kind == "profile"]
    shown = [p for p in dict.fromkeys(limits.profile) if p in ("markov", "block_copy", "gaussian")]
    fig2, axes2 = plt.subplots(1, len(shown), figsize=(4.4 * len(shown), 3.6), squeeze=False)
    sizes = sorted(limits.n.unique())
    colors = dict(zip(sizes, ["tab:orange", "tab:green", "tab:blue", "tab:red"]))
    for ax, profile in zip(axes2[0], shown):
        rows = limits[limits.profile == profile]
        for n, group in rows.groupby("n"):
            ax.plot(group.x, group.value, color=colors[n], lw=1.3, label=f"N f(uN), N = {n}")
        ref = rows[rows.n == max(sizes)]
        if profile != "gaussian":
            ax.plot(ref.x, ref.reference, color="k", ls="--", lw=1.2, label="limit g(u)")
        else:
            for n, group in rows.groupby("n"):
                u = group.x[group.x >= 0.02]
                ax.plot(u, 1 / (2 * n * u**2), color=colors[n], ls=":", lw=1.2)
            ax.plot([], [], color="0.3", ls=":", label="1 / (2 N u^2)")
            ax.set_yscale("log")
        ax.set(xlabel="u = l / N", ylabel="N f(uN) (nats)")
        ax.set_title(rows.label.iloc[0], fontsize=9)
        ax.legend(fontsize=7)
    fig2.suptitle("Rescaled profiles: Markov and block-copy laws have a smooth limit g; the exchangeable Gaussian does not (N f(uN) -> 0)", y=1.02, fontsize=10)
    fig2.tight_layout()
    save_figure(fig2, FIGURES["optimal_path"][1], figures_dir)
    return fig, fig2


# ------------------------------------------------------------------------------------------------
# Exchangeable Gaussian (LZ App. A)
# ------------------------------------------------------------------------------------------------


def gaussian(tables_dir, figures_dir):
    """E_fact of four schedules at N = 256, 1024; steps to reach eps versus N; the dyadic claim."""
    errors = _table(tables_dir, "lz_gaussian_errors")
    steps = _table(tables_dir, "lz_gaussian_steps")
    dyadic = _table(tables_dir, "lz_gaussian_dyadic")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    ax = axes[0]
    for name, rows in errors.groupby("schedule", sort=False):
        for n, group in rows.groupby("n"):
            style = schedules.style(name)
            label = style.pop("label") + f", N = {n}"
            ax.plot(group.k, group.e_fact, ls="-" if n == errors.n.min() else "--", ms=5, label=label, **style)
    ax.set(xlabel="steps K", ylabel="E_fact (nats)", yscale="log", title="Exchangeable Gaussian (rho = %g)" % errors.rho.iloc[0])
    ax.set_xticks(sorted(errors.k.unique()))
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax = axes[1]
    for name, rows in steps.groupby("schedule", sort=False):
        ax.plot(rows.n, rows.k_min, ms=5, **schedules.style(name))
    ns = np.sort(steps.n.unique())
    ax.plot(ns, np.log2(ns), color="k", ls=":", lw=1, label="log2 N")
    ax.plot(ns, np.log(ns) ** 2 / (4 * steps.eps.iloc[0]), color="k", ls="--", lw=1, label="(ln N)^2 / (4 eps)")
    ax.set(xscale="log", yscale="log", xlabel="N (tokens)", ylabel=f"smallest K with E_fact <= {steps.eps.iloc[0]:g}", title="Steps needed for a fixed error")
    ax.legend(fontsize=7)
    ax = axes[2]
    for n_kind, rows in dyadic.assign(kind=np.where(dyadic.n == 2**dyadic.k, "N = 2^K", "N = 2^K - 1")).groupby("kind"):
        ax.plot(rows.k, rows.e_dp, marker="o", ms=5, label=f"DP optimum, {n_kind}")
        ax.plot(rows.k, rows.e_dyadic, marker="x", ls="none", ms=8, color="k")
    ks = np.sort(dyadic.k.unique())
    anchor = dyadic[dyadic.k == ks[-1]].e_dp.min()
    ax.plot(ks, anchor + (1 - math.log(2)) / 2 * (ks - ks[-1]), color="0.5", ls="--", lw=1, label="slope (1 - ln 2)/2 per step")
    ax.plot([], [], "x", color="k", label="a_k = 2^k - 1 (dyadic)")
    ax.set(xlabel="K (N = 2^K or 2^K - 1)", ylabel="E_fact (nats)", title="rho = 1: the optimum is a_k = 2^k - 1")
    for ax in axes[1:]:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    save_figure(fig, FIGURES["gaussian"][0], figures_dir)
    return fig


def gaussian_table(tables_dir) -> pd.DataFrame:
    """E_fact (nats) per schedule at each (N, K): the LZ-style table."""
    errors = _table(tables_dir, "lz_gaussian_errors")
    return errors.pivot_table(index=["n", "k"], columns="schedule", values="e_fact")[["balanced", "geometric", "sqrt", "optimal"]].round(4)


def gaussian_steps_table(tables_dir) -> pd.DataFrame:
    steps = _table(tables_dir, "lz_gaussian_steps")
    return steps.pivot_table(index="n", columns="schedule", values="k_min")[["balanced", "geometric", "sqrt", "optimal"]]
