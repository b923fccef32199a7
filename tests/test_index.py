"""The replication index (mdmsched.index) and the claims it reads from executed notebooks."""

from __future__ import annotations

import json
import math

import pytest

from mdmsched import index
from mdmsched.reports import CLAIMS_ENV, Claims, notebook_claims

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


@pytest.mark.parametrize(
    "name, label",
    [
        ("ccl_fig1_step_approximation", "CCL Figure 1: step approximation"),
        ("ccl_figure2", "CCL Figure 2"),
        ("lz_sqrt_rule", "LZ: sqrt rule"),
        ("other_thing", "other thing"),
    ],
)
def test_figure_label(name, label):
    assert index.figure_label(name) == label


def test_benchmarks_are_read_and_summarised_per_stage(tmp_path):
    bench = tmp_path / "benchmarks"
    (bench / "experiment").mkdir(parents=True)
    (bench / "report").mkdir()
    (bench / "index").mkdir()
    (bench / "experiment" / "a.tsv").write_text(HEADER + "1.5\t0:00:01\t100\t0\t0\t0\t0\t0\t0\t1.0\n")
    # two repeats: the mean is reported
    (bench / "experiment" / "b.tsv").write_text(HEADER + "3.0\t0:00:03\t50\t0\t0\t0\t0\t0\t0\t2.0\n"
                                                + "5.0\t0:00:05\t70\t0\t0\t0\t0\t0\t0\t4.0\n")
    # too short to measure memory: Snakemake writes "-"
    (bench / "report" / "r.tsv").write_text(HEADER + "0.2\t0:00:00\t-\t-\t-\t-\t-\t-\t-\t-\n")
    (bench / "index" / "index.tsv").write_text(HEADER + "9\t0:00:09\t1\t0\t0\t0\t0\t0\t0\t1\n")
    rows = index.read_benchmarks(bench)
    assert sorted((row["stage"], row["job"]) for row in rows) == [("experiment", "a"), ("experiment", "b"), ("report", "r")]
    b = next(row for row in rows if row["job"] == "b")
    assert b["seconds"] == 4.0 and b["cpu_seconds"] == 3.0 and b["max_rss_mb"] == 60.0
    r = next(row for row in rows if row["job"] == "r")
    assert math.isnan(r["max_rss_mb"]) and math.isnan(r["cpu_seconds"])
    stages = index.stage_summary(rows)
    assert [stage["stage"] for stage in stages] == ["experiment", "report"]  # by total wall time
    experiment = stages[0]
    assert experiment["jobs"] == 2 and experiment["seconds"] == 5.5 and experiment["slowest"] == "b"
    assert experiment["max_seconds"] == 4.0 and experiment["max_rss_mb"] == 100.0 and experiment["cpu_seconds"] == 4.0


def test_claims_recorded_through_the_environment(tmp_path, monkeypatch):
    sink = tmp_path / "claims.jsonl"
    monkeypatch.setenv(CLAIMS_ENV, str(sink))
    claims = Claims()
    assert claims.check("a claim", "the paper says", 1.5, True)
    assert not claims.check("another", "x <= y", "2 > 1", [True, False])
    rows = [json.loads(line) for line in sink.read_text().splitlines()]
    assert rows == [
        {"claim": "a claim", "paper": "the paper says", "measured": 1.5, "pass": "PASS"},
        {"claim": "another", "paper": "x <= y", "measured": "2 > 1", "pass": "FAIL"},
    ]
    monkeypatch.delenv(CLAIMS_ENV)
    Claims().check("not recorded", "", 0, True)
    assert len(sink.read_text().splitlines()) == 2


def test_build_index_links_every_figure_claim_and_table(tmp_path):
    reports_dir, figures_dir, tables_dir = tmp_path / "reports", tmp_path / "figures", tmp_path / "results" / "tables"
    for folder in (reports_dir, figures_dir, tables_dir):
        folder.mkdir(parents=True)
    claims = [
        {"claim": "Thm 4 | identity", "paper": "E KL = area", "measured": "1e-15", "pass": "PASS"},
        {"claim": "bound <holds>", "paper": "KL <= TC", "measured": "0 violations", "pass": "FAIL"},
    ]
    notebook = reports_dir / "ccl_report.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {"mdmsched": {"claims": claims}}, "nbformat": 4, "nbformat_minor": 5}))
    assert notebook_claims(notebook) == claims
    bench = tmp_path / "results" / "benchmarks" / "experiment"
    bench.mkdir(parents=True)
    (bench / "ccl_figure1.tsv").write_text(HEADER + "2.0\t0:00:02\t80\t0\t0\t0\t0\t0\t0\t1.0\n")
    reports = {
        "ccl_report": {
            "category": "Chen-Cong-Li (COLT 2026)",
            "titles": {"ccl_identity": "Thm 4 identity on random laws"},
            "notebook": str(notebook),
            "html": str(reports_dir / "ccl_report.html"),
            "figures": {
                name: [str(figures_dir / f"{name}.{ext}") for ext in ("pdf", "png")]
                for name in ("ccl_fig1_step_approximation", "ccl_identity")
            },
            "tables": {"ccl_figure1": str(tables_dir / "ccl_figure1.csv")},
        },
        "lz_report": {  # not rendered yet: listed without claims
            "category": "Lavenant-Zanella (2025)",
            "notebook": str(reports_dir / "lz_report.ipynb"),
            "html": str(reports_dir / "lz_report.html"),
            "figures": {},
            "tables": {},
        },
    }
    counts = index.build_index(reports, tmp_path / "results" / "benchmarks", reports_dir / "index.md", reports_dir / "index.html")
    assert counts == {"reports": 2, "figures": 2, "claims": 2, "passed": 1, "jobs": 1, "stages": 1}
    md = (reports_dir / "index.md").read_text()
    html = (reports_dir / "index.html").read_text()
    assert "**1 of 2 claims pass**" in md
    assert "[ccl_fig1_step_approximation.pdf](../figures/ccl_fig1_step_approximation.pdf)" in md
    assert "CCL Figure 1: step approximation" in md and "Thm 4 identity on random laws" in md
    assert "Thm 4 \\| identity" in md  # table cells escape the pipe
    assert "[ccl_figure1.csv](../results/tables/ccl_figure1.csv)" in md
    assert "| experiment | 1 | 2.0 | 1.0 | ccl_figure1 | 2.0 | 80 |" in md
    assert 'href="../figures/ccl_identity.png"' in html and "bound &lt;holds&gt;" in html
    assert 'class="FAIL"' in html and "Lavenant-Zanella (2025)" in html
    assert not [path.name for path in reports_dir.glob(".*")]  # written atomically, nothing left over


def test_build_index_wants_both_files_in_one_folder(tmp_path):
    with pytest.raises(ValueError, match="share a folder"):
        index.build_index({}, tmp_path, tmp_path / "a" / "index.md", tmp_path / "b" / "index.html")
