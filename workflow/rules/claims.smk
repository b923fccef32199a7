# The claims of each report (mdmsched.claims): the papers' statements checked on the report's tables,
# one row per claim with PASS / FAIL / INFO, written as <results_dir>/claims/<report>.csv. Notebooks
# display this file and the index counts it; nothing reads a verdict from an executed notebook.


rule claims:
    input:
        tables=lambda wildcards: [experiment_table(name) for name in REPORTS[wildcards.report]["experiments"]],
    output:
        csv=claims_table("{report}"),
    params:
        experiments=lambda wildcards: REPORTS[wildcards.report]["experiments"],
    log:
        f"{RESULTS}/logs/claims/{{report}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/claims/{{report}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/claims.py"
