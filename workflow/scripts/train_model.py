"""Thin Snakemake wrapper: train (or resume) one model; progress goes to the log."""

from mdmsched.io import logged
from mdmsched.mdm.pipeline import train_model

with logged(snakemake.log[0]):
    train_model(
        snakemake.params.spec,
        snakemake.input[0],
        snakemake.output.checkpoint,
        partial_dir=snakemake.params.partial_dir,
        threads=snakemake.threads,
    )
