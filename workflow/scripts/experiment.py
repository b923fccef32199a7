"""Thin Snakemake wrapper: run one experiment of the library and log its output."""

import contextlib

from mdmsched.experiments import run_experiment

with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    run_experiment(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        seed=snakemake.params.seed,
        out=snakemake.output.table,
    )
