"""Thin Snakemake wrapper: draw or encode one model's train / validation sequences."""

from mdmsched.io import logged
from mdmsched.mdm.pipeline import prepare_dataset

with logged(snakemake.log[0]):
    arrays = prepare_dataset(snakemake.params.spec, snakemake.params.seed, snakemake.output[0])
    print(f"{snakemake.wildcards.model}: train {arrays['train'].shape}, validation {arrays['validation'].shape}, q={int(arrays['q'])}")
