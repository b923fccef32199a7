# mdmsched: replication of Chen-Cong-Li (COLT 2026) and Lavenant-Zanella (2025).
#   snakemake --cores all                                 # the default (laptop-sized) replication
#   snakemake --cores all --configfile config/smoke.yaml  # the same DAG at tiny sizes
#   snakemake --profile profiles/slurm                    # on a SLURM cluster

from snakemake.utils import min_version

from mdmsched.config import check_workflow_config

min_version("8.0")


# A --configfile is the whole config (it is not merged into the default, so it can leave things
# out); without one, config/config.yaml is used. --config key=value overrides either.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# The schema, experiment names and parameters, families and evaluation settings, before any job
# runs: a problem stops the run with a message naming the config path.
try:
    check_workflow_config(config, workflow.source_path("workflow/schemas/config.schema.yaml"))
except ValueError as problem:
    raise WorkflowError(f"invalid config:\n{problem}") from None


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
