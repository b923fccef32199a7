"""Learned-report claims (mdmsched.claims.learned) on the tables of two tiny trained models (a
Markov chain, n = 6, and Shakespeare characters, n = 16; 60 optimizer steps each, ~10 s in all),
written and read back as the workflow does. Every claim evaluates; every PASS/FAIL claim FAILs
under its tampering; the bars are the stated ones (10% of the optimum at k <= n/2, a 0.01-nat floor
that only lets an error below 0.01 nats through, equality where a Monte Carlo SE is 0, 4 standard
errors for the adaptive rules' estimates).
"""

from __future__ import annotations

import pandas as pd
import pytest

from mdmsched import claims
from mdmsched.claims import learned
from mdmsched.io import write_table
from mdmsched.mdm import pipeline

REPORT = "learned_report"
LEARNED_CLAIMS = claims.claims_for(REPORT)
TESTED = [record for record in LEARNED_CLAIMS if not record.info]
TRAINING = {"steps": 60, "batch_size": 64, "lr": 3e-3, "warmup_steps": 5, "eval_every": 30, "checkpoint_every": 30}
MODEL = {"d_model": 32, "n_layers": 2, "n_heads": 2}
SPECS = {
    "chain": {
        "data": {"family": "markov", "params": {"n": 6, "stay": 0.8}, "train_sequences": 3000, "validation_sequences": 300},
        "model": MODEL,
        "training": TRAINING,
        "evaluation": {"ks": [2, 3], "eps": [0.5], "curve_sequences": 200, "kl_samples": 200, "bootstrap": 20, "samples": 1},
    },
    "verse": {
        "data": {"corpus": "shakespeare", "n": 16, "max_chars": 20000},
        "model": MODEL,
        "training": TRAINING,
        "evaluation": {"ks": [2, 4, 8], "eps": [5.0], "curve_sequences": 64, "gap_sequences": 64, "bootstrap": 20, "samples": 1},
    },
}


@pytest.fixture(scope="session")
def learned_tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("learned_tables")
    for name, spec in SPECS.items():
        pipeline.prepare_dataset(spec, 0, folder / f"{name}.npz")
        pipeline.train_model(spec, folder / f"{name}.npz", folder / f"{name}.pt", threads=1, progress=False)
        tables = pipeline.evaluate_model(name, spec, folder / f"{name}.npz", folder / f"{name}.pt", seed=0, threads=1)
        for kind, table in tables.items():
            if kind in pipeline.TABLES:  # the CSV tables (the schedule plan is JSON)
                write_table(table, folder / f"learned_{name}_{kind}.csv")
    return claims.read_tables(learned.table_paths(list(SPECS), folder, folder))


def _with(tables, model, kind, change):
    tampered = dict(tables)
    tampered[f"learned_{model}_{kind}"] = change(tables[f"learned_{model}_{kind}"].copy())
    return tampered


def test_models_are_found_from_the_table_keys(learned_tables):
    assert learned.models(learned_tables) == ["chain", "verse"]
    assert learned.models({"learned_my_model_summary": None, "learned_x_curve": None}) == ["my_model"]
    assert learned.models_of_kind(learned_tables, "synthetic") == ["chain"]
    assert learned.models_of_kind(learned_tables, "text") == ["verse"]
    assert set(learned_tables) == set(learned.table_names(["chain", "verse"])) | {"learned_chain_history", "learned_verse_history"}


def test_every_learned_claim_evaluates(learned_tables):
    table = claims.evaluate(REPORT, learned_tables)
    assert list(table.claim) == [record.id for record in LEARNED_CLAIMS] and len(table) == 11
    status = table.set_index("claim").status
    assert list(status[status == "INFO"].index) == ["learned_training_time", "learned_rules_synthetic", "learned_rules_text"]
    assert set(status) <= {"PASS", "FAIL", "INFO"}
    measured = table.set_index("claim").measured
    assert "chain (n = 6): L1 / TC" in measured["learned_curve_estimate"]
    assert "chain: k=2:" in measured["learned_dp_from_estimate"]
    assert "for 2 models" in measured["learned_training_time"]
    assert "verse:" in measured["learned_text_gap_falls"] and "k=8" in measured["learned_text_gap_falls"]
    assert "chain: " in measured["learned_rules_exact_oracle"] and "vs TC" in measured["learned_rules_exact_oracle"]
    assert "chain: k=3:" in measured["learned_rules_random_two_ways"]
    assert "max_prob k=3:" in measured["learned_rules_synthetic"] and "exact oracle" in measured["learned_rules_synthetic"]
    assert "verse: one token at a time" in measured["learned_rules_text"] and "bits/char" in measured["learned_rules_text"]
    assert not table.paper_reference.str.contains("issue", case=False).any()
    assert not table.statement.str.contains("issue", case=False).any()


@pytest.mark.parametrize("record", TESTED, ids=[record.id for record in TESTED])
def test_each_learned_claim_fails_when_its_measurement_is_pushed_past_the_tolerance(record, learned_tables):
    snapshot = {name: frame.copy() for name, frame in learned_tables.items()}
    assert record.breaks is not None, f"{record.id} has no breaking case"
    assert record(record.breaks(learned_tables)).status == "FAIL"
    for name, frame in snapshot.items():
        pd.testing.assert_frame_equal(learned_tables[name], frame)


def test_one_breaking_case_per_learned_claim_that_states_a_claim():
    assert len([record for record in LEARNED_CLAIMS if record.breaks is not None]) == len(TESTED) == 8


def _dp(tables, k, built, optimum):
    """Every DP-from-estimate row exact (built = optimum), then row k set to (built, optimum)."""

    def change(frame):
        rows = (frame.schedule == "optimal") & (frame.curve == "estimated")
        frame.loc[rows, "factorization_exact"] = frame.loc[rows, "optimal_exact"]
        if k not in set(frame.loc[rows, "steps"]):  # a k the config did not measure: add its row
            extra = frame[rows].iloc[[0]].assign(steps=k, k_target=float(k))
            frame = pd.concat([frame, extra], ignore_index=True)
            rows = (frame.schedule == "optimal") & (frame.curve == "estimated")
        at = rows & (frame.steps == k)
        frame.loc[at, "factorization_exact"] = built
        frame.loc[at, "optimal_exact"] = optimum
        return frame

    return claims.CLAIMS["learned_dp_from_estimate"](_with(tables, "chain", "schedules", change)).status


@pytest.mark.parametrize(
    "k, built, optimum, status",
    [
        (2, 1.09, 1.0, "PASS"),  # within 10%
        (2, 1.11, 1.0, "FAIL"),  # beyond 10%
        (3, 0.5, 0.0, "FAIL"),  # a zero optimum no longer lets any schedule through
        (3, 0.009, 0.005, "PASS"),  # below the 0.01-nat floor both: the schedule itself errs < 0.01
        (3, 0.011, 0.005, "FAIL"),  # optimum below the floor, the schedule not
        (4, 5.0, 0.1, "PASS"),  # k = 4 > n/2 = 3: not judged
    ],
)
def test_dp_from_estimate_bar(learned_tables, k, built, optimum, status):
    assert _dp(learned_tables, k, built, optimum) == status


def test_sqrt_rule_floor_does_not_absorb_a_bad_schedule(learned_tables):
    def change(frame, built):
        sqrt = frame.schedule == "sqrt"
        frame.loc[sqrt, "factorization_exact"] = 0.0
        frame.loc[sqrt & (frame.curve == "estimated") & (frame.steps == 2), "factorization_exact"] = built
        return frame

    record = claims.CLAIMS["learned_sqrt_from_estimate"]
    assert record(_with(learned_tables, "chain", "schedules", lambda t: change(t, 0.005))).status == "PASS"
    assert record(_with(learned_tables, "chain", "schedules", lambda t: change(t, 0.3))).status == "FAIL"


def test_monte_carlo_with_zero_standard_error_must_match_exactly(learned_tables):
    def change(frame, offset):
        measured = frame.factorization.notna()
        frame.loc[measured, "factorization"] = frame.loc[measured, "factorization_exact"]
        first = frame.index[measured][0]
        frame.loc[first, "factorization_se"] = 0.0
        frame.loc[first, "factorization"] += offset
        return frame

    record = claims.CLAIMS["learned_monte_carlo_thm4"]
    assert record(_with(learned_tables, "chain", "schedules", lambda t: change(t, 0.0))).status == "PASS"
    assert record(_with(learned_tables, "chain", "schedules", lambda t: change(t, 1e-6))).status == "FAIL"


def test_text_gap_must_be_measurable_and_fall(learned_tables):
    def gaps(values, se):
        def change(frame):
            rows = frame.index[(frame.schedule == "uniform") & frame.k_target.notna()]
            order = frame.loc[rows].sort_values("steps").index
            frame.loc[order, "gap_bits_per_char"] = values[: len(order)]
            frame.loc[order, "gap_bits_per_char_se"] = se
            return frame

        return claims.CLAIMS["learned_text_gap_falls"](_with(learned_tables, "verse", "schedules", change)).status

    assert gaps([0.3, 0.2, 0.1], 0.01) == "PASS"
    assert gaps([0.3, 0.35, 0.1], 0.01) == "FAIL"  # rises between two k
    assert gaps([0.01, 0.005, 0.0], 0.01) == "FAIL"  # falls, but the gap is noise


def test_rules_tables_of_both_kinds(learned_tables):
    """The chain's rules: the model at the default NFE (n/8, n/4, n/2 -> 1, 3), the exact oracle also
    at k = n; the text model's rules: held-out NLL beside the one-token-at-a-time value."""
    chain = learned_tables["learned_chain_rules"]
    model, exact = chain[chain.oracle == "model"], chain[chain.oracle == "exact"]
    assert set(model.k.dropna()) == {1, 3} and set(exact.k.dropna()) == {1, 3, 6}
    assert model.learning.notna().all() and model.kl.notna().all() and chain.nll_bits_per_char.isna().all()
    verse = learned_tables["learned_verse_rules"]
    assert (verse.oracle == "model").all() and verse.kl.isna().all() and verse.nll_bits_per_char.notna().all()
    assert set(verse.k.dropna()) == {2, 4, 8} and set(verse.rule) == set(pipeline.EVALUATION_DEFAULTS["rules"])
    assert (verse.gap_bits_per_char - (verse.nll_bits_per_char - verse.one_at_a_time_bits_per_char)).abs().max() < 1e-9


def test_rules_claims_bars(learned_tables):
    """The exact-oracle rows must match their exact values within 4 SE; the random rule's two
    estimates within 4 combined SE; with no shared schedule there is nothing to compare (FAIL)."""
    exact_claim, two_ways = claims.CLAIMS["learned_rules_exact_oracle"], claims.CLAIMS["learned_rules_random_two_ways"]

    def exact_offset(offset_se):
        def change(frame):
            rows = (frame.oracle == "exact") & frame.kl_theory.notna()
            frame.loc[rows, "kl_se"] = 0.1
            frame.loc[rows, "kl"] = frame.loc[rows, "kl_theory"] + offset_se * 0.1
            return frame

        return exact_claim(_with(learned_tables, "chain", "rules", change)).status

    assert exact_offset(3.9) == "PASS" and exact_offset(4.1) == "FAIL"

    def random_offset(offset_se, drop=False):
        def change(frame):
            frame = frame.dropna(subset=["kl"])
            if drop:
                return frame.iloc[0:0]
            frame.loc[:, "kl_se"] = 0.3  # combined SE 0.3 * sqrt(2) with the rules' SE set alike
            return frame

        def rules(frame):
            rows = (frame.oracle == "model") & (frame.rule == "random")
            frame.loc[rows, "kl_se"] = 0.3
            schedules = learned_tables["learned_chain_schedules"].dropna(subset=["kl"]).drop_duplicates("sizes")
            frame.loc[rows, "kl"] = frame.loc[rows, "sizes"].map(schedules.set_index("sizes").kl) + offset_se * 0.3 * 2**0.5
            return frame

        tampered = _with(_with(learned_tables, "chain", "schedules", change), "chain", "rules", rules)
        return two_ways(tampered).status

    assert random_offset(3.9) == "PASS" and random_offset(4.1) == "FAIL" and random_offset(0.0, drop=True) == "FAIL"


def test_claims_of_a_missing_kind_fail(learned_tables):
    text_only = {name: frame for name, frame in learned_tables.items() if "_chain_" not in name}
    table = claims.evaluate(REPORT, text_only).set_index("claim")
    for claim_id in ("learned_curve_estimate", "learned_dp_from_estimate", "learned_sqrt_from_estimate", "learned_monte_carlo_thm4",
                     "learned_rules_exact_oracle", "learned_rules_random_two_ways"):
        assert table.status[claim_id] == "FAIL" and "no synthetic-data model" in table.measured[claim_id]


def test_rules_figure_and_table(learned_tables, tmp_path):
    from mdmsched.plots import learned as plots

    combined = {kind: learned.combined(learned_tables, kind) for kind in learned.KINDS}
    plots.rules(combined, tmp_path)
    assert (tmp_path / "learned_rules.png").stat().st_size > 0 and (tmp_path / "learned_rules.pdf").stat().st_size > 0
    table = plots.rules_table(combined)
    assert set(table.index.get_level_values("model")) == {"chain", "verse"}
    assert list(table.columns[:3]) == ["k=1", "k=2", "k=3"] and list(table.columns[-2:]) == ["gamma=1", "tau=0.9"]
