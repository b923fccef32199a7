"""From a models: config entry to data, a resumable trained model and report tables (tiny sizes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from mdmsched import distributions, rule_tables, takehome, unmasking
from mdmsched.config import ConfigError, check_workflow_config
from mdmsched.distributions import curve
from mdmsched.error import expected_kl
from mdmsched.mdm import corpora, pipeline
from mdmsched.mdm.training import load_checkpoint, train
from mdmsched.schedules import format_sizes, parse_sizes

REPO = Path(__file__).resolve().parents[1]
SPEC = {
    "data": {"family": "markov", "params": {"n": 6, "stay": 0.8}, "train_sequences": 3000,
             "validation_sequences": 300},
    "model": {"d_model": 32, "n_layers": 2, "n_heads": 2},
    "training": {"steps": 60, "batch_size": 128, "lr": 3e-3, "warmup_steps": 5, "eval_every": 30,
                 "checkpoint_every": 10},
    "evaluation": {"ks": [2, 3], "eps": [0.5], "curve_sequences": 200, "curve_statistic": "entropy",
                   "curve_orders": 2, "kl_samples": 300,
                   "bootstrap": 20, "samples": 2},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline")
    pipeline.prepare_dataset(SPEC, 0, folder / "data.npz")
    pipeline.train_model(SPEC, folder / "data.npz", folder / "model.pt", threads=1, progress=False)
    return folder


def test_prepared_synthetic_data_is_seeded_and_drawn_from_the_family(tmp_path):
    first = pipeline.prepare_dataset(SPEC, 3, tmp_path / "a.npz")
    again = pipeline.read_dataset(tmp_path / "a.npz")
    other = pipeline.prepare_dataset(SPEC, 4, tmp_path / "b.npz")
    assert np.array_equal(first["train"], again["train"]) and again["q"] == 2 and again["vocabulary"] == ""
    assert first["train"].shape == (3000, 6) and first["validation"].shape == (300, 6)
    assert not np.array_equal(first["train"], other["train"])
    # the empirical distribution of neighbours matches the chain's stay probability
    stays = (first["train"][:, 1:] == first["train"][:, :-1]).mean()
    assert abs(stays - 0.8) < 0.01


def test_prepared_text_data_keeps_the_vocabulary(tmp_path):
    spec = {"data": {"corpus": "shakespeare", "n": 32, "max_chars": 20000},
            "evaluation": {"curve_sequences": 32, "gap_sequences": 32, "rules_samples": 16}}
    pipeline.prepare_dataset(spec, 0, tmp_path / "t.npz")
    arrays = pipeline.read_dataset(tmp_path / "t.npz")
    assert 32 <= len(arrays["validation"]) < 256
    # the default gap_sequences (256) exceed this held-out set: an error before any training, no file
    del spec["evaluation"]["gap_sequences"]
    with pytest.raises(ValueError, match=r"evaluation.gap_sequences=256 exceeds the \d+ held-out sequences of corpus"):
        pipeline.prepare_dataset(spec, 0, tmp_path / "u.npz")
    assert not (tmp_path / "u.npz").exists()
    assert arrays["train"].shape[1] == 32 and arrays["q"] == len(arrays["vocabulary"]) > 40
    text = corpora.decode(arrays["train"][0], arrays["vocabulary"])
    assert text in corpora.corpus_text("shakespeare")


@pytest.mark.parametrize("data", [{}, {"family": "markov", "corpus": "shakespeare"}])
def test_data_must_name_a_family_or_a_corpus(tmp_path, data):
    with pytest.raises(ValueError, match="exactly one of 'family' or 'corpus'"):
        pipeline.prepare_dataset({"data": data}, 0, tmp_path / "x.npz")


def test_dataset_missing_arrays_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "bad.npz", train=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="lacks"):
        pipeline.read_dataset(tmp_path / "bad.npz")


def test_finished_training_leaves_checkpoint_history_and_no_partial(trained):
    state = load_checkpoint(trained / "model.pt")
    assert state["step"] == 60 and (trained / "model.history.csv").is_file()
    assert not list((trained / "partial").glob("*"))


def test_interrupted_training_resumes_from_its_partial_checkpoint(tmp_path, trained):
    """A job killed mid-training (its unfinished output deleted by the workflow manager) resumes from
    the config-keyed partial checkpoint and ends with the same model as an uninterrupted run."""
    data = pipeline.read_dataset(trained / "data.npz")
    out = tmp_path / "model.pt"
    partial = pipeline._partial_checkpoint(SPEC, data, out, None)

    def stop(step, row):
        if step == 25:
            raise KeyboardInterrupt

    config = {**pipeline.training_config(SPEC, data["q"]), "threads": 1}
    with pytest.raises(KeyboardInterrupt):
        train(config, data["train"], data["validation"], partial, progress=False, callback=stop)
    assert load_checkpoint(partial)["step"] == 25 and not out.exists()
    pipeline.train_model(SPEC, trained / "data.npz", out, threads=1, progress=False)
    resumed, reference = load_checkpoint(out), load_checkpoint(trained / "model.pt")
    assert resumed["step"] == 60
    for key, value in reference["model"].items():
        assert np.allclose(resumed["model"][key].numpy(), value.numpy(), atol=1e-5), key
    # a changed config trains afresh under another partial name instead of failing on a mismatch
    changed = {**SPEC, "training": {**SPEC["training"], "lr": 1e-3}}
    assert pipeline._partial_checkpoint(changed, data, out, None) != partial


def test_evaluation_tables_of_a_synthetic_model(trained):
    tables = pipeline.evaluate_model("tiny", SPEC, trained / "data.npz", trained / "model.pt", seed=0, threads=1)
    assert set(tables) == set(pipeline.OUTPUTS)
    z_true = curve("markov", 6, stay=0.8)
    by_estimator = {name: rows for name, rows in tables["curve"].groupby("estimator")}
    assert np.allclose(by_estimator["true"].z, z_true, atol=1e-12)
    assert np.all(by_estimator["model"].z_lower <= by_estimator["model"].z + 1e-12)
    summary = tables["summary"].iloc[0]
    assert summary.kind == "synthetic" and summary.reference == "exact (closed form)"
    assert summary.tc_true == pytest.approx(z_true.sum(), rel=1e-12)
    schedules = tables["schedules"]
    assert set(schedules.schedule) == {*pipeline.K_SCHEDULES, "tc", "dtc"}
    assert np.all(schedules.factorization_exact >= schedules.optimal_exact - 1e-12)
    # same samples and partitions: total = factorization + learning, and the exact-oracle part is an
    # unbiased estimate of CCL Thm 4
    measured = schedules.dropna(subset=["kl"])
    assert set(measured.curve) == {"none", "estimated"} and schedules[schedules.curve == "true"].kl.isna().all()
    assert np.allclose(measured.kl, measured.factorization + measured.learning, atol=1e-9)
    assert np.all(np.abs(measured.factorization - measured.factorization_exact) <= 5 * measured.factorization_se + 1e-9)
    steps = tables["steps"]
    assert np.all(steps.steps >= steps.optimal_steps)
    # adaptive rules driven by the model (defaults: n/8, n/4, n/2 -> k = 1, 3), the exact oracle on
    # the same samples also at k = n; CCL Thm 4's value wherever it gives one
    rules = tables["rules"]
    assert list(rules.columns) == ["model", *rule_tables.COLUMNS] and (rules.model == "tiny").all()
    model, exact = rules[rules.oracle == "model"], rules[rules.oracle == "exact"]
    assert set(model.rule) == set(pipeline.EVALUATION_DEFAULTS["rules"]) and set(model.k.dropna()) == {1, 3}
    assert set(exact.k.dropna()) == {1, 3, 6} and (model.sequences == pipeline.EVALUATION_DEFAULTS["rules_samples"]).all()
    assert model.learning.notna().all() and exact.learning.isna().all()
    known = exact.dropna(subset=["kl_theory"])
    assert set(known[known.rule != "random"].k) == {1, 6}
    assert np.all(np.abs(known.kl - known.kl_theory) <= 4 * known.kl_se + 1e-9)
    assert np.allclose(known[known.k == 1].kl_theory, summary.tc_true)
    assert len(tables["samples"]) == 2 * 3 and tables["samples"].log_prob_true.notna().all()
    # the schedule a user takes home: the model's curve with its band, the DP optimum per k and eps
    plan = tables["schedule_plan"]
    model_curve = by_estimator["model"]
    assert np.allclose(plan["curve"]["z"], model_curve.z) and np.allclose(plan["curve"]["z_lower"], model_curve.z_lower)
    assert [entry["k"] for entry in plan["by_k"]] == [2, 3] and [e["eps"] for e in plan["by_eps"]] == [0.5]
    for entry in plan["by_k"]:
        built = schedules[(schedules.schedule == "optimal") & (schedules.curve == "estimated")
                          & (schedules.k_target == entry["k"])].iloc[0]
        assert format_sizes(entry["num_transfer_tokens"]) == built.sizes
        assert entry["expected_kl_nats"] == pytest.approx(expected_kl(model_curve.z.to_numpy(), parse_sizes(built.sizes)))
        low, high = entry["expected_kl_band_nats"]
        assert low >= 0 and high >= 0


def test_workflow_writes_the_schedule_plan_as_json(trained, tmp_path):
    tables = pipeline.evaluate_model("tiny", SPEC, trained / "data.npz", trained / "model.pt", seed=0, threads=1)
    paths = {key: tmp_path / f"{key}.csv" for key in pipeline.TABLES} | {"schedule_plan": tmp_path / "plan.json"}
    pipeline.write_tables(tables, paths)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan == json.loads(json.dumps(tables["schedule_plan"])) and plan["n"] == 6
    assert np.allclose(takehome.read_curve(tmp_path / "curve.csv"), plan["curve"]["z"])


def test_evaluation_is_reproducible(trained):
    first = pipeline.evaluate_model("tiny", SPEC, trained / "data.npz", trained / "model.pt", seed=1, threads=1)
    second = pipeline.evaluate_model("tiny", SPEC, trained / "data.npz", trained / "model.pt", seed=1, threads=1)
    for key in pipeline.TABLES:
        assert first[key].equals(second[key]), key
    assert first["schedule_plan"] == second["schedule_plan"]


def test_evaluation_rejects_a_checkpoint_of_other_data(trained, tmp_path):
    other = {**SPEC, "data": {**SPEC["data"], "params": {"n": 5, "stay": 0.8}}}
    pipeline.prepare_dataset(other, 0, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="does not match dataset"):
        pipeline.evaluate_model("tiny", other, tmp_path / "other.npz", trained / "model.pt", seed=0)


@pytest.mark.parametrize("evaluation, message", [
    ({"rules": ["max_prob", "greedy"]}, "evaluation.rules must name distinct rules"),
    ({"rules_nfe": [2, 7]}, r"evaluation.rules_nfe must list step counts in 1..n=6"),
    ({"rules_taus": [1.5]}, "evaluation.rules_taus: tau must be a probability"),
    ({"rules_samples": 1}, "evaluation.rules_samples must be an integer >= 2"),
    ({"rules_paths": 0}, "evaluation.rules_paths must be an integer >= 1"),
    ({"curve_sequences": 301}, "evaluation.curve_sequences=301 exceeds the 300 held-out sequences"),
])
def test_evaluation_refuses_bad_rule_settings_naming_them(trained, evaluation, message):
    spec = {**SPEC, "evaluation": {**SPEC["evaluation"], **evaluation}}
    with pytest.raises(ValueError, match=message):
        pipeline.evaluate_model("tiny", spec, trained / "data.npz", trained / "model.pt", seed=0, threads=1)


def test_workflow_config_checks_rule_settings():
    config = {"seed": 0, "results_dir": "r", "reports_dir": "p", "figures_dir": "f", "data_dir": "d", "models_dir": "m",
              "experiments": {}, "models": {"tiny": SPEC}}
    schema = REPO / "workflow/schemas/config.schema.yaml"
    check_workflow_config(config, schema)
    for evaluation, message in (({"rules_nfe": [2, 7]}, "models.tiny.evaluation.rules_nfe: [7] exceed the sequence length n=6"),
                                ({"rules": ["greedy"]}, "models.tiny.evaluation.rules[0]: 'greedy' is not one of"),
                                ({"rules_gammas": [-1]}, "models.tiny.evaluation.rules_gammas[0]: -1 is less than"),
                                ({"rules_taus": []}, "models.tiny.evaluation.rules_taus: [] should be non-empty"),
                                ({"curve_sequences": 301}, "models.tiny.evaluation.curve_sequences=301 exceeds the 300 "
                                 "held-out sequences drawn (data.validation_sequences=300)")):
        bad = {**config, "models": {"tiny": {**SPEC, "evaluation": {**SPEC["evaluation"], **evaluation}}}}
        with pytest.raises(ConfigError, match=re.escape(message)):
            check_workflow_config(bad, schema)


def test_workflow_config_checks_held_out_sequences_with_the_defaults():
    """Omitted keys take the pipeline's defaults: 2000 drawn held-out sequences, 1000 curve sequences."""
    config = {"seed": 0, "results_dir": "r", "reports_dir": "p", "figures_dir": "f", "data_dir": "d", "models_dir": "m",
              "experiments": {}}
    schema = REPO / "workflow/schemas/config.schema.yaml"
    data = {key: value for key, value in SPEC["data"].items() if key != "validation_sequences"}
    evaluation = {key: value for key, value in SPEC["evaluation"].items() if key != "curve_sequences"}
    check_workflow_config({**config, "models": {"tiny": {**SPEC, "data": data, "evaluation": evaluation}}}, schema)
    for entry, message in (({**SPEC, "data": data, "evaluation": {**evaluation, "curve_sequences": 2001}},
                            "models.tiny.evaluation.curve_sequences=2001 exceeds the 2000 held-out sequences drawn "
                            "(data.validation_sequences=2000)"),
                           ({**SPEC, "data": {**data, "validation_sequences": 999}, "evaluation": evaluation},
                            "models.tiny.evaluation.curve_sequences=1000 exceeds the 999 held-out sequences")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            check_workflow_config({**config, "models": {"tiny": entry}}, schema)


def test_schema_lists_every_unmasking_rule():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    evaluation = schema["properties"]["models"]["additionalProperties"]["properties"]["evaluation"]["properties"]
    assert set(evaluation["rules"]["items"]["enum"]) == set(unmasking.RULES)
    assert set(pipeline.EVALUATION_DEFAULTS) <= set(evaluation)


def test_schema_lists_every_family_and_corpus():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    data = schema["properties"]["models"]["additionalProperties"]["properties"]["data"]["properties"]
    assert set(data["family"]["enum"]) == {name for name, entry in distributions.FAMILIES.items() if entry.build is not None}
    assert set(data["corpus"]["enum"]) == set(corpora.CORPORA)


def test_monte_carlo_reference_curve_is_monotone_and_close_to_the_truth():
    """A law with neither a closed form nor an enumerable table (here a mixture with 2^24 states)
    gets a Monte Carlo reference from its exact oracle, fitted monotone so schedules can use it."""
    from mdmsched.information import check_curve

    spec = {"data": {"family": "mixture", "params": {"n": 24, "components": 3}}}
    family = pipeline.true_family(spec)
    assert family.q ** family.n > distributions.ENUMERATION_LIMIT
    z, se, how = pipeline._reference_curve(family, 48, np.random.default_rng(0))
    assert "Monte Carlo" in how and z[0] == 0 and np.all(se >= 0)
    check_curve(z)  # nondecreasing, as Han's inequality requires
    # two independent runs agree on TC = sum Z (CCL Lemma 8) to Monte Carlo accuracy
    more = pipeline._reference_curve(family, 400, np.random.default_rng(1))[0]
    assert z.sum() == pytest.approx(more.sum(), rel=0.15)
