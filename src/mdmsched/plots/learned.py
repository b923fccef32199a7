"""Panels of the learned-oracle report: trained denoisers used as the oracle of both papers.

Each panel loads the tables of :func:`mdmsched.mdm.pipeline.evaluate_model` (one set per model),
draws one figure (PDF + PNG), records the claims it checks and returns the figure. Errors in nats
unless a column says bits.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter
import numpy as np
import pandas as pd

from ..io import read_table
from ..plotting import save_figure

CURVE_TOLERANCE = 0.10  # issue: the model's Z within 10% of the exact curve (L1, relative to TC)
SCHEDULE_TOLERANCE = 0.20  # issue: schedules from the estimated curve within 20% of the optimum
# where the optimum's error is itself near 0 a ratio says nothing; differences below this pass too
SCHEDULE_SLACK = 0.01  # nats
TRAINING_MINUTES = 20.0  # issue: all default models trained within 20 minutes on 2 CPU cores
STYLE = {
    ("uniform", "none"): dict(color="tab:gray", marker="o", label="uniform"),
    ("cosine", "none"): dict(color="tab:purple", marker="x", label="cosine"),
    ("loglinear", "none"): dict(color="tab:brown", marker="+", label="log-linear"),
    ("sqrt", "estimated"): dict(color="tab:green", marker="^", label="square-root rule (estimated curve)"),
    ("sqrt", "true"): dict(color="tab:green", marker="^", ls="--", mfc="none", label="square-root rule (true curve)"),
    ("optimal", "estimated"): dict(color="tab:blue", marker="D", label="DP optimum (estimated curve)"),
    ("optimal", "true"): dict(color="tab:blue", marker="D", ls="--", mfc="none", label="DP optimum (true curve)"),
    ("tc", "estimated"): dict(color="tab:red", marker="s", ls="none", label="TC schedule, Thm 9 (estimated TC)"),
    ("dtc", "estimated"): dict(color="tab:orange", marker="s", ls="none", label="DTC schedule, Thm 9 (estimated DTC)"),
}


def load(tables_dir, models) -> dict[str, pd.DataFrame]:
    """The tables of every model, concatenated per kind: curve, schedules, steps, summary, samples."""
    tables = {}
    for kind in ("curve", "schedules", "steps", "summary", "samples"):
        parts = [read_table(Path(tables_dir) / f"learned_{model}_{kind}.csv") for model in models]
        parts = [part for part in parts if len(part)]
        tables[kind] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return tables


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


def _models_of_kind(tables, kind) -> list[str]:
    summary = tables["summary"]
    return list(summary.loc[summary.kind == kind, "model"]) if len(summary) else []


def training(tables, models_dir, figures_dir, claims):
    """Training loss and held-out NELBO per model (bits per token), and the training-time budget."""
    summary = tables["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    seconds, rates = {}, {}
    for model in summary.model:
        history = read_table(Path(models_dir) / f"{model}.history.csv")
        seconds[model] = float(history.elapsed_s.iloc[-1])
        rates[model] = float(history.tokens_per_s.median())
        axes[0].plot(history.step, history.loss / math.log(2), label=model)
        validation = history.dropna(subset=["val_loss_bits"])
        axes[1].plot(validation.step, validation.val_loss_bits, marker="o", label=model)
    for ax, title in zip(axes, ("training loss (NELBO, bits/token)", "held-out NELBO (bits/token)")):
        ax.set(xlabel="optimizer step", title=title)
        ax.legend(fontsize=8)
    save_figure(fig, "learned_training", figures_dir)
    minutes = sum(seconds.values()) / 60
    claims.check(
        "Default-config training of all models fits the 2-core budget",
        f"all models trained within {TRAINING_MINUTES:.0f} minutes on 2 CPU cores (issue 4)",
        f"{minutes:.1f} min of optimizer time for {len(summary)} models "
        f"({', '.join(f'{m}: {seconds[m] / 60:.1f} min at {rates[m]:,.0f} tok/s' for m in seconds)})",
        minutes <= TRAINING_MINUTES,
    )
    return fig


def curves(tables, figures_dir, claims):
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
    save_figure(fig, "learned_curves", figures_dir)
    for row in summary[summary.kind == "synthetic"].itertuples():
        claims.check(
            f"{row.model}: information curve estimated from the trained model",
            f"sum_j |Z_model - Z_true| <= {CURVE_TOLERANCE:.0%} of TC (issue 4, n = {row.n})",
            f"L1 / TC = {row.curve_l1_over_tc:.3f} (the exact oracle through the same estimator: "
            f"{row.exact_oracle_curve_l1_over_tc:.3f}); TC {row.tc_model:.2f} +- {row.tc_model_se:.2f} vs "
            f"{row.tc_true:.2f}, DTC {row.dtc_model:.2f} +- {row.dtc_model_se:.2f} vs {row.dtc_true:.2f}; truth: {row.reference}",
            row.curve_l1_over_tc <= CURVE_TOLERANCE,
        )
    return fig


def schedules(tables, figures_dir, claims):
    """Synthetic data: expected KL of every schedule run through the model (Monte Carlo against the
    true law), its split into factorization and learning error, and schedules from the estimated
    curve against the exact-curve optimum (CCL Thm 4 on the true curve)."""
    table = tables["schedules"]
    models = _models_of_kind(tables, "synthetic")
    if not models:
        return _placeholder(figures_dir, "learned_schedules", "no synthetic-data model in this config")
    fig, axes = plt.subplots(2, len(models), figsize=(5.2 * len(models), 7.5), squeeze=False)
    for column, model in enumerate(models):
        rows = table[table.model == model]
        top, bottom = axes[0, column], axes[1, column]
        for (name, source), style in STYLE.items():
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
        for name in ("optimal", "sqrt"):
            built = rows[(rows.schedule == name) & (rows.curve == "estimated")].set_index("steps")
            exact = rows[(rows.schedule == name) & (rows.curve == "true")].set_index("steps")
            target = built.optimal_exact if name == "optimal" else exact.factorization_exact.reindex(built.index)
            ratio = built.factorization_exact / target.where(target > 0)
            close = (ratio.fillna(1.0) <= 1 + SCHEDULE_TOLERANCE) | (built.factorization_exact - target <= SCHEDULE_SLACK)
            claims.check(
                f"{model}: {'DP optimum' if name == 'optimal' else 'square-root rule'} built from the estimated curve",
                f"expected KL within {SCHEDULE_TOLERANCE:.0%} of the same rule on the true curve at equal k (issue 4; "
                f"or within {SCHEDULE_SLACK} nats where that error is near 0)",
                "error ratio per k: " + ", ".join(f"k={k}: {r:.3f} ({built.factorization_exact[k]:.3g} vs {target[k]:.3g})"
                                                  for k, r in ratio.items()),
                bool(close.all()),
            )
        consistency = (rows.factorization - rows.factorization_exact).abs() / rows.factorization_se.where(rows.factorization_se > 0)
        claims.check(
            f"{model}: Monte Carlo factorization error (exact oracle) agrees with Thm 4",
            "E_S KL(mu || nu^S) = sum of Riemann-gap terms of Z (CCL Thm 4), within 4 SE",
            f"max |MC - Thm 4| / SE = {consistency.max():.2f} over {len(rows)} schedules",
            bool((consistency.fillna(0) <= 4).all()),
        )
    fig.tight_layout()
    save_figure(fig, "learned_schedules", figures_dir)
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


def text(tables, figures_dir, claims, ks=(8, 16, 32, 64)):
    """Text: NELBO in bits per character, and the factorization gap (schedule NLL minus
    one-token-at-a-time NLL of held-out text) of every schedule versus k."""
    table, summary = tables["schedules"], tables["summary"]
    models = _models_of_kind(tables, "text")
    if not models:
        return _placeholder(figures_dir, "learned_text", "no text model in this config")
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        rows = table[table.model == model]
        for (name, source), style in STYLE.items():
            part = rows[(rows.schedule == name) & (rows.curve == source)].sort_values("steps")
            if len(part):
                ax.errorbar(part.steps, part.gap_bits_per_char, yerr=2 * part.gap_bits_per_char_se,
                            capsize=2, ms=4, **style)
        _k_axis(ax, rows.k_target.dropna())
        ax.set(xlabel="steps k", ylabel="factorization gap (bits/char)",
               title=f"{model}: held-out gap, 2 SE")
        ax.legend(fontsize=6)
        info = summary[summary.model == model].iloc[0]
        claims.check(
            f"{model}: held-out masked-diffusion NELBO",
            "the NELBO bounds the NLL; a trained model beats the unigram entropy",
            f"{info.nelbo_bits:.3f} +- {info.nelbo_nats_se / math.log(2):.3f} bits/char "
            f"(unigram {info.unigram_bits:.3f}); estimated TC {info.tc_model:.1f}, DTC {info.dtc_model:.1f} nats",
            info.nelbo_bits < info.unigram_bits,
        )
        uniform = rows[(rows.schedule == "uniform")].set_index("steps").gap_bits_per_char
        tested = [k for k in ks if k in uniform.index]
        if len(tested) >= 2:
            claims.check(
                f"{model}: fewer tokens per step, smaller gap",
                "the factorization gap falls as k grows (uniform schedule)",
                ", ".join(f"k={k}: {uniform[k]:.4f}" for k in tested) + " bits/char",
                bool(np.all(np.diff(uniform[tested].to_numpy()) <= 0)),
            )
    save_figure(fig, "learned_text", figures_dir)
    return fig


def gap_table(tables, ks=(8, 16, 32, 64)) -> pd.DataFrame:
    """Factorization gap (bits/char, +- SE) per schedule at the given k for the text models."""
    table = tables["schedules"]
    rows = table[table.model.isin(_models_of_kind(tables, "text")) & table.steps.isin(ks)]
    rows = rows[rows.k_target.notna()]
    if rows.empty:  # a config without text models (the gap columns exist only for text)
        return pd.DataFrame(columns=["model", "schedule", "k", "gap"])
    cell = rows.gap_bits_per_char.map("{:.4f}".format) + " +- " + rows.gap_bits_per_char_se.map("{:.4f}".format)
    label = rows.schedule + " (" + rows.curve + ")"
    return pd.DataFrame({"model": rows.model, "schedule": label, "k": rows.steps, "gap": cell}).pivot_table(
        index=["model", "schedule"], columns="k", values="gap", aggfunc="first")
