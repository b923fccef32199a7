"""The workflow's config means what it says and is checked before anything runs.

A ``--configfile`` is the whole config (nothing of config/config.yaml is merged in), so a config with
one model and one experiment runs just those; every config error (experiment names and parameters,
families and their parameters, evaluation ks, integer seeds, nested --config values) stops
``snakemake -n`` with a message naming the config path, before any job is planned.
"""

from __future__ import annotations

import pytest
import yaml

from test_workflow import SNAKEMAKE, copy_workflow, job_blocks, snakemake

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")

MINE = {
    "seed": 0, "results_dir": "results/mine", "reports_dir": "reports/mine", "figures_dir": "figures/mine",
    "data_dir": "data/mine", "models_dir": "models/mine",
    "models": {"markov": {
        "data": {"family": "markov", "params": {"n": 8, "stay": 0.9}, "train_sequences": 1000,
                 "validation_sequences": 200},
        "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
        "training": {"steps": 10, "batch_size": 32, "lr": 0.003, "warmup_steps": 2, "eval_every": 5,
                     "checkpoint_every": 5},
        "evaluation": {"ks": [2, 4], "eps": [0.5], "curve_sequences": 50, "kl_samples": 50, "bootstrap": 5,
                       "samples": 1},
        "resources": {"threads": 1, "mem_mb": 2000, "runtime": 10}}},
    "experiments": {"ccl_figure1": {}},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("bad_input_workflow"))


def with_changes(workdir, name, *changes):
    """Write config/<name>.yaml: MINE with each (dotted path, value) set (value None: deleted)."""
    config = yaml.safe_load(yaml.safe_dump(MINE))
    for path, value in changes:
        *parents, key = path.split(".")
        node = config
        for part in parents:
            node = node[part]
        if value is None:
            del node[key]
        else:
            node[key] = value
    (workdir / "config" / f"{name}.yaml").write_text(yaml.safe_dump(config))
    return f"config/{name}.yaml"


def test_a_user_config_describes_the_whole_run(workdir):
    """A config with one model and one experiment ran all three default models and 19 experiments."""
    out = snakemake(workdir, "--configfile", with_changes(workdir, "mine"), "--dry-run", timeout=300).stdout
    planned = sorted(block["rule"] for block in job_blocks(out))
    assert planned == sorted(["all", "claims", "evaluate_model", "experiment", "index", "prepare_data", "render_learned_report",
                              "train_model"]), out[-3000:]
    assert "shakespeare" not in out and "mixture" not in out
    assert "ccl_report is not built: the config lacks ccl_identity" in out


def test_a_model_without_data_is_refused_not_given_the_default_data(workdir):
    config = with_changes(workdir, "nodata", ("models.markov.data", None))
    result = snakemake(workdir, "--configfile", config, "--dry-run", check=False, timeout=300)
    assert result.returncode != 0 and "models.markov: 'data' is a required property" in result.stdout


@pytest.mark.parametrize(
    "changes, message",
    [
        ([("experiments.ccl_error_vs_k", {"eps_point": 3})],
         "experiments.ccl_error_vs_k.eps_point: unknown parameter"),
        ([("experiments.ccl_bogus", {})], "experiments.ccl_bogus: unknown experiment 'ccl_bogus'"),
        ([("experiments.ccl_steps_vs_n", {"n_min": 400, "n_max": 30})],
         "experiments.ccl_steps_vs_n.n_min: 400 exceeds n_max=30"),
        ([("experiments.lz_gaussian_steps", {"eps": 0})], "experiments.lz_gaussian_steps.eps: 0 is less than"),
        ([("experiments.ccl_heuristics", {"names": []})], "experiments.ccl_heuristics.names: [] should be non-empty"),
        ([("models.markov.data.params", {"n": 0, "stay": 0.9})],
         "models.markov.data.params: bad parameters for family 'markov': n: 0 is less than the minimum of 1"),
        ([("models.markov.data.family", "markovv")], "models.markov.data.family: 'markovv' is not one of"),
        ([("models.markov.evaluation.ks", [2, 64])], "models.markov.evaluation.ks: [64] exceed the sequence length n=8"),
        ([("models.markov.evaluation.eps", [])], "models.markov.evaluation.eps: [] should be non-empty"),
        ([("models.markov.model.n_heads", 3)], "models.markov.model.n_heads: d_model=16 is not divisible by n_heads=3"),
    ],
    ids=["unknown parameter", "unknown experiment", "n_min > n_max", "eps <= 0", "empty names", "family n = 0",
         "unknown family", "ks above n", "empty eps", "heads"],
)
def test_config_errors_stop_the_dry_run_naming_the_config_path(workdir, changes, message):
    config = with_changes(workdir, "bad", *changes)
    result = snakemake(workdir, "--configfile", config, "--dry-run", check=False, timeout=300)
    assert result.returncode != 0 and message in result.stdout, result.stdout[-3000:]
    assert "Job stats" not in result.stdout  # nothing was planned


@pytest.mark.parametrize(
    "override, message",
    [("seed=1e3", "seed: 1000.0 is not of type 'integer'"),
     ("models={'markov': {'data': {'family': 'markov', 'params': {'n': 8}}, 'training': {'steps': 4}}}",
      "models.markov.training.steps: '4' is not of type 'integer' (a string: nested --config values")],
    ids=["float seed", "nested --config"],
)
def test_command_line_overrides_are_checked_too(workdir, override, message):
    result = snakemake(workdir, "--configfile", with_changes(workdir, "mine"), "--config", override, "--dry-run",
                       check=False, timeout=300)
    assert result.returncode != 0 and message in result.stdout, result.stdout[-3000:]


def test_a_one_model_config_runs_to_the_end(workdir):
    """Reports whose tables the config does not produce are left out; the rest and the index are built."""
    config = with_changes(workdir, "mine")
    snakemake(workdir, "--configfile", config)
    assert (workdir / "reports/mine/learned_report.html").exists() and (workdir / "reports/mine/index.html").exists()
    assert not (workdir / "reports/mine/ccl_report.html").exists()
    assert "Nothing to be done" in snakemake(workdir, "--configfile", config, "--dry-run", timeout=300).stdout
