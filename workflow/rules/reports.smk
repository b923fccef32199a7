# Parameterized notebooks executed by papermill, then rendered to self-contained HTML.
# One rule per report, because each report saves its own list of figures.

for report_name, report_spec in REPORTS.items():

    rule:
        name:
            f"render_{report_name}"
        input:
            tables=list(report_tables(report_name).values()),
            claims=claims_table(report_name),
            extra=[training_history(model) for model in report_spec.histories(MODELS).values()],
            notebook=report_spec.notebook,
        output:
            notebook=f"{REPORTS_DIR}/{report_name}.ipynb",
            html=report(
                f"{REPORTS_DIR}/{report_name}.html",
                caption=f"../report/{report_name}.rst",
                category="Reports",
            ),
            pdfs=[pdf for pdf, _ in report_figures(report_name).values()],
            pngs=report(
                [png for _, png in report_figures(report_name).values()],
                caption=f"../report/{report_name}.rst",
                category=report_spec.category,
            ),
        params:
            parameters={
                "tables_dir": f"{RESULTS}/tables",
                "figures_dir": FIGURES_DIR,
                "claims_csv": claims_table(report_name),
                **({"models": list(MODELS), "models_dir": MODELS_DIR} if report_spec.per_model else {}),
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
