# One table per experiment, computed by the library (mdmsched.experiments) from config parameters.


rule experiment:
    output:
        table=f"{RESULTS}/tables/{{experiment}}.csv",
    params:
        settings=lambda wildcards: config["experiments"][wildcards.experiment] or {},
        seed=config["seed"],
    log:
        f"{RESULTS}/logs/experiment/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/experiment/{{experiment}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../scripts/experiment.py"
