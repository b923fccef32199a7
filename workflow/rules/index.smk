# The front page: reports/index.{md,html} maps every paper figure and claim to its file and summarises
# the runtime of each stage from the benchmark files (logic in mdmsched.index).


rule index:
    input:
        # every table, report and figure: the index is written last, when all benchmarks exist
        all_targets(),
    output:
        md=f"{REPORTS_DIR}/index.md",
        html=report(
            f"{REPORTS_DIR}/index.html",
            caption="../report/index.rst",
            category="Overview",
        ),
    params:
        reports={
            name: {
                "category": spec.category,
                **report_outputs(name),
                "claims": claims_table(name),
                "figures": report_figures(name),
                "tables": report_tables(name),
            }
            for name, spec in REPORTS.items()
        },
        benchmarks_dir=f"{RESULTS}/benchmarks",
    log:
        f"{RESULTS}/logs/index/index.log",
    benchmark:
        f"{RESULTS}/benchmarks/index/index.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/index.py"
