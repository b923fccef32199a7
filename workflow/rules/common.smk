# Shared definitions: paths of the tables, claims, reports and figures. The names come from the
# library: the reports (mdmsched.reports.REPORTS: experiments, figures, category, notebook) and the
# tables written per trained model (mdmsched.claims.learned.KINDS = mdmsched.mdm.pipeline.TABLES).

import sys

from mdmsched.claims.learned import KINDS as MODEL_TABLES
from mdmsched.claims.learned import table_name
from mdmsched.reports import buildable

RESULTS = config["results_dir"]
REPORTS_DIR = config["reports_dir"]
FIGURES_DIR = config["figures_dir"]
DATA_DIR = config["data_dir"]
MODELS_DIR = config["models_dir"]
MODELS = config.get("models") or {}
ENV = "../../envs/mdmsched.yaml"

# resources of the training and evaluation jobs unless a model sets its own (`resources:`). One
# thread each: these small transformers run only ~1.5x faster on two threads than on one, so on a
# small machine two single-threaded jobs side by side finish sooner than the same jobs in turn.
MODEL_RESOURCES = {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0}


def learned_table(model, table):
    return experiment_table(table_name(model, table))


def schedule_plan(model):
    """The schedule a user takes home (mdmsched.takehome): estimated curve + optimal schedules, JSON."""
    return f"{RESULTS}/schedules/{model}.json"


def training_history(model):
    """The training history CSV beside the checkpoint (mdmsched.mdm.training.history_path)."""
    return f"{MODELS_DIR}/{model}.history.csv"


def model_resource(model, key):
    return (MODELS[model].get("resources") or {}).get(key, MODEL_RESOURCES[key])


# A config describes the whole run: a report whose tables the config does not all produce is left
# out (with a note), so a config may run one experiment or one model.
REPORTS, _notes = buildable(config["experiments"], MODELS)
for _note in _notes:
    print(_note, file=sys.stderr)


def experiment_table(name):
    return f"{RESULTS}/tables/{name}.csv"


def claims_table(report):
    return f"{RESULTS}/claims/{report}.csv"


def report_tables(report):
    """Name -> path of the tables ``report`` reads (its experiments', or every model's)."""
    return {name: experiment_table(name) for name in REPORTS[report].tables(MODELS)}


def claim_inputs(report):
    """Name -> path of every table the claims of ``report`` read: its tables and the training
    histories of the learned report."""
    histories = REPORTS[report].histories(MODELS)
    return {**report_tables(report), **{name: training_history(model) for name, model in histories.items()}}


def report_figures(report):
    """Figure name -> its PDF and PNG paths, for every figure the notebook of ``report`` saves."""
    return {figure: [f"{FIGURES_DIR}/{figure}.{ext}" for ext in ("pdf", "png")] for figure in REPORTS[report].figures}


def report_outputs(report):
    return {
        "notebook": f"{REPORTS_DIR}/{report}.ipynb",
        "html": f"{REPORTS_DIR}/{report}.html",
    }


def all_targets():
    targets = [experiment_table(name) for name in config["experiments"]]
    targets += [schedule_plan(model) for model in MODELS]
    for report in REPORTS:
        targets.append(claims_table(report))
        targets += list(report_outputs(report).values())
        targets += [path for paths in report_figures(report).values() for path in paths]
    return targets


wildcard_constraints:
    experiment="|".join(sorted(config["experiments"])) or "^$",
    report="|".join(sorted(REPORTS)) or "^$",
    model="|".join(sorted(MODELS)) or "^$",
