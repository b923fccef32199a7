"""The claims registry (mdmsched.claims): every claim evaluates on real tables, and every claim that
states something can fail.

Tables of the experiments' claims come from running the experiments with the smoke config's parameters (``config/smoke.yaml``),
once per test session. Each non-INFO claim is then fed its breaking case (a tampering of the tables
that pushes the measured quantity past the tolerance) and must FAIL; a claim registered without one
fails the suite.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from mdmsched import claims
from mdmsched.experiments import run_experiment

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = claims.load()
SMOKE = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())["experiments"]
# claims on experiment tables; the learned claims read trained models' tables, tested in test_claims_learned
ON_EXPERIMENTS = [record for record in REGISTRY.values() if record.report != "learned_report"]
STATED = [record for record in ON_EXPERIMENTS if not record.info]


class SmokeTables:
    """Experiment tables at the smoke config's sizes, computed on first use and kept for the session."""

    def __init__(self):
        config = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
        self.params = config["experiments"]
        self.seed = int(config.get("seed", 0))
        self.cache: dict[str, pd.DataFrame] = {}

    def __call__(self, names) -> dict:
        for name in names:
            if name not in self.cache:
                self.cache[name] = run_experiment(name, self.params[name] or {}, seed=self.seed)
        return {name: self.cache[name].copy() for name in names}


@pytest.fixture(scope="session")
def smoke_tables():
    return SmokeTables()


def test_registry_is_loaded_and_well_formed():
    assert REGISTRY and len(REGISTRY) == len({record.id for record in REGISTRY.values()})
    for record in REGISTRY.values():
        assert record.report and record.statement and record.paper_reference
        assert "issue" not in (record.paper_reference + record.statement).lower(), record.id  # results, never the work order
        if record.report == "ccl_report":
            assert record.paper_reference.startswith("CCL"), record.id


def test_every_claim_on_experiments_reads_smoke_experiments():
    assert all(record.tables and set(record.tables) <= set(SMOKE) for record in ON_EXPERIMENTS)


def test_every_stated_claim_has_a_breaking_case():
    unbreakable = [record.id for record in STATED if record.breaks is None]
    assert not unbreakable, f"claims that state something but cannot be shown to fail: {unbreakable}"
    cases = sum(record.breaks is not None for record in STATED)
    assert cases == len(STATED)


@pytest.mark.parametrize("record", ON_EXPERIMENTS, ids=lambda record: record.id)
def test_claim_evaluates_on_real_tables(record, smoke_tables):
    verdict = record(smoke_tables(record.tables))
    assert verdict.measured
    assert (verdict.status == claims.INFO) == record.info, f"{record.id}: {verdict}"
    if record.report == "ccl_report":  # every CCL claim holds already at smoke sizes
        assert verdict.status in (claims.PASS, claims.INFO), f"{record.id}: {verdict}"


@pytest.mark.parametrize("record", STATED, ids=lambda record: record.id)
def test_breaking_case_fails(record, smoke_tables):
    tables = smoke_tables(record.tables)
    untouched = {name: table.copy() for name, table in tables.items()}
    assert record.breaks is not None, f"{record.id} has no breaking case"
    verdict = record(record.breaks(tables))
    assert verdict.status == claims.FAIL, f"{record.id} still {verdict.status} on its breaking case: {verdict.measured}"
    for name, table in tables.items():  # the tampering works on copies
        pd.testing.assert_frame_equal(table, untouched[name])


def test_evaluate_and_write_per_report(smoke_tables, tmp_path):
    for report in sorted({record.report for record in ON_EXPERIMENTS}):
        records = claims.claims_for(report)
        tables = smoke_tables(sorted({name for record in records for name in record.tables}))
        table = claims.evaluate(report, tables)
        assert list(table.columns) == claims.COLUMNS and list(table.claim) == [record.id for record in records]
        assert claims.counts(table)[claims.INFO] == sum(record.info for record in records)
    assert claims.evaluate("no_such_report", {}).empty


def test_info_claim_cannot_return_a_verdict_and_vice_versa():
    info = claims.Claim("x", "r", "CCL Thm 1", "s", (), lambda tables: claims.Verdict("1", True), info=True)
    with pytest.raises(ValueError, match="INFO"):
        info({})
    stated = claims.Claim("y", "r", "CCL Thm 1", "s", (), lambda tables: claims.Verdict("1", None))
    with pytest.raises(ValueError, match="INFO"):
        stated({})
    with pytest.raises(KeyError, match="needs tables"):
        claims.Claim("z", "r", "CCL Thm 1", "s", ("t",), lambda tables: claims.Verdict("1", True))({})
