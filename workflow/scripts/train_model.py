"""Thin Snakemake wrapper: train (or resume) one model; progress goes to the log."""

import contextlib

from mdmsched.mdm.pipeline import train_model

with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    train_model(
        snakemake.params.spec,
        snakemake.input[0],
        snakemake.output.checkpoint,
        partial_dir=snakemake.params.partial_dir,
        threads=snakemake.threads,
    )
