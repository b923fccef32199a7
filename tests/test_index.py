"""The replication index (mdmsched.index) and the claims tables it reads (never an executed notebook)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mdmsched import index
from mdmsched.claims import COLUMNS
from mdmsched.io import write_table

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


def test_build_index_links_every_figure_claim_and_table(tmp_path):
    reports_dir, figures_dir, tables_dir = tmp_path / "reports", tmp_path / "figures", tmp_path / "results" / "tables"
    for folder in (reports_dir, figures_dir, tables_dir):
        folder.mkdir(parents=True)
    claims_csv = tmp_path / "results" / "claims" / "ccl_report.csv"
    write_table(pd.DataFrame([
        {"claim": "Thm 4 | identity", "paper_reference": "CCL Thm 4", "statement": "E KL = area", "measured": "1e-15", "tolerance": "<= 1e-12", "status": "PASS"},
        {"claim": "a measurement", "paper_reference": "CCL Sec. 1", "statement": "no claim", "measured": "2x", "tolerance": "", "status": "INFO"},
        {"claim": "bound <holds>", "paper_reference": "CCL Thm 9", "statement": "KL <= eps", "measured": "3 violations", "tolerance": "none", "status": "FAIL"},
    ], columns=COLUMNS), claims_csv)
    notebook = reports_dir / "ccl_report.ipynb"
    notebook.write_text("not read by the index")
    bench = tmp_path / "results" / "benchmarks" / "experiment"
    bench.mkdir(parents=True)
    (bench / "ccl_figure1.tsv").write_text(HEADER + "2.0\t0:00:02\t80\t0\t0\t0\t0\t0\t0\t1.0\n")
    reports = {
        "ccl_report": {
            "category": "Chen-Cong-Li (COLT 2026)",
            "titles": {"ccl_identity": "Thm 4 identity on random laws"},
            "notebook": str(notebook),
            "html": str(reports_dir / "ccl_report.html"),
            "claims": str(claims_csv),
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
            "claims": str(tmp_path / "results" / "claims" / "lz_report.csv"),
            "figures": {},
            "tables": {},
        },
    }
    counts = index.build_index(reports, tmp_path / "results" / "benchmarks", reports_dir / "index.md", reports_dir / "index.html")
    assert counts == {"reports": 2, "figures": 2, "claims": 3, "pass": 1, "fail": 1, "info": 1, "jobs": 1, "stages": 1}
    md = (reports_dir / "index.md").read_text()
    html = (reports_dir / "index.html").read_text()
    assert "**ccl_report: 1 PASS, 1 FAIL, 1 INFO; lz_report: 0 PASS, 0 FAIL, 0 INFO**" in md
    # FAILs first, with the measured reason and the tolerance, above the tables and in the claims table
    assert "- ccl_report: bound <holds> (CCL Thm 9): 3 violations; tolerance none" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and line.endswith("** |")]
    assert [row.rsplit("**", 2)[1] for row in rows] == ["FAIL", "PASS", "INFO"]
    assert "[../results/claims/ccl_report.csv](../results/claims/ccl_report.csv)" in md
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
