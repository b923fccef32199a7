# mdmsched: replication of Chen-Cong-Li (COLT 2026) and Lavenant-Zanella (2025).
#   snakemake --cores all                                 # the default (laptop-sized) replication
#   snakemake --cores all --configfile config/smoke.yaml  # the same DAG at tiny sizes
#   snakemake --profile profiles/slurm                    # on a SLURM cluster

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/reports.smk"


rule all:
    input:
        all_targets(),
    default_target: True
