"""Thin Snakemake wrapper: run one experiment of the library and log its output."""

from mdmsched.io import logged
from mdmsched.experiments import run_experiment

with logged(snakemake.log[0]):
    run_experiment(
        snakemake.wildcards.experiment,
        snakemake.params.settings,
        seed=snakemake.params.seed,
        out=snakemake.output.table,
    )
