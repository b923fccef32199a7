# mdmsched: replication of Chen-Cong-Li (COLT 2026) and Lavenant-Zanella (2025).
#   snakemake --cores all                                 # the default (laptop-sized) replication
#   snakemake --cores all --configfile config/smoke.yaml  # the same DAG at tiny sizes
#   snakemake --profile profiles/slurm                    # on a SLURM cluster

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


# `snakemake --report report.html`: this text opens the report; figures and reports carry captions
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/reports.smk"
include: "workflow/rules/index.smk"


rule all:
    input:
        all_targets(),
        rules.index.output,
    default_target: True
