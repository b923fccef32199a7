"""Panels of the learned-oracle report: trained denoisers used as the oracle of both papers.

Each panel reads the tables of :func:`mdmsched.mdm.pipeline.evaluate_model` (one set per model),
draws one figure (PDF + PNG) and returns it. Panels only draw: the verdicts are
:mod:`mdmsched.claims.learned`. Errors in nats unless a column says bits.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter, ScalarFormatter
import pandas as pd

from ..schedules import SCHEDULES
from ..schedules import style as schedule_style
from ..claims.learned import KINDS, combined, of_kind, table_names
from ..io import read_table
from ..plotting import save_figure
from .unmasking import COLOURS, MARKERS

# panel -> the figures (file names without extension) it saves; the report registry
# (mdmsched.reports.REPORTS) takes the workflow's figure list from here
FIGURES = {
    "training": ("learned_training",),
    "curves": ("learned_curves",),
    "schedules": ("learned_schedules",),
    "text": ("learned_text",),
    "rules": ("learned_rules",),
}

# (schedule, curve it was built from) drawn in the learned panels
DRAWN = (("uniform", "none"), ("cosine", "none"), ("loglinear", "none"), ("sqrt", "estimated"), ("sqrt", "true"),
         ("optimal", "estimated"), ("optimal", "true"), ("tc", "estimated"), ("dtc", "estimated"))


def _style(name: str, source: str) -> dict:
    """The schedule's registry style; built from the true curve: dashed, hollow; TC / DTC as points."""
    style = schedule_style(name)
    if source == "true":
        style.update(ls="--", mfc="none", label=f"{style['label']} (true curve)")
    elif source == "estimated":
        style["label"] = f"{style['label']} (estimated {'curve' if name in ('sqrt', 'optimal') else name.upper()})"
    if SCHEDULES[name].kind == "target":
        style["ls"] = "none"
    return style


def load(tables_dir, models) -> dict[str, pd.DataFrame]:
    """The tables of every model, concatenated per kind: curve, schedules, steps, summary, samples, rules."""
    per_model = {name: read_table(Path(tables_dir) / f"{name}.csv") for name in table_names(models)}
    return {kind: combined(per_model, kind) for kind in KINDS}


def _k_axis(ax, ks) -> None:
    """Log-scaled k axis labelled at the measured k (plain integers, no minor labels)."""
    ax.set_xscale("log")
    ax.set_xticks(sorted({int(k) for k in ks}))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _placeholder(figures_dir, name, message):
    """A figure saying why a panel is empty (the workflow expects every figure file)."""
    fig, ax = plt.subplots(figsize=(5, 1.5))
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.axis("off")
    save_figure(fig, name, figures_dir)
    return fig


def training(tables, models_dir, figures_dir):
    """Training loss and held-out NELBO per model (bits per token)."""
    summary = tables["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for model in summary.model:
        history = read_table(Path(models_dir) / f"{model}.history.csv")
        axes[0].plot(history.step, history.loss / math.log(2), label=model)
        validation = history.dropna(subset=["val_loss_bits"])
        axes[1].plot(validation.step, validation.val_loss_bits, marker="o", label=model)
    for ax, title in zip(axes, ("training loss (NELBO, bits/token)", "held-out NELBO (bits/token)")):
        ax.set(xlabel="optimizer step", title=title)
        ax.legend(fontsize=8)
    save_figure(fig, FIGURES["training"][0], figures_dir)
    return fig


def curves(tables, figures_dir):
    """Estimated versus true information curves (CCL Lemma 13 from the model's cross-entropy)."""
    curve, summary = tables["curve"], tables["summary"]
    models = list(summary.model)
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.6), squeeze=False)
    styles = {"model": dict(color="tab:blue", label="trained model (isotonic fit, 90% band)"),
              "exact oracle": dict(color="tab:orange", ls="--", label="same estimator, exact oracle"),
              "true": dict(color="black", lw=1, label="true curve")}
    for ax, model in zip(axes[0], models):
        for estimator, style in styles.items():
            rows = curve[(curve.model == model) & (curve.estimator == estimator)]
            if not len(rows):
                continue
            ax.plot(rows.a, rows.z, **style)
            if estimator == "model":
                ax.fill_between(rows.a, rows.z_lower, rows.z_upper, color="tab:blue", alpha=0.2)
        ax.set(title=model, xlabel="revealed tokens j", ylabel="Z_j (nats)")
        ax.legend(fontsize=7)
    save_figure(fig, FIGURES["curves"][0], figures_dir)
    return fig


def schedules(tables, figures_dir):
    """Synthetic data: expected KL of every schedule run through the model (Monte Carlo against the
    true law), its split into factorization and learning error, and schedules from the estimated
    curve against the exact-curve optimum (CCL Thm 4 on the true curve)."""
    table = tables["schedules"]
    models = of_kind(tables["summary"], "synthetic")
    if not models:
        return _placeholder(figures_dir, FIGURES["schedules"][0], "no synthetic-data model in this config")
    fig, axes = plt.subplots(2, len(models), figsize=(5.2 * len(models), 7.5), squeeze=False)
    for column, model in enumerate(models):
        rows = table[table.model == model]
        top, bottom = axes[0, column], axes[1, column]
        for name, source in DRAWN:
            style = _style(name, source)
            part = rows[(rows.schedule == name) & (rows.curve == source)].sort_values("steps")
            measured = part.dropna(subset=["kl"])
            if len(measured):
                top.errorbar(measured.steps, measured.kl, yerr=2 * measured.kl_se, capsize=2, ms=4, **style)
            if (name, source) in (("optimal", "estimated"), ("optimal", "true"), ("uniform", "none")):
                bottom.plot(part.steps, part.factorization_exact, **style)
        optimum = rows.drop_duplicates("steps").sort_values("steps")
        top.plot(optimum.steps, optimum.optimal_exact, color="black", lw=1, label="exact oracle, DP optimum (Thm 4)")
        _k_axis(top, rows.k_target.dropna())
        _k_axis(bottom, rows.k_target.dropna())
        top.set(yscale="log", xlabel="steps k", ylabel="E KL(mu || model sampler) (nats)",
                title=f"{model}: model as the oracle (Monte Carlo, 2 SE)")
        top.legend(fontsize=6)
        uniform = rows[(rows.schedule == "uniform")].sort_values("steps")
        bottom.plot(uniform.steps, uniform.learning, color="tab:red", marker=".", label="learning error (uniform)")
        bottom.set(yscale="symlog", xlabel="steps k", ylabel="nats",
                   title="factorization error (exact, Thm 4) and learning error")
        bottom.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, FIGURES["schedules"][0], figures_dir)
    return fig


def steps_table(tables) -> pd.DataFrame:
    """Steps to reach each eps (exact factorization error on the true curve) per schedule, with the
    exact-oracle optimum beside it, one column per model and eps."""
    steps = tables["steps"]
    if not len(steps):
        return steps
    steps = steps.assign(schedule=steps.schedule + " (" + steps.curve + " curve)")
    wide = steps.pivot_table(index="schedule", columns=["model", "eps"], values="steps")
    best = steps.drop_duplicates(["model", "eps"]).set_index(["model", "eps"]).optimal_steps
    wide.loc["exact-oracle optimum"] = best
    return wide.astype(int)


def text(tables, figures_dir):
    """Text: NELBO in bits per character, and the factorization gap (schedule NLL minus
    one-token-at-a-time NLL of held-out text) of every schedule versus k."""
    table = tables["schedules"]
    models = of_kind(tables["summary"], "text")
    if not models:
        return _placeholder(figures_dir, FIGURES["text"][0], "no text model in this config")
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        rows = table[table.model == model]
        for name, source in DRAWN:
            style = _style(name, source)
            part = rows[(rows.schedule == name) & (rows.curve == source)].sort_values("steps")
            if len(part):
                ax.errorbar(part.steps, part.gap_bits_per_char, yerr=2 * part.gap_bits_per_char_se,
                            capsize=2, ms=4, **style)
        _k_axis(ax, rows.k_target.dropna())
        ax.set(xlabel="steps k", ylabel="factorization gap (bits/char)",
               title=f"{model}: held-out gap, 2 SE")
        ax.legend(fontsize=6)
    save_figure(fig, FIGURES["text"][0], figures_dir)
    return fig


def rules(tables, figures_dir, linear_below: float = 0.01):
    """Adaptive unmasking rules driven by each model against NFE (mdmsched.rule_tables), one panel
    per model, 2 SE bars. Synthetic data: KL(mu || nu_rule) to the true law (nats; symmetric log
    scale, linear below ``linear_below`` so that zero and slightly negative Monte Carlo estimates
    show), the model as the oracle (filled markers, solid) and the exact oracle through the same
    estimator on the same samples (hollow, dotted): the rule's own error, and what learning changes.
    Text: held-out NLL in bits per char under each rule's sampler, with the one-token-at-a-time NLL
    (random order) as a horizontal line. Rules choosing their own number of steps (EB-sampler,
    Fast-dLLM) are single points at their mean NFE. One legend: colour = rule, style = oracle."""
    table, summary = tables["rules"], tables["summary"]
    models = [model for model in summary.model if len(table) and (table.model == model).any()]
    if not models:
        return _placeholder(figures_dir, FIGURES["rules"][0], "no unmasking rules measured in this config")
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 3.9), squeeze=False)
    for ax, model in zip(axes[0], models):
        rows = table[table.model == model]
        synthetic = rows.kl.notna().any()
        value, se = ("kl", "kl_se") if synthetic else ("nll_bits_per_char", "nll_bits_per_char_se")
        for (rule, oracle), part in rows.groupby(["rule", "oracle"], sort=False):
            part = part.sort_values("nfe")
            exact = oracle == "exact"
            ax.errorbar(part.nfe, part[value], yerr=2 * part[se], capsize=2, ms=4, elinewidth=0.8, color=COLOURS.get(rule),
                        marker=MARKERS.get(part.rule_kind.iloc[0], "o"), mfc="none" if exact else None,
                        ls=":" if exact else "-")
        if synthetic:
            ax.set_yscale("symlog", linthresh=linear_below)
            ax.set(ylabel="KL(mu || nu_rule) (nats)", title=f"{model}: KL to the true law")
        else:
            ax.axhline(rows.one_at_a_time_bits_per_char.iloc[0], color="black", lw=1)
            ax.set(ylabel="held-out NLL (bits/char)", title=f"{model}: held-out NLL")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("NFE (oracle calls)")
    kinds = table.drop_duplicates("rule").set_index("rule").rule_kind
    handles = [Line2D([], [], color=COLOURS.get(rule), marker=MARKERS.get(kind, "o"), label=rule) for rule, kind in kinds.items()]
    handles += [Line2D([], [], color="black", marker="o", label="model as the oracle"),
                Line2D([], [], color="black", marker="o", mfc="none", ls=":", label="exact oracle, same samples"),
                Line2D([], [], color="black", lw=1, label="one token at a time (text)")]
    fig.legend(handles=handles, loc="lower center", ncol=min(6, len(handles)), fontsize=7, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    save_figure(fig, FIGURES["rules"][0], figures_dir)
    return fig


def gap_table(tables, ks=(8, 16, 32, 64)) -> pd.DataFrame:
    """Factorization gap (bits/char, +- SE) per schedule at the given k for the text models."""
    table = tables["schedules"]
    rows = table[table.model.isin(of_kind(tables["summary"], "text")) & table.steps.isin(ks)]
    rows = rows[rows.k_target.notna()]
    if rows.empty:  # a config without text models (the gap columns exist only for text)
        return pd.DataFrame(columns=["model", "schedule", "k", "gap"])
    cell = rows.gap_bits_per_char.map("{:.4f}".format) + " +- " + rows.gap_bits_per_char_se.map("{:.4f}".format)
    label = rows.schedule + " (" + rows.curve + ")"
    return pd.DataFrame({"model": rows.model, "schedule": label, "k": rows.steps, "gap": cell}).pivot_table(
        index=["model", "schedule"], columns="k", values="gap", aggfunc="first")


def rules_table(tables) -> pd.DataFrame:
    """The rules measured with each model, one row per (model, rule, oracle), one column per setting:
    KL +- SE in nats (synthetic data) or held-out NLL +- SE in bits per char (text), with the mean
    NFE in brackets."""
    table = tables["rules"]
    if not len(table):
        return pd.DataFrame(columns=["model", "rule", "oracle"])
    synthetic = table.kl.notna()
    value = table.kl.where(synthetic, table.nll_bits_per_char)
    se = table.kl_se.where(synthetic, table.nll_bits_per_char_se)
    cell = value.map("{:.3g}".format) + " +- " + se.map("{:.2g}".format) + " [" + table.nfe.map("{:.3g}".format) + "]"
    unit = synthetic.map({True: "KL nats", False: "NLL bits/char"})
    wide = pd.DataFrame({"model": table.model, "measure": unit, "rule": table.rule, "oracle": table.oracle,
                         "setting": table.setting, "cell": cell}).pivot_table(
        index=["model", "measure", "rule", "oracle"], columns="setting", values="cell", aggfunc="first", sort=False)
    order = table.drop_duplicates("setting").assign(adaptive=table.k.isna()).sort_values(["adaptive", "k", "setting"])
    return wide[list(order.setting)].fillna("")
