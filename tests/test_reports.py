"""The report registry (mdmsched.reports.REPORTS) that the workflow builds its rules from: its names
agree with the experiment registry, the plot modules, the claims, the notebooks and the shipped
configs, and a config lacking a report's tables leaves that report out with a note."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from mdmsched import claims
from mdmsched.claims import learned
from mdmsched.experiments import EXPERIMENTS, _load_all
from mdmsched.reports import REPORTS, Report, buildable

ROOT = Path(__file__).resolve().parents[1]


def test_reports_read_every_registered_experiment_once():
    _load_all()
    read = [name for report in REPORTS.values() for name in report.experiments]
    assert len(read) == len(set(read)), "an experiment is read by two reports"
    assert set(read) == set(EXPERIMENTS)
    for report in REPORTS.values():
        assert all(EXPERIMENTS[name].__module__.rsplit(".", 1)[-1] == report.name.removesuffix("_report")
                   for name in report.experiments), report.name


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_figures_are_the_plot_modules_own(name):
    report = REPORTS[name]
    plots = importlib.import_module(f"mdmsched.plots.{name.removesuffix('_report')}")
    assert report.figures == tuple(figure for figures in plots.FIGURES.values() for figure in figures)
    assert len(set(report.figures)) == len(report.figures) and report.figures
    assert all(isinstance(figures, tuple) for figures in plots.FIGURES.values())


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_each_report_has_a_notebook_a_caption_and_claims(name):
    report = REPORTS[name]
    assert report.name == name and report.category
    assert (ROOT / report.notebook).is_file()
    assert (ROOT / "workflow" / "report" / f"{name}.rst").is_file()
    assert claims.claims_for(name)


def test_claims_belong_to_registered_reports():
    assert {record.report for record in claims.load().values()} == set(REPORTS)


def test_per_model_report_reads_every_models_tables_and_histories():
    report = REPORTS["learned_report"]
    assert report.per_model and not report.experiments
    assert report.tables(["a", "b"]) == learned.table_names(["a", "b"])
    assert report.histories(["a"]) == {"learned_a_history": "a"}
    paths = learned.table_paths(["a"], "t", "m")
    assert set(paths) == set(report.tables(["a"])) | set(report.histories(["a"]))
    assert REPORTS["ccl_report"].tables(["a"]) == list(REPORTS["ccl_report"].experiments)
    assert REPORTS["ccl_report"].histories(["a"]) == {}


def test_a_config_lacking_a_reports_tables_leaves_it_out_with_a_note():
    _load_all()
    kept, notes = buildable(set(EXPERIMENTS), {"markov": {}})
    assert set(kept) == set(REPORTS) and notes == []
    kept, notes = buildable(["unmasking_rules"], {})
    assert list(kept) == ["unmasking_report"]
    assert "note: learned_report is not built: the config lacks models" in notes
    ccl_note = next(note for note in notes if note.startswith("note: ccl_report"))
    assert ccl_note.endswith("the config lacks " + ", ".join(REPORTS["ccl_report"].experiments))
    assert Report("x", "c", ("f",), ("a", "b")).lacks(["b"]) == ["a"]


@pytest.mark.parametrize("config", ["config.yaml", "smoke.yaml", "paper.yaml"])
def test_shipped_configs_build_every_report(config):
    settings = yaml.safe_load((ROOT / "config" / config).read_text())
    kept, notes = buildable(settings["experiments"], settings.get("models") or {})
    assert set(kept) == set(REPORTS) and notes == []
