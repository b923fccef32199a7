"""Claims of the unmasking-rules report: the exact identities of the rules' laws, the Monte Carlo
estimators against exact values, and (INFO) where adaptive rules beat or lose to the random-order
optimum of CCL Eq. 1 at equal numbers of oracle calls. All read the ``unmasking_rules`` table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import Verdict, claim

REPORT = "unmasking_report"
TABLE = "unmasking_rules"
EXACT_TOL = 1e-9  # float64 identities on laws of a few hundred states
Z_MAX = 4.0  # Monte Carlo agreement: |estimate - exact| <= 4 standard errors (+ EXACT_TOL)

CHOOSE_KINDS = ("choose-then-sample", "reference")


def _section(tables, section):
    table = tables[TABLE]
    return table[table.section == section]


def _copy(tables):
    return {name: frame.copy() for name, frame in tables.items()}


@claim("unmasking_unit_steps_exact", report=REPORT, paper_reference="CCL Sec 1 (chain rule)",
       statement="one token per step, every choose-then-sample and reference rule samples mu exactly: TV(law, mu) = 0",
       tables=[TABLE])
def unit_steps_exact(tables):
    rows = _section(tables, "identity")
    rows = rows[(rows.setting == "unit steps") & rows.kind.isin(CHOOSE_KINDS)]
    worst = float(rows.tv.max())
    return Verdict(f"max TV = {worst:.1e} over {len(rows)} (family, rule) pairs", worst <= EXACT_TOL, f"<= {EXACT_TOL:g}")


@unit_steps_exact.breaking
def _(tables):
    tables = _copy(tables)
    t = tables[TABLE]
    t.loc[(t.section == "identity") & (t.setting == "unit steps") & (t.rule == "max_prob"), "tv"] += 0.01
    return tables


@claim("unmasking_one_step_tc", report=REPORT, paper_reference="CCL Def 7, Thm 4 (k = 1)",
       statement="one step (all candidates kept) samples the product of the marginals for every rule: KL = TC",
       tables=[TABLE])
def one_step_tc(tables):
    rows = _section(tables, "identity")
    rows = rows[rows.setting == "one step"]
    worst = float((rows.kl - rows.reference).abs().max())
    return Verdict(f"max |KL - TC| = {worst:.1e} over {len(rows)} (family, rule) pairs", worst <= EXACT_TOL, f"<= {EXACT_TOL:g}")


@one_step_tc.breaking
def _(tables):
    tables = _copy(tables)
    t = tables[TABLE]
    t.loc[(t.section == "identity") & (t.setting == "one step") & (t.rule == "confidence"), "kl"] += 0.1
    return tables


@claim("unmasking_random_is_thm16_mixture", report=REPORT, paper_reference="CCL Thm 16",
       statement="the random rule's exact law equals the mixture of the fixed-set laws nu^S over ordered partitions",
       tables=[TABLE])
def random_is_mixture(tables):
    rows = _section(tables, "identity")
    rows = rows[(rows.rule == "random") & rows.setting.str.startswith("k=")]
    worst = float(rows.reference.max())
    return Verdict(f"max |law - mixture| = {worst:.1e} over {len(rows)} (family, schedule) pairs", worst <= EXACT_TOL, f"<= {EXACT_TOL:g}")


@random_is_mixture.breaking
def _(tables):
    tables = _copy(tables)
    t = tables[TABLE]
    t.loc[(t.section == "identity") & (t.rule == "random") & t.setting.str.startswith("k="), "reference"] = 1e-3
    return tables


def _agreement(rows):
    gap = (rows.kl - rows.reference).abs()
    bound = Z_MAX * rows.kl_se.fillna(0.0) + EXACT_TOL
    z = gap / rows.kl_se.where(rows.kl_se > 1e-9)
    return gap, bound, z


@claim("unmasking_replay_matches_exact", report=REPORT, paper_reference="this project (replay estimator)",
       statement="replay Monte Carlo estimate of KL(mu || nu) agrees with the exact value at small n (random rule: with CCL Thm 4)",
       tables=[TABLE])
def replay_matches_exact(tables):
    rows = _section(tables, "mc_check").dropna(subset=["reference"])
    rows = rows[rows.estimator.str.startswith("replay")]
    gap, bound, z = _agreement(rows)
    failures = int((gap > bound).sum())
    return Verdict(f"{failures} of {len(rows)} estimates outside 4 SE; max |z| = {np.nanmax(z.to_numpy(dtype=float), initial=0.0):.2f}",
                   len(rows) > 0 and failures == 0, "|estimate - exact| <= 4 SE")


@replay_matches_exact.breaking
def _(tables):
    tables = _copy(tables)
    t = tables[TABLE]
    chosen = (t.section == "mc_check") & (t.rule == "max_prob")
    t.loc[chosen, "kl"] += 10 * t.loc[chosen, "kl_se"].fillna(0) + 0.1
    return tables


@claim("unmasking_random_thm4_large_n", report=REPORT, paper_reference="CCL Thm 4",
       statement="at large n the random rule's replay estimate equals the Thm 4 expected KL (left-Riemann error of Z)",
       tables=[TABLE])
def random_thm4(tables):
    rows = _section(tables, "mc")
    rows = rows[rows.rule == "random"]
    gap, bound, z = _agreement(rows)
    failures = int((gap > bound).sum())
    return Verdict(f"{failures} of {len(rows)} outside 4 SE; max |z| = {np.nanmax(z.to_numpy(dtype=float), initial=0.0):.2f}",
                   len(rows) > 0 and failures == 0, "|estimate - Thm 4| <= 4 SE")


@random_thm4.breaking
def _(tables):
    tables = _copy(tables)
    t = tables[TABLE]
    chosen = (t.section == "mc") & (t.rule == "random")
    t.loc[chosen, "kl"] += 10 * t.loc[chosen, "kl_se"].fillna(0) + 0.1
    return tables


# --- INFO rows ---------------------------------------------------------------------------------


@claim("unmasking_importance_vs_exact", report=REPORT, paper_reference="this project (importance estimator)",
       statement="sample-then-choose rules at small n: sequential importance estimate of KL (consistent, biased upward) beside the exact KL",
       tables=[TABLE], info=True)
def importance_vs_exact(tables):
    rows = _section(tables, "mc_check").dropna(subset=["reference"])
    rows = rows[rows.kind == "sample-then-choose"]
    if rows.empty:
        return Verdict("no rows", None)
    gap = rows.kl - rows.reference
    z = gap / rows.kl_se.where(rows.kl_se > 1e-9)
    return Verdict(f"{len(rows)} settings: estimate - exact from {gap.min():+.3f} to {gap.max():+.3f} nats "
                   f"(median {gap.median():+.3f}); {int((z.abs() > 4).sum())} beyond 4 SE", None)


@claim("unmasking_sample_then_choose_bias", report=REPORT, paper_reference="LLaDA (Nie et al. 2025); Fast-dLLM (Wu et al. 2025)",
       statement="sample-then-choose rules at one token per step: the kept candidate depends on its own value, so the law is not mu",
       tables=[TABLE], info=True)
def sample_then_choose_bias(tables):
    rows = _section(tables, "identity")
    rows = rows[(rows.setting == "unit steps") & (rows.kind == "sample-then-choose")]
    if rows.empty:
        return Verdict("no rows", None)
    worst = rows.loc[rows.tv.idxmax()]
    return Verdict(f"TV up to {worst.tv:.3f} (KL {worst.kl:.3f} nats) on {worst.family} ({worst.rule}); "
                   f"{int((rows.tv > 1e-6).sum())} of {len(rows)} pairs biased", None)


def _versus_dp(rows):
    rows = rows.dropna(subset=["dp_optimum", "kl"])
    rows = rows[(rows.rule != "random") & ~rows.setting.str.endswith("dp-sizes")]
    return rows.assign(gain=rows.dp_optimum - rows.kl)


def _describe_wins(rows, label):
    wins = rows[rows.gain > np.maximum(4 * rows.kl_se.fillna(0), 1e-6)]
    if wins.empty:
        return f"{label}: no rule beats the optimum"
    best = wins.sort_values("gain", ascending=False).head(4)
    parts = [f"{r.rule} {r.setting} on {r.family}: {r.kl:.3f} vs {r.dp_optimum:.3f} at NFE {r.nfe:.1f}" for r in best.itertuples()]
    return f"{label}: {len(wins)} of {len(rows)} settings beat it; largest gains: " + "; ".join(parts)


@claim("unmasking_where_adaptive_wins", report=REPORT, paper_reference="CCL Eq. 1 (random-order optimum)",
       statement="settings where an adaptive rule's KL is below the random-order DP optimum at equal NFE (beyond 4 SE)",
       tables=[TABLE], info=True)
def where_wins(tables):
    exact = _versus_dp(_section(tables, "exact"))
    mc = _versus_dp(_section(tables, "mc"))
    return Verdict(_describe_wins(exact, "exact n small") + " | " + _describe_wins(mc, "Monte Carlo n large"), None)


@claim("unmasking_where_adaptive_loses", report=REPORT, paper_reference="CCL Eq. 1 (random-order optimum)",
       statement="the largest excess of each rule over the random-order DP optimum at equal NFE",
       tables=[TABLE], info=True)
def where_loses(tables):
    parts = []
    for section in ("exact", "mc"):
        rows = _versus_dp(_section(tables, section))
        for rule, group in rows.groupby("rule", sort=False):
            worst = group.loc[group.gain.idxmin()]
            parts.append(f"{section} {rule}: +{-worst.gain:.3f} nats on {worst.family} ({worst.setting}, NFE {worst.nfe:.1f})")
    return Verdict("; ".join(parts), None)


@claim("unmasking_order_effect", report=REPORT, paper_reference="CCL Defs 14-15 (random order)",
       statement="the order alone: each rule's KL over the random rule's at the same schedule (exact: mixture law; Monte Carlo: Thm 4), median and range",
       tables=[TABLE], info=True)
def order_effect(tables):
    parts = []
    for section in ("exact", "mc"):
        rows = _section(tables, section)
        rows = rows[rows.k.notna() & (rows.k > 1) & (rows.k < rows.n)]
        random_kl = rows[rows.rule == "random"].set_index(["family", "setting"]).kl
        others = rows[rows.rule != "random"].join(random_kl.rename("random_kl"), on=["family", "setting"])
        others = others[others.random_kl > 1e-9]
        for rule, group in others.groupby("rule", sort=False):
            ratio = group.kl / group.random_kl
            parts.append(f"{section} {rule}: x{ratio.median():.2f} (x{ratio.min():.2f}..x{ratio.max():.2f})")
    return Verdict("; ".join(parts), None)


@claim("unmasking_with_dp_sizes", report=REPORT, paper_reference="CCL Eq. 1",
       statement="scheduled rules run with the DP-optimal step sizes (exact, small n): KL against the DP optimum at the same k",
       tables=[TABLE], info=True)
def with_dp_sizes(tables):
    rows = _section(tables, "exact")
    rows = rows[rows.setting.str.endswith("dp-sizes")].dropna(subset=["dp_optimum"])
    if rows.empty:
        return Verdict("no rows", None)
    parts = []
    for rule, group in rows.groupby("rule", sort=False):
        wins = group[group.kl < group.dp_optimum - 1e-9]
        best = (group.dp_optimum - group.kl).idxmax()
        parts.append(f"{rule}: below the optimum in {len(wins)} of {len(group)}"
                     + (f" (best {group.kl[best]:.3f} vs {group.dp_optimum[best]:.3f} on {group.family[best]}, {group.setting[best]})" if len(wins) else ""))
    return Verdict("; ".join(parts), None)


def kl_table(table: pd.DataFrame, section: str, fractions=(8, 4, 2)) -> pd.DataFrame:
    """KL at NFE = n/8, n/4, n/2 for every scheduled rule and family, beside the DP optimum: one row
    per (family, rule), one column per NFE (a view for the report)."""
    rows = table[(table.section == section) & table.k.notna()]
    n = int(rows.n.iloc[0]) if len(rows) else 0
    ks = [n // f for f in fractions if n // f >= 1]
    rows = rows[rows.k.isin(ks) & (rows.setting == "k=" + rows.k.astype(int).astype(str))]
    wide = rows.pivot_table(index=["family", "rule"], columns="k", values="kl", aggfunc="first")
    dp = rows.pivot_table(index="family", columns="k", values="dp_optimum", aggfunc="first")
    dp["rule"] = "DP optimum (random order)"
    dp = dp.reset_index().set_index(["family", "rule"])
    return pd.concat([wide, dp]).sort_index()
