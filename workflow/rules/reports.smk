# Parameterized notebooks executed by papermill, then rendered to self-contained HTML.
# One rule per report, because each report saves its own list of figures.

for report_name, report_spec in REPORTS.items():

    rule:
        name:
            f"render_{report_name}"
        input:
            tables=[experiment_table(name) for name in report_spec["experiments"]],
            claims=claims_table(report_name),
            extra=report_spec.get("inputs", []),
            notebook=f"notebooks/{report_name}.ipynb",
        output:
            notebook=f"{REPORTS_DIR}/{report_name}.ipynb",
            html=report(
                f"{REPORTS_DIR}/{report_name}.html",
                caption=f"../report/{report_name}.rst",
                category="Reports",
            ),
            pdfs=[f"{FIGURES_DIR}/{figure}.pdf" for figure in report_spec["figures"]],
            pngs=report(
                [f"{FIGURES_DIR}/{figure}.png" for figure in report_spec["figures"]],
                caption=f"../report/{report_name}.rst",
                category=report_spec["category"],
            ),
        params:
            parameters={
                "tables_dir": f"{RESULTS}/tables",
                "figures_dir": FIGURES_DIR,
                "claims_csv": claims_table(report_name),
                **report_spec.get("parameters", {}),
            },
        log:
            f"{RESULTS}/logs/report/{report_name}.log",
        benchmark:
            f"{RESULTS}/benchmarks/report/{report_name}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=20,
        conda:
            ENV
        script:
            "../scripts/report.py"
