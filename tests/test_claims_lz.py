"""LZ claims (mdmsched.claims.lz) on real tables: the LZ experiments at the smoke config's sizes,
written and read back as the workflow does. Every claim evaluates with the expected verdict, and
every PASS/FAIL claim FAILs once its registered tampering pushes the measurement past its tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mdmsched import claims, distributions, evaluation
from mdmsched.experiments import run_experiment

REPO = Path(__file__).resolve().parents[1]
REPORT = "lz_report"
LZ_CLAIMS = claims.claims_for(REPORT)
TESTED = [record for record in LZ_CLAIMS if not record.info]


@pytest.fixture(scope="session")
def lz_tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lz_tables")
    experiments = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())["experiments"]
    paths = {}
    for name, params in experiments.items():
        if name.startswith("lz_"):
            paths[name] = folder / f"{name}.csv"
            run_experiment(name, params or {}, out=paths[name])
    return claims.read_tables(paths)


def test_the_claims_read_only_lz_tables_and_the_smoke_config_has_them_all(lz_tables):
    needed = {name for record in LZ_CLAIMS for name in record.tables}
    assert needed <= set(lz_tables) and all(name.startswith("lz_") for name in needed)


def test_every_lz_claim_evaluates_with_the_expected_verdict(lz_tables):
    table = claims.evaluate(REPORT, lz_tables)
    assert list(table.columns) == claims.COLUMNS
    assert list(table.claim) == [record.id for record in LZ_CLAIMS] and len(table) == 26
    status = table.set_index("claim").status
    # LZ App. A's K = O(log N) for f ~ c / l^2 fails: the DP needs K ~ (log N)^2 for a fixed eps
    assert list(status[status == "FAIL"].index) == ["lz_gaussian_log_steps"]
    assert list(status[status == "INFO"].index) == ["lz_sqrt_rule_vs_dp"]
    assert (status == "PASS").sum() == 24
    assert table.measured.str.len().min() > 10 and (table[table.status != "INFO"].tolerance.str.len() > 0).all()
    assert table.paper_reference.str.match(r"^(LZ|CCL) ").all()


@pytest.mark.parametrize("record", TESTED, ids=[record.id for record in TESTED])
def test_each_lz_claim_fails_when_its_measurement_is_pushed_past_the_tolerance(record, lz_tables):
    snapshot = {name: frame.copy() for name, frame in lz_tables.items()}
    assert record.breaks is not None, f"{record.id} has no breaking case"
    assert record(record.breaks(lz_tables)).status == "FAIL"
    for name, frame in snapshot.items():  # the tampering works on a copy
        pd.testing.assert_frame_equal(lz_tables[name], frame)


def test_one_breaking_case_per_lz_claim_that_states_a_claim():
    breaking = [record for record in LZ_CLAIMS if record.breaks is not None]
    assert len(breaking) == len(TESTED) == 25
    assert all(record.breaks is None for record in LZ_CLAIMS if record.info)


def test_constant_sizes_on_the_gaussian_need_about_two_thirds_of_n_steps_not_n(lz_tables):
    """The balanced schedule (larger steps spread evenly) reaches E_fact <= 0.1 at K = 11, 43, 171
    for N = 16, 64, 256, K / N -> 2/3; the remainder-first split needs K = N (a first step of two
    tokens already costs f(1) = (1/2) ln(4/3) = 0.144 > 0.1). The DP needs 7, 16, 31."""
    steps = lz_tables["lz_gaussian_steps"].set_index(["schedule", "n"]).k_min
    assert [steps["balanced", n] for n in (16, 64, 256)] == [11, 43, 171]
    assert [steps["optimal", n] for n in (16, 64, 256)] == [7, 16, 31]
    for n in (16, 64, 256):
        z = distributions.ExchangeableGaussian(n, 1.0).information_curve()
        assert evaluation.steps_to_reach(z, 0.1, "uniform") == n
    assert z[1] - z[0] == pytest.approx(0.5 * np.log(4 / 3), abs=1e-12)
    verdict = claims.CLAIMS["lz_gaussian_constant_linear_steps"](lz_tables)
    assert verdict.status == "PASS" and "11, 43, 171" in verdict.measured


def test_a_missing_instance_is_a_fail_not_a_pass(lz_tables):
    tables = dict(lz_tables)
    tables["lz_worst_case"] = lz_tables["lz_worst_case"][lambda t: t.blocks != "3-2-1"]
    tables["lz_dimension_free"] = lz_tables["lz_dimension_free"][lambda t: t.family != "all_equal"]
    assert claims.CLAIMS["lz_worst_case_attained"](tables).status == "FAIL"
    assert claims.CLAIMS["lz_all_equal_equality"](tables).status == "FAIL"


def test_bound_claims_count_violations_from_the_measurements(lz_tables):
    """The measured text says how many cases violate the bound; one violation is reported as one."""
    tables = dict(lz_tables)
    frame = lz_tables["lz_identities"].copy()
    rows = frame.index[frame.kl_mixture.notna()][:2]
    frame.loc[rows, "kl_mixture"] = frame.loc[rows, "e_fact_random"] + frame.loc[rows, "e_learn_random"] + 1.0
    tables["lz_identities"] = frame
    verdict = claims.CLAIMS["lz_random_planner_bound"](tables)
    assert verdict.status == "FAIL" and verdict.measured.startswith("2 violations in")
