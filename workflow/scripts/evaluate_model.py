"""Thin Snakemake wrapper: evaluate one trained model as an oracle and write its tables."""

from mdmsched.io import logged
from mdmsched.mdm.pipeline import evaluate_model, write_tables

with logged(snakemake.log[0]):
    tables = evaluate_model(
        snakemake.wildcards.model,
        snakemake.params.spec,
        snakemake.input.data,
        snakemake.input.checkpoint,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
    write_tables(tables, dict(snakemake.output.items()))
