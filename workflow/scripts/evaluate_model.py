"""Thin Snakemake wrapper: evaluate one trained model as an oracle and write its tables."""

import contextlib

from mdmsched.mdm.pipeline import evaluate_model, write_tables

with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    tables = evaluate_model(
        snakemake.wildcards.model,
        snakemake.params.spec,
        snakemake.input.data,
        snakemake.input.checkpoint,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
    write_tables(tables, dict(snakemake.output.items()))
