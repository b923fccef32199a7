"""Claims of the learned-oracle report: trained denoisers used as the oracle of both papers.

The report's tables are per model, named ``learned_{model}_{kind}`` with kind in :data:`KINDS`
(written by :func:`mdmsched.mdm.pipeline.evaluate_model`), plus ``learned_{model}_history`` (the
training history CSV beside the checkpoint) for the training-time row. Every check receives all the
tables of the report and finds the models from the keys (:func:`models`); a claim about synthetic
(or text) models FAILs when the config has none, since nothing was measured. Errors in nats unless
a column says bits.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import Verdict, claim

REPORT = "learned_report"
# the tables mdmsched.mdm.pipeline.evaluate_model writes per model (its TABLES), read by this report
KINDS = ("curve", "schedules", "steps", "summary", "samples", "rules")
CURVE_TOLERANCE = 0.10  # sum_j |Z_model - Z_true| <= 10% of TC
DP_TOLERANCE = 0.10  # DP optimum built from the estimated curve: within 10% of the exact-curve optimum ...
DP_MAX_SHARE = 0.5  # ... at every k <= n/2
SQRT_TOLERANCE = 0.20  # square-root rule from the estimated curve: within 20% of the same rule on the true curve
# where the reference error is below this floor a ratio says nothing: there the schedule's own
# exact error must be below the floor instead (an absolute bar that a bad schedule cannot meet)
NEAR_ZERO = 0.01  # nats
MC_STANDARD_ERRORS = 4.0  # Monte Carlo vs CCL Thm 4: within 4 SE (exactly equal where the SE is 0)
MC_EXACT = 1e-9  # nats: "exactly equal" for a zero-variance Monte Carlo estimate
GAP_STANDARD_ERRORS = 2.0  # the text gap at the smallest k must exceed 2 SE to be a measured gap
RULES_STANDARD_ERRORS = 4.0  # two Monte Carlo estimates of one quantity: within 4 combined SE
TRAINING_BUDGET_MINUTES = 20.0  # the default config's budget: all models on 2 CPU cores


def models(tables) -> list[str]:
    """The models whose tables are in ``tables`` (keys ``learned_{model}_summary``), in key order."""
    prefix, suffix = "learned_", "_summary"
    return [key[len(prefix) : -len(suffix)] for key in tables if key.startswith(prefix) and key.endswith(suffix)]


def table_name(model: str, kind: str) -> str:
    """The name of one table of one model, ``learned_{model}_{kind}`` (``results/tables/<name>.csv``)."""
    return f"learned_{model}_{kind}"


def table_names(model_names) -> list[str]:
    """The table names this report's claims read for ``model_names`` (without the histories)."""
    return [table_name(model, kind) for model in model_names for kind in KINDS]


def history_names(model_names) -> dict[str, str]:
    """Name -> model of the training histories the claims read (``learned_{model}_history``, the
    history CSV beside the model's checkpoint, :func:`mdmsched.mdm.training.history_path`)."""
    return {f"learned_{model}_history": model for model in model_names}


def table_paths(model_names, tables_dir, models_dir) -> dict[str, Path]:
    """Name -> path of every table the claims read: the pipeline's tables and the training histories."""
    paths = {name: Path(tables_dir) / f"{name}.csv" for name in table_names(model_names)}
    paths.update({name: Path(models_dir) / f"{model}.history.csv" for name, model in history_names(model_names).items()})
    return paths


def combined(tables, kind) -> pd.DataFrame:
    """The ``kind`` tables of every model, concatenated (empty ones skipped)."""
    parts = [tables[f"learned_{model}_{kind}"] for model in models(tables)]
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def of_kind(summary: pd.DataFrame, kind) -> list[str]:
    """The models of the (combined) ``summary`` trained on ``kind`` data: "synthetic" or "text"."""
    return list(summary.loc[summary.kind == kind, "model"]) if len(summary) else []


def models_of_kind(tables, kind) -> list[str]:
    """Models among ``tables`` trained on ``kind`` data: "synthetic" (a known law) or "text"."""
    return of_kind(combined(tables, "summary"), kind)


def _summary(tables, model) -> pd.Series:
    return tables[f"learned_{model}_summary"].iloc[0]


def _tamper(tables, model, kind, change):
    tampered = dict(tables)
    tampered[f"learned_{model}_{kind}"] = change(tables[f"learned_{model}_{kind}"].copy())
    return tampered


def _duration(seconds) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _none(kind, tolerance) -> Verdict:
    return Verdict(f"no {kind}-data model in this config: nothing measured", False, tolerance)


def _every_model(tables, kind, tolerance, measure, note: str = "") -> Verdict:
    """The verdict of a claim about every ``kind`` model ("synthetic" or "text"): ``measure(model)``
    returns (passed, what was measured); PASS when every model passes, FAIL when there is none."""
    names = models_of_kind(tables, kind)
    if not names:
        return _none(kind, tolerance)
    results = [measure(model) for model in names]
    return Verdict("; ".join(text for _, text in results) + note, all(bool(ok) for ok, _ in results), tolerance)


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------


@claim(
    "learned_training_time",
    report=REPORT,
    paper_reference="none (replication budget)",
    statement=f"the default config trains all models within {TRAINING_BUDGET_MINUTES:.0f} minutes on 2 CPU cores; "
    "shown for the config that ran, on the machine that ran it",
    tables=[],
    info=True,
)
def training_time(tables):
    seconds, rates = {}, {}
    for model in models(tables):
        history = tables.get(f"learned_{model}_history")
        if history is not None and len(history):
            seconds[model] = float(history.elapsed_s.iloc[-1])
            rates[model] = float(history.tokens_per_s.median())
    if not seconds:
        return Verdict("no training history among the tables", None)
    return Verdict(
        f"{_duration(sum(seconds.values()))} of optimizer time for {len(seconds)} models ("
        + ", ".join(f"{m}: {_duration(seconds[m])} at {rates[m]:,.0f} tok/s" for m in seconds)
        + ")",
        None,
    )


# ------------------------------------------------------------------------------------------------
# The information curve estimated from the model (synthetic data)
# ------------------------------------------------------------------------------------------------


@claim(
    "learned_curve_estimate",
    report=REPORT,
    paper_reference="CCL Lemma 13; LZ Eq. 18",
    statement="the information curve estimated from a trained model with a revealed tokens (its held-out cross-entropy "
    "or its predictive entropy, evaluation.curve_statistic; Z_j = H_1 + H_(j-1) - H_j) is close to the true curve: "
    f"sum_j |Z_model - Z_true| <= {CURVE_TOLERANCE:.0%} of TC",
    tables=[],
)
def curve_estimate(tables):
    def measure(model):
        row = _summary(tables, model)
        return row.curve_l1_over_tc <= CURVE_TOLERANCE, (
            f"{model} (n = {int(row.n)}): L1 / TC = {row.curve_l1_over_tc:.3f} (exact oracle through the same estimator: "
            f"{row.exact_oracle_curve_l1_over_tc:.3f}); TC {row.tc_model:.2f} +- {row.tc_model_se:.2f} vs {row.tc_true:.2f}, "
            f"DTC {row.dtc_model:.2f} +- {row.dtc_model_se:.2f} vs {row.dtc_true:.2f}; truth: {row.reference}"
        )

    return _every_model(tables, "synthetic", f"L1 / TC <= {CURVE_TOLERANCE:g} for every synthetic model", measure)


@curve_estimate.breaking
def _(tables):
    model = models_of_kind(tables, "synthetic")[0]
    return _tamper(tables, model, "summary", lambda t: t.assign(curve_l1_over_tc=2 * CURVE_TOLERANCE))


# ------------------------------------------------------------------------------------------------
# Schedules built from the estimated curve (synthetic data, exact errors by CCL Thm 4)
# ------------------------------------------------------------------------------------------------


def _close(error, reference, tolerance):
    """Per k: within ``tolerance`` of the reference where the reference is >= NEAR_ZERO, else the
    schedule's own error <= NEAR_ZERO."""
    return np.where(reference >= NEAR_ZERO, error <= (1 + tolerance) * reference, error <= NEAR_ZERO)


def _per_k(model, built, reference, close) -> str:
    cells = ", ".join(
        f"k={int(k)}: {e:.3g} vs {r:.3g}" + ("" if ok else " (fails)") for k, e, r, ok in zip(built.index, built, reference, close)
    )
    return f"{model}: {cells}"


def _bar(tolerance, what, where="") -> str:
    return (
        f"<= {1 + tolerance:g} x {what}{where}; where that is below {NEAR_ZERO:g} nats, "
        f"the schedule's own error <= {NEAR_ZERO:g}"
    )


@claim(
    "learned_dp_from_estimate",
    report=REPORT,
    paper_reference="CCL Eq. 1 / Thm 4",
    statement="the optimal k-step schedule (the DP on the curve, CCL Eq. 1) built from the model's estimated curve has "
    f"an exact expected KL (Thm 4 on the true curve) within {DP_TOLERANCE:.0%} of the true-curve optimum at every "
    f"k <= n/2",
    tables=[],
)
def dp_from_estimate(tables):
    def measure(model):
        rows = tables[f"learned_{model}_schedules"]
        n = int(_summary(tables, model).n)
        built = rows[(rows.schedule == "optimal") & (rows.curve == "estimated") & (rows.steps <= DP_MAX_SHARE * n)]
        built = built.drop_duplicates("steps").set_index("steps").sort_index()
        close = _close(built.factorization_exact, built.optimal_exact, DP_TOLERANCE)
        return len(built) > 0 and close.all(), _per_k(model, built.factorization_exact, built.optimal_exact, close)

    return _every_model(tables, "synthetic", _bar(DP_TOLERANCE, "the exact-curve optimum", ", every k <= n/2"), measure,
                        " (exact nats: built from the estimate vs the optimum)")


@dp_from_estimate.breaking
def _(tables):
    def worsen(t):
        rows = t.index[(t.schedule == "optimal") & (t.curve == "estimated")]
        t.loc[rows, "factorization_exact"] = 2 * t.loc[rows, "optimal_exact"] + 2 * NEAR_ZERO
        return t

    return _tamper(tables, models_of_kind(tables, "synthetic")[0], "schedules", worsen)


@claim(
    "learned_sqrt_from_estimate",
    report=REPORT,
    paper_reference="LZ Eq. 17",
    statement="the discrete square-root rule built from the model's estimated profile has an exact expected KL "
    f"within {SQRT_TOLERANCE:.0%} of the same rule built from the true profile, at every k",
    tables=[],
)
def sqrt_from_estimate(tables):
    def measure(model):
        rows = tables[f"learned_{model}_schedules"]
        sqrt = rows[rows.schedule == "sqrt"]
        built = sqrt[sqrt.curve == "estimated"].drop_duplicates("steps").set_index("steps").factorization_exact.sort_index()
        reference = sqrt[sqrt.curve == "true"].drop_duplicates("steps").set_index("steps").factorization_exact
        reference = reference.reindex(built.index)
        close = _close(built, reference, SQRT_TOLERANCE)
        return len(built) > 0 and reference.notna().all() and close.all(), _per_k(model, built, reference, close)

    return _every_model(tables, "synthetic", _bar(SQRT_TOLERANCE, "the rule on the true curve", ", every k"), measure,
                        " (exact nats: from the estimate vs from the truth)")


@sqrt_from_estimate.breaking
def _(tables):
    def worsen(t):
        built = t.index[(t.schedule == "sqrt") & (t.curve == "estimated")]
        true = t[(t.schedule == "sqrt") & (t.curve == "true")].set_index("steps").factorization_exact
        t.loc[built, "factorization_exact"] = 2 * t.loc[built, "steps"].map(true).to_numpy() + 2 * NEAR_ZERO
        return t

    return _tamper(tables, models_of_kind(tables, "synthetic")[0], "schedules", worsen)


@claim(
    "learned_monte_carlo_thm4",
    report=REPORT,
    paper_reference="CCL Thm 4",
    statement="E_S KL(mu || nu^S) estimated by Monte Carlo (random partitions, the exact oracle, samples of the true "
    "law) equals the sum of Riemann gaps of the true curve",
    tables=[],
)
def monte_carlo_thm4(tables):
    def measure(model):
        rows = tables[f"learned_{model}_schedules"].dropna(subset=["factorization"])
        gap = (rows.factorization - rows.factorization_exact).abs()
        se = rows.factorization_se
        ok = np.where(se > 0, gap <= MC_STANDARD_ERRORS * se, gap <= MC_EXACT)
        z = (gap / se.where(se > 0)).max()
        return len(rows) > 0 and ok.all(), (f"{model}: max |MC - Thm 4| / SE = {z:.2f} over {len(rows)} measured schedules "
                                            f"({int((se <= 0).sum())} with SE 0)")

    return _every_model(tables, "synthetic", f"|MC - Thm 4| <= {MC_STANDARD_ERRORS:g} SE (<= {MC_EXACT:g} where the SE is 0)",
                        measure)


@monte_carlo_thm4.breaking
def _(tables):
    def shift(t):
        row = t.index[t.factorization.notna()][0]
        t.loc[row, "factorization"] = t.loc[row, "factorization_exact"] + 10 * t.loc[row, "factorization_se"] + 1.0
        return t

    return _tamper(tables, models_of_kind(tables, "synthetic")[0], "schedules", shift)


# ------------------------------------------------------------------------------------------------
# Text (law unknown)
# ------------------------------------------------------------------------------------------------


@claim(
    "learned_text_nelbo",
    report=REPORT,
    paper_reference="LZ Eq. 3",
    statement="the denoiser trained with the cross-entropy objective has a held-out NELBO (an upper bound on its "
    "negative log-likelihood) below the unigram entropy: it predicts characters from their context",
    tables=[],
)
def text_nelbo(tables):
    def measure(model):
        row = _summary(tables, model)
        return row.nelbo_bits < row.unigram_bits, (
            f"{model}: {row.nelbo_bits:.3f} +- {row.nelbo_nats_se / math.log(2):.3f} bits/char (unigram {row.unigram_bits:.3f}); "
            f"estimated TC {row.tc_model:.1f}, DTC {row.dtc_model:.1f} nats"
        )

    return _every_model(tables, "text", "NELBO < unigram entropy (bits/char) for every text model", measure)


@text_nelbo.breaking
def _(tables):
    return _tamper(tables, models_of_kind(tables, "text")[0], "summary", lambda t: t.assign(nelbo_bits=t.unigram_bits + 0.1))


@claim(
    "learned_text_gap_falls",
    report=REPORT,
    paper_reference="CCL Thm 4; LZ Thm 7",
    statement="the factorization gap (held-out NLL of a k-step schedule minus that of one token per step) of constant "
    "sizes falls as k grows (for k dividing n the schedules refine each other, and a refinement never increases the "
    "Thm 4 error)",
    tables=[],
)
def text_gap_falls(tables):
    def measure(model):
        rows = tables[f"learned_{model}_schedules"]
        n = int(_summary(tables, model).n)
        uniform = rows[(rows.schedule == "uniform") & rows.k_target.notna() & (n % rows.steps == 0) & (rows.steps < n)]
        uniform = uniform.drop_duplicates("steps").set_index("steps").sort_index()
        gap, se = uniform.gap_bits_per_char, uniform.gap_bits_per_char_se
        ok = len(gap) >= 2 and bool(np.all(np.diff(gap.to_numpy()) <= 0)) and bool(gap.iloc[0] > GAP_STANDARD_ERRORS * se.iloc[0])
        return ok, f"{model}: " + ", ".join(f"k={int(k)}: {g:.3g} +- {s:.2g}" for k, g, s in zip(gap.index, gap, se)) + " bits/char"

    return _every_model(tables, "text", f"nonincreasing over the measured k dividing n; gap at the smallest k > "
                        f"{GAP_STANDARD_ERRORS:g} SE", measure)


@text_gap_falls.breaking
def _(tables):
    def rise(t):
        rows = t.index[(t.schedule == "uniform") & t.k_target.notna()]
        t.loc[rows, "gap_bits_per_char"] = t.loc[rows, "steps"].to_numpy(dtype=float)  # grows with k
        return t

    return _tamper(tables, models_of_kind(tables, "text")[0], "schedules", rise)


# ------------------------------------------------------------------------------------------------
# Adaptive unmasking rules driven by the model (mdmsched.rule_tables)
# ------------------------------------------------------------------------------------------------


def _rules(tables, model) -> pd.DataFrame:
    return tables[f"learned_{model}_rules"]


@claim(
    "learned_rules_exact_oracle",
    report=REPORT,
    paper_reference="CCL Def 7, Thm 4",
    statement="the rules' Monte Carlo KL, driven by the exact oracle on the samples that score the model, equals the exact "
    "value wherever CCL Thm 4 gives one: TC at one step (every rule), 0 at one token per step (choose-then-sample and "
    "reference rules), Thm 4's expected KL for the random rule at every schedule",
    tables=[],
)
def rules_exact_oracle(tables):
    def measure(model):
        rows = _rules(tables, model)
        rows = rows[(rows.oracle == "exact") & rows.kl_theory.notna()]
        gap = (rows.kl - rows.kl_theory).abs()
        ok = gap <= MC_STANDARD_ERRORS * rows.kl_se.fillna(0.0) + MC_EXACT
        z = (gap / rows.kl_se.where(rows.kl_se > MC_EXACT)).max()
        one = rows[rows.k == 1].drop_duplicates("k")
        tc = f"; one step {one.kl.iloc[0]:.3g} +- {one.kl_se.iloc[0]:.2g} vs TC {one.kl_theory.iloc[0]:.3g}" if len(one) else ""
        return len(rows) > 0 and ok.all(), (f"{model}: {len(rows)} rows, max |MC - exact| / SE = {z:.2f}{tc}"
                                            + "".join(f" (fails: {r} {s})" for r, s, good in zip(rows.rule, rows.setting, ok)
                                                      if not good))

    return _every_model(tables, "synthetic", f"|MC - exact| <= {MC_STANDARD_ERRORS:g} SE + {MC_EXACT:g} nats, every row "
                        "with an exact value", measure)


@rules_exact_oracle.breaking
def _(tables):
    def shift(t):
        row = t.index[(t.oracle == "exact") & t.kl_theory.notna()][0]
        t.loc[row, "kl"] = t.loc[row, "kl_theory"] + 10 * t.loc[row, "kl_se"] + 1.0
        return t

    return _tamper(tables, models_of_kind(tables, "synthetic")[0], "rules", shift)


def _random_pairs(tables, model) -> pd.DataFrame:
    """The random rule driven by the model (rules table) beside the schedule of the same sizes run
    through the model in the schedules table: kl, kl_se of each (suffixes _rules, _schedules)."""
    rules = _rules(tables, model)
    rules = rules[(rules.oracle == "model") & (rules.rule == "random")][["k", "sizes", "kl", "kl_se"]]
    measured = tables[f"learned_{model}_schedules"].dropna(subset=["kl"])[["sizes", "kl", "kl_se"]].drop_duplicates("sizes")
    # sizes as text on both sides (a one-step schedule "n" reads back from CSV as a number)
    rules, measured = rules.assign(sizes=rules.sizes.astype(str)), measured.assign(sizes=measured.sizes.astype(str))
    return rules.merge(measured, on="sizes", suffixes=("_rules", "_schedules")).sort_values("k")


@claim(
    "learned_rules_random_two_ways",
    report=REPORT,
    paper_reference="CCL Thm 4, Lemma 35",
    statement="the expected KL of the random-order sampler driven by the model, measured by the rules' replay estimator "
    "and, on independent samples, by the schedules' Monte Carlo at the same sizes, agrees: the same quantity two ways",
    tables=[],
)
def rules_random_two_ways(tables):
    def measure(model):
        pairs = _random_pairs(tables, model)
        se = np.sqrt(pairs.kl_se_rules**2 + pairs.kl_se_schedules**2)
        ok = (pairs.kl_rules - pairs.kl_schedules).abs() <= RULES_STANDARD_ERRORS * se + MC_EXACT
        cells = ", ".join(f"k={int(k)}: {a:.3g} +- {sa:.2g} vs {b:.3g} +- {sb:.2g}" + ("" if good else " (fails)")
                          for k, a, sa, b, sb, good in zip(pairs.k, pairs.kl_rules, pairs.kl_se_rules, pairs.kl_schedules,
                                                           pairs.kl_se_schedules, ok))
        return len(pairs) > 0 and ok.all(), f"{model}: {cells or 'no schedule in both tables'}"

    return _every_model(tables, "synthetic", f"|rules - schedules| <= {RULES_STANDARD_ERRORS:g} combined SE at every "
                        "shared schedule, at least one", measure, " (nats: rules vs schedules)")


@rules_random_two_ways.breaking
def _(tables):
    def shift(t):
        row = t.index[(t.oracle == "model") & (t.rule == "random")]
        t.loc[row, "kl"] = t.loc[row, "kl"] + 10 * t.loc[row, "kl_se"] + 1.0
        return t

    return _tamper(tables, models_of_kind(tables, "synthetic")[0], "rules", shift)


def _rules_info(tables, kind, describe) -> Verdict:
    """INFO verdict: ``describe(rules table)`` for every ``kind`` model with rules measured."""
    names = [model for model in models_of_kind(tables, kind) if len(_rules(tables, model))]
    if not names:
        return Verdict(f"no rules measured on a {kind}-data model", None)
    return Verdict("; ".join(f"{model}: {describe(_rules(tables, model))}" for model in names), None)


@claim(
    "learned_rules_synthetic",
    report=REPORT,
    paper_reference="none (beyond both papers: adaptive unmasking rules)",
    statement="KL(mu || nu_rule) to the true law of each adaptive rule driven by the model, per NFE, beside the same "
    "rule driven by the exact oracle on the same samples (the rule's own error; the rest is what learning changes)",
    tables=[],
    info=True,
)
def rules_synthetic(tables):
    def describe(rows):
        exact = rows[rows.oracle == "exact"][["rule", "setting", "kl"]]
        rows = rows[rows.oracle == "model"].merge(exact, on=["rule", "setting"], how="left", suffixes=("", "_exact"))
        rows = rows.sort_values(["rule", "nfe"])
        return ", ".join(f"{r} {s}: {v:.3g} +- {e:.2g} (exact oracle {x:.3g}; NFE {f:.3g})"
                         for r, s, v, e, x, f in zip(rows.rule, rows.setting, rows.kl, rows.kl_se, rows.kl_exact, rows.nfe))

    return _rules_info(tables, "synthetic", lambda rows: describe(rows) + " nats")


@claim(
    "learned_rules_text",
    report=REPORT,
    paper_reference="none (beyond both papers: adaptive unmasking rules)",
    statement="held-out NLL (bits/char) of each adaptive rule's sampler driven by the model, per NFE, beside the "
    "one-token-at-a-time NLL (random order)",
    tables=[],
    info=True,
)
def rules_text(tables):
    def describe(rows):
        rows = rows.sort_values(["rule", "nfe"])
        return f"one token at a time {rows.one_at_a_time_bits_per_char.iloc[0]:.3f} bits/char; " + ", ".join(
            f"{r} {s}: {v:.3f} +- {e:.2g} (NFE {f:.3g})"
            for r, s, v, e, f in zip(rows.rule, rows.setting, rows.nll_bits_per_char, rows.nll_bits_per_char_se, rows.nfe))

    return _rules_info(tables, "text", describe)
