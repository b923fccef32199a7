"""Thin Snakemake wrapper: draw or encode one model's train / validation sequences."""

import contextlib

from mdmsched.mdm.pipeline import prepare_dataset

with open(snakemake.log[0], "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
    arrays = prepare_dataset(snakemake.params.spec, snakemake.params.seed, snakemake.output[0])
    print(f"{snakemake.wildcards.model}: train {arrays['train'].shape}, validation {arrays['validation'].shape}, q={int(arrays['q'])}")
