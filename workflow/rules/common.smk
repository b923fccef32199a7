# Shared definitions: which tables feed which report, and which figures each report draws.

import json
import sys

RESULTS = config["results_dir"]
REPORTS_DIR = config["reports_dir"]
FIGURES_DIR = config["figures_dir"]
DATA_DIR = config["data_dir"]
MODELS_DIR = config["models_dir"]
MODELS = config.get("models") or {}
ENV = "../../envs/mdmsched.yaml"

# tables written per trained model (mdmsched.mdm.pipeline.TABLES)
MODEL_TABLES = ["curve", "schedules", "steps", "summary", "samples", "rules"]
# resources of the training and evaluation jobs unless a model sets its own (`resources:`)
MODEL_RESOURCES = {"threads": 2, "mem_mb": 4000, "runtime": 60, "gpu": 0}


def learned_table(model, table):
    return f"{RESULTS}/tables/learned_{model}_{table}.csv"


def schedule_plan(model):
    """The schedule a user takes home (mdmsched.takehome): estimated curve + optimal schedules, JSON."""
    return f"{RESULTS}/schedules/{model}.json"


def model_resource(model, key):
    return (MODELS[model].get("resources") or {}).get(key, MODEL_RESOURCES[key])


# report -> the experiments whose tables it reads and the figures (without extension) it saves
REPORTS = {
    "ccl_report": {
        "experiments": [
            "ccl_figure1",
            "ccl_identity",
            "ccl_error_vs_k",
            "ccl_steps_vs_n",
            "ccl_rs_codes",
            "ccl_code_lift",
            "ccl_appendix_e",
            "ccl_sweep",
            "ccl_heuristics",
        ],
        # exactly the names the panels of mdmsched.plots.ccl save (ccl.FIGURES)
        "figures": [
            "ccl_fig1_step_approximation",
            "ccl_fig1_optimal_schedule",
            "ccl_identity",
            "ccl_error_vs_k",
            "ccl_steps_vs_n",
            "ccl_rs_codes",
            "ccl_code_lift",
            "ccl_appendix_e",
            "ccl_sweep",
            "ccl_heuristics",
        ],
        "category": "Chen-Cong-Li (COLT 2026)",
    },
    "lz_report": {
        "experiments": [
            "lz_identities",
            "lz_profiles",
            "lz_error_vs_k",
            "lz_worst_case",
            "lz_dimension_free",
            "lz_scaling_limit",
            "lz_optimal_path",
            "lz_gaussian_errors",
            "lz_gaussian_steps",
            "lz_gaussian_dyadic",
        ],
        # exactly the names the panels of mdmsched.plots.lz save
        "figures": [
            "lz_identities",
            "lz_profiles",
            "lz_error_vs_k",
            "lz_worst_case",
            "lz_dimension_free",
            "lz_scaling_limit",
            "lz_optimal_path",
            "lz_limit_profiles",
            "lz_gaussian",
        ],
        "category": "Lavenant-Zanella (2025)",
    },
    "learned_report": {
        "experiments": [f"learned_{model}_{table}" for model in MODELS for table in MODEL_TABLES],
        "inputs": [f"{MODELS_DIR}/{model}.history.csv" for model in MODELS],
        # what the claims read besides the tables (mdmsched.claims.learned.table_paths names them)
        "named_inputs": {f"learned_{model}_history": f"{MODELS_DIR}/{model}.history.csv" for model in MODELS},
        "parameters": {"models": list(MODELS), "models_dir": MODELS_DIR},
        # exactly the names the panels of mdmsched.plots.learned save
        "figures": ["learned_training", "learned_curves", "learned_schedules", "learned_text", "learned_rules"],
        "category": "Learned oracles (both papers)",
    },
    "unmasking_report": {
        "experiments": ["unmasking_rules"],
        # exactly the names mdmsched.plots.unmasking saves (unmasking.FIGURES)
        "figures": ["unmasking_kl_vs_nfe_exact", "unmasking_kl_vs_nfe_mc"],
        "category": "Beyond both papers: adaptive unmasking rules",
    },
}

# A config describes the whole run: a report whose tables the config does not all produce is left
# out (with a note), so a config may run one experiment or one model.
_produced = set(config["experiments"]) | {f"learned_{m}_{t}" for m in MODELS for t in MODEL_TABLES}
for _name, _spec in list(REPORTS.items()):
    _missing = [name for name in _spec["experiments"] if name not in _produced]
    if _missing or not _spec["experiments"]:
        del REPORTS[_name]
        print(f"note: {_name} is not built: the config lacks {', '.join(_missing) or 'models'}", file=sys.stderr)


def experiment_table(name):
    return f"{RESULTS}/tables/{name}.csv"


def claims_table(report):
    return f"{RESULTS}/claims/{report}.csv"


def claim_inputs(report):
    """Name -> path of every table the claims of ``report`` read: its experiments' tables and the
    report's extra named inputs (the training histories of the learned report)."""
    spec = REPORTS[report]
    return {**{name: experiment_table(name) for name in spec["experiments"]}, **spec.get("named_inputs", {})}


def report_outputs(report):
    return {
        "notebook": f"{REPORTS_DIR}/{report}.ipynb",
        "html": f"{REPORTS_DIR}/{report}.html",
    }


def all_targets():
    targets = [experiment_table(name) for name in config["experiments"]]
    targets += [schedule_plan(model) for model in MODELS]
    for report, spec in REPORTS.items():
        targets.append(claims_table(report))
        targets += list(report_outputs(report).values())
        targets += [f"{FIGURES_DIR}/{figure}.{ext}" for figure in spec["figures"] for ext in ("pdf", "png")]
    return targets


wildcard_constraints:
    experiment="|".join(sorted(config["experiments"])) or "^$",
    report="|".join(sorted(REPORTS)) or "^$",
    model="|".join(sorted(MODELS)) or "^$",
