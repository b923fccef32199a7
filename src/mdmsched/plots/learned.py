"""Panels of the learned-oracle report: trained denoisers used as the oracle of both papers.

Each panel reads the tables of :func:`mdmsched.mdm.pipeline.evaluate_model` (one set per model),
draws one figure (PDF + PNG) and returns it. Panels only draw: the verdicts are
:mod:`mdmsched.claims.learned`. Errors in nats unless a column says bits.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter
import pandas as pd

from ..schedules import SCHEDULES
from ..schedules import style as schedule_style
from ..claims.learned import KINDS, combined, of_kind, table_names
from ..io import read_table
from ..plotting import save_figure

# panel -> the figures (file names without extension) it saves; the report registry
# (mdmsched.reports.REPORTS) takes the workflow's figure list from here
FIGURES = {
    "training": ("learned_training",),
    "curves": ("learned_curves",),
    "schedules": ("learned_schedules",),
    "text": ("learned_text",),
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
    """The tables of every model, concatenated per kind: curve, schedules, steps, summary, samples."""
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
