# The claims of each report (mdmsched.claims): the papers' statements checked on the report's tables,
# one row per claim with PASS / FAIL / INFO, written as <results_dir>/claims/<report>.csv. Notebooks
# display this file and the index counts it; nothing reads a verdict from an executed notebook.


rule claims:
    input:
        tables=lambda wildcards: list(claim_inputs(wildcards.report).values()),
    output:
        csv=claims_table("{report}"),
    params:
        names=lambda wildcards: list(claim_inputs(wildcards.report)),
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
