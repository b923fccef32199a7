"""From one ``models:`` entry of the workflow config to data, a trained denoiser and report tables.

A model entry names its data (a synthetic family of :mod:`mdmsched.distributions`, whose law is known,
or a shipped text corpus, whose law is not), the denoiser's sizes, its training settings and what to
evaluate. The three stages are the workflow's three rules:

1. :func:`prepare_dataset` draws (or encodes) train / validation sequences into one ``.npz``;
2. :func:`train_model` trains (or resumes) the denoiser, checkpointing atomically;
3. :func:`evaluate_model` uses the trained model as an oracle and returns tidy tables:

   * ``curve``: information curve Z_1..Z_n estimated from the model's cross-entropy with a monotone
     fit and a bootstrap band (CCL Lemma 13; LZ "profile from a trained model"), beside the same
     estimator driven by the exact oracle and the exact or reference curve (synthetic data);
   * ``schedules``: every schedule at every k (and the TC / DTC schedules of CCL Thm 9 at each eps),
     built either from the model's estimated curve or from the true curve; on synthetic data the
     Monte Carlo expected KL of the model-driven sampler against the true law, split into
     factorization and learning error (CCL Lemma 35 / LZ decomposition), and the exact factorization
     error of the schedule (CCL Thm 4) beside the exact-curve optimum; on text the factorization gap
     (schedule NLL minus one-token-at-a-time NLL of held-out text);
   * ``summary``: one row with NELBO (nats and bits per token), TC / DTC estimates and the curve
     error (timings stay out of the tables, which are reproducible byte for byte: they are in the
     checkpoint's history CSV and the workflow's benchmark files);
   * ``samples``: sequences drawn with a few schedules (decoded to text for corpora);
   * ``rules``: the adaptive unmasking rules practitioners run (:mod:`mdmsched.unmasking`) driven by
     the model, at a few NFE (:mod:`mdmsched.rule_tables`): on synthetic data KL(mu || nu_rule) to
     the true law by Monte Carlo, beside the same estimator with the exact oracle on the same
     samples (the rule's own error; the difference is what learning adds) and CCL Thm 4 where it
     gives the exact value; on text the held-out NLL (nats and bits per char) under each rule's
     sampler beside the one-token-at-a-time NLL;
   * ``schedule_plan`` (a dict, written as JSON): the schedule a user takes home, i.e. the estimated
     curve with its band and, for every evaluated k and eps, the DP-optimal schedule built from it as
     per-step token counts with its expected KL (:func:`mdmsched.takehome.schedule_plan`).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import isotonic_regression
import pandas as pd
import torch

from .. import distributions, evaluation, information, rule_tables, schedules
from ..claims.learned import KINDS
from ..error import expected_kl, expected_kls_monte_carlo
from ..estimation import estimate_information_curve, factorization_gaps, information_curve_monte_carlo
from ..io import atomic_path, write_table
from ..sampler import random_orders, sample
from ..takehome import schedule_plan, write_schedule_plan
from .defaults import DATA_DEFAULTS, EVALUATION_DEFAULTS, check_held_out
from .corpora import decode, load_corpus
from .oracle import ModelOracle
from .training import (check_checkpoint, evaluate_nelbo, history_path, load_checkpoint, load_model,
                       resolve_config, train)

__all__ = [
    "K_SCHEDULES",
    "EVALUATION_DEFAULTS",
    "prepare_dataset",
    "read_dataset",
    "true_family",
    "train_model",
    "evaluate_model",
    "TABLES",
    "OUTPUTS",
]

TABLES = KINDS  # the CSV tables per model, named as the learned report reads them
OUTPUTS = TABLES + ("schedule_plan",)  # what evaluate_model returns: the tables and one JSON plan
# k-step schedules run through the model; "optimal" and "sqrt" are built from a curve
K_SCHEDULES = ("uniform", "cosine", "loglinear", "sqrt", "optimal")
CURVE_SCHEDULES = ("sqrt", "optimal")


# --- 1. data --------------------------------------------------------------------------------------


def true_family(spec: dict):
    """The exact law behind a synthetic model's data (None for a text corpus)."""
    data = spec["data"]
    if "family" not in data:
        return None
    return distributions.make_family(data["family"], **(data.get("params") or {}))


def prepare_dataset(spec: dict, seed: int, out) -> dict:
    """Draw or encode the train / validation sequences of a model entry into ``out`` (.npz).

    Synthetic: ``train_sequences`` and ``validation_sequences`` i.i.d. samples of the family (seeded).
    Text: the corpus cut into length-``n`` sequences, split into contiguous blocks (no leakage of
    overlapping text between train and validation). Returns the arrays written.
    """
    data = spec.get("data") or {}
    if ("family" in data) == ("corpus" in data):
        raise ValueError(f"a model's data must name exactly one of 'family' or 'corpus', got {data}")
    if "family" in data:
        family = true_family(spec)
        rng = np.random.default_rng([seed, 1])
        arrays = {
            "train": family.sample(int(data.get("train_sequences", DATA_DEFAULTS["train_sequences"])), rng),
            "validation": family.sample(int(data.get("validation_sequences", DATA_DEFAULTS["validation_sequences"])), rng),
            "q": np.int64(family.q),
            "vocabulary": np.array(""),
        }
    else:
        corpus = load_corpus(data["corpus"], n=int(data.get("n", 128)),
                             validation_fraction=float(data.get("validation_fraction", 0.1)),
                             seed=seed, max_chars=data.get("max_chars"))
        arrays = {"train": corpus.train, "validation": corpus.validation, "q": np.int64(corpus.q),
                  "vocabulary": np.array(corpus.vocabulary)}
        check_held_out(spec, len(corpus.validation), f"of corpus {data['corpus']!r} at n={data.get('n', 128)}")
    arrays["train"] = np.asarray(arrays["train"], dtype=np.int64)
    arrays["validation"] = np.asarray(arrays["validation"], dtype=np.int64)
    with atomic_path(out, suffix=".npz") as temporary:
        np.savez_compressed(temporary, **arrays)
    return arrays


def read_dataset(path) -> dict:
    """The arrays written by :func:`prepare_dataset` (q as int, vocabulary as str)."""
    with np.load(path) as stored:
        missing = {"train", "validation", "q", "vocabulary"} - set(stored.files)
        if missing:
            raise ValueError(f"dataset {path} lacks {sorted(missing)}; rerun its prepare rule")
        return {"train": stored["train"], "validation": stored["validation"], "q": int(stored["q"]),
                "vocabulary": str(stored["vocabulary"])}


# --- 2. training ----------------------------------------------------------------------------------


def training_config(spec: dict, q: int) -> dict:
    """Model sizes and training settings of a model entry, as :func:`mdmsched.mdm.training.train`
    takes them (``device`` is not part of it: a checkpoint does not depend on where it was made)."""
    training = {key: value for key, value in (spec.get("training") or {}).items() if key != "device"}
    return {**(spec.get("model") or {}), **training, "q": q}


def _partial_checkpoint(spec: dict, dataset: dict, out: Path, partial_dir) -> Path:
    """Where training checkpoints while it runs: keyed by the training config and the training data
    (so also by the data spec and seed that drew it), so an interrupted run resumes and a changed
    run starts afresh (never a mismatched resume)."""
    train = np.ascontiguousarray(dataset["train"], dtype=np.int64)
    run = {"config": training_config(spec, dataset["q"]), "train_shape": list(train.shape),
           "train_sha256": hashlib.sha256(train.tobytes()).hexdigest()}
    key = hashlib.sha256(json.dumps(run, sort_keys=True, default=str).encode())
    folder = Path(partial_dir) if partial_dir is not None else out.parent / "partial"
    return folder / f"{out.stem}-{key.hexdigest()[:12]}.pt"


def train_model(spec: dict, dataset_path, out, partial_dir=None, threads: int | None = None,
                device=None, progress: bool = True):
    """Train (or resume) the denoiser of a model entry on its prepared dataset; the finished
    checkpoint and its history CSV are then moved to ``out`` and beside it.

    Checkpoints go to a partial file (:func:`_partial_checkpoint`) while training runs, so that a
    workflow manager deleting the unfinished ``out`` of an interrupted job does not lose them."""
    dataset = read_dataset(dataset_path)
    out = Path(out)
    partial = _partial_checkpoint(spec, dataset, out, partial_dir)
    config = training_config(spec, dataset["q"])
    if threads is not None:
        config["threads"] = int(threads)
    device = device or (spec.get("training") or {}).get("device")
    model = train(config, dataset["train"], dataset["validation"], partial, device=device,
                  progress=progress)
    # both files were written atomically; a rename on the same file system publishes them whole (if
    # a kill comes between the renames, the rerun finds the finished partial and rewrites its history)
    out.parent.mkdir(parents=True, exist_ok=True)
    history_path(partial).replace(history_path(out))
    partial.replace(out)
    return model


# --- 3. evaluation --------------------------------------------------------------------------------


def _reference_curve(family, samples: int, rng) -> tuple[np.ndarray, np.ndarray, str]:
    """(Z, standard error, how it was obtained) of the true law: the family's closed form where it
    has one (e.g. Markov chains), its enumeration when q^n is small, else Monte Carlo with the exact
    oracle."""
    if family.closed_form:
        z = family.information_curve()
        return z, np.zeros_like(z), "exact (closed form)"
    if family.q ** family.n <= distributions.ENUMERATION_LIMIT:
        z = family.information_curve()
        return z, np.zeros_like(z), "exact (enumeration)"
    estimate = information_curve_monte_carlo(family, samples, rng)
    # Z is nondecreasing (Han); the unbiased mean can dip by noise, so fit it monotonely (weighted
    # isotonic regression; Z_1 = 0 exactly, with no noise)
    weights = 1.0 / (estimate["z_se"] ** 2 + 1e-12)
    z = isotonic_regression(estimate["z"], weights=weights, increasing=True).x
    return z, estimate["z_se"], f"Monte Carlo, exact oracle, {samples} samples, isotonic fit"


def _curve_rows(model: str, label: str, z, lower=None, upper=None):
    z = np.asarray(z)
    lower = z if lower is None else lower
    upper = z if upper is None else upper
    return pd.DataFrame({"model": model, "estimator": label, "a": np.arange(1, len(z) + 1), "z": z,
                         "z_lower": lower, "z_upper": upper})


def _schedule_set(z_estimated, z_true, settings) -> list[dict]:
    """(schedule, curve it was built from, k, eps, sizes) for every schedule to evaluate."""
    n = len(z_estimated)
    curves = {"estimated": z_estimated}
    if z_true is not None:
        curves["true"] = z_true
    built = []
    for k in sorted({int(k) for k in settings["ks"] if 1 <= int(k) <= n}):
        for name in K_SCHEDULES:
            sources = curves if name in CURVE_SCHEDULES else {"none": z_estimated}
            for source, z in sources.items():
                built.append({"schedule": name, "curve": source, "k_target": k, "eps": np.nan,
                              "sizes": evaluation.build(name, z, k)})
    for name in ("tc", "dtc"):
        for source, z in curves.items():
            for eps in settings["eps"]:
                built.append({"schedule": name, "curve": source, "k_target": np.nan, "eps": float(eps),
                              "sizes": evaluation.build_for_eps(name, z, float(eps))})
    return built


def _steps_table(name: str, z_estimated, z_true, eps_values) -> pd.DataFrame:
    """Steps to reach each eps for every k-step schedule, built from the estimated or the true
    curve, with the exact-oracle optimum (DP on the true curve) beside it."""
    rows = []
    for eps in eps_values:
        best = evaluation.steps_to_reach(z_true, float(eps), "optimal")
        for schedule in K_SCHEDULES:
            sources = ({"estimated": z_estimated, "true": z_true} if schedule in CURVE_SCHEDULES
                       else {"none": z_true})
            for source, z_built in sources.items():
                rows.append({"model": name, "schedule": schedule, "curve": source, "eps": float(eps),
                             "steps": evaluation.steps_to_reach(z_true, float(eps), schedule, built_from=z_built),
                             "optimal_steps": best})
    return pd.DataFrame(rows)


def _rule_settings(settings: dict, n: int):
    """(settings run with the model, settings run with the exact oracle) of the evaluation's
    ``rules*`` keys (:func:`mdmsched.rule_tables.configured_settings`): the exact oracle also runs
    the scheduled rules at k = 1 and k = n, where CCL Thm 4 gives their exact KL. ValueError naming
    ``evaluation.rules*`` for a bad value."""
    for key, minimum in (("rules_samples", 2), ("rules_paths", 1)):
        rule_tables.check_count(f"evaluation.{key}", settings[key], minimum)
    chosen = (settings["rules"], settings["rules_nfe"], settings["rules_gammas"], settings["rules_taus"])
    model = rule_tables.configured_settings(n, *chosen, prefix="evaluation.")
    nfe = rule_tables.default_nfe(n) if settings["rules_nfe"] is None else settings["rules_nfe"]
    exact = rule_tables.configured_settings(n, settings["rules"], sorted({1, n, *nfe}), *chosen[2:], prefix="evaluation.")
    return model, exact


def evaluate_model(name: str, spec: dict, dataset_path, checkpoint_path, seed: int,
                   threads: int | None = None) -> dict[str, pd.DataFrame]:
    """The report tables of one trained model (module doc); ``seed`` fixes every random choice.

    Raises ValueError when the checkpoint was not trained, to the end, with this entry's model and
    training settings on this dataset (:func:`mdmsched.mdm.training.check_checkpoint`), when its
    weights are not finite, when ``curve_sequences`` (text: also ``gap_sequences``, ``rules_samples``)
    exceeds the held-out sequences, when evaluation ``ks`` or ``eps`` is empty, a ``ks`` exceeds the sequence length,
    or a ``rules*`` setting is invalid (:func:`_rule_settings`)."""
    settings = {**EVALUATION_DEFAULTS, **(spec.get("evaluation") or {})}
    if threads is not None:
        torch.set_num_threads(int(threads))
    dataset = read_dataset(dataset_path)
    check_held_out(spec, len(dataset["validation"]), f"of {dataset_path}")
    for key in ("ks", "eps"):
        if len(settings[key]) == 0:
            raise ValueError(f"evaluation.{key} must list at least one value, got []")
    too_long = [int(k) for k in settings["ks"] if int(k) > dataset["train"].shape[1]]
    if too_long:
        raise ValueError(f"evaluation.ks {too_long} exceed the sequence length n={dataset['train'].shape[1]}")
    rule_settings, exact_rule_settings = _rule_settings(settings, dataset["train"].shape[1])
    expected = resolve_config(training_config(spec, dataset["q"]), dataset["train"], dataset["validation"])
    try:
        check_checkpoint(load_checkpoint(checkpoint_path), expected, dataset["train"], checkpoint_path, finished=True)
    except ValueError as problem:
        raise ValueError(f"checkpoint {checkpoint_path} does not match dataset {dataset_path} and the settings "
                         f"of model {name!r} ({problem}); rerun its training") from None
    model = load_model(checkpoint_path, settings["device"])
    oracle = ModelOracle(model)
    family = true_family(spec)
    n = model.n
    validation = dataset["validation"]
    rng = np.random.default_rng([seed, 2])

    # curve from the model, and (synthetic) the same estimator with the exact oracle, same data
    held_out = validation[: settings["curve_sequences"]]
    orders_seed = int(rng.integers(2**32))
    grid = evaluation.revealed_count_grid(n, settings["curve_points"])
    estimator = {"grid": grid, "n_bootstrap": settings["bootstrap"], "statistic": settings["curve_statistic"],
                 "orders_per_sequence": settings["curve_orders"]}
    estimate = estimate_information_curve(oracle, held_out, rng=np.random.default_rng(orders_seed), **estimator)
    curves = [_curve_rows(name, "model", estimate.information_curve,
                          estimate.information_curve_lower, estimate.information_curve_upper)]
    nelbo, nelbo_se = evaluate_nelbo(model, validation, seed=seed)
    summary = {"model": name, "data": spec["data"].get("family") or spec["data"]["corpus"],
               "kind": "synthetic" if family is not None else "text", "n": n, "q": model.q,
               "parameters": sum(p.numel() for p in model.parameters()),
               "train_sequences": len(dataset["train"]), "steps": model.step,
               "nelbo_nats": nelbo, "nelbo_nats_se": nelbo_se, "nelbo_bits": nelbo / math.log(2),
               "tc_model": estimate.tc, "tc_model_se": estimate.tc_se,
               "dtc_model": estimate.dtc, "dtc_model_se": estimate.dtc_se}
    z_true = None
    if family is not None:
        exact = estimate_information_curve(family, held_out, rng=np.random.default_rng(orders_seed), **estimator)
        z_true, z_true_se, how = _reference_curve(family, settings["reference_samples"], rng)
        curves += [_curve_rows(name, "exact oracle", exact.information_curve,
                               exact.information_curve_lower, exact.information_curve_upper),
                   _curve_rows(name, "true", z_true, z_true - 1.96 * z_true_se, z_true + 1.96 * z_true_se)]
        tc_true, dtc_true = information.tc_from_curve(z_true), information.dtc_from_curve(z_true)
        summary.update({
            "reference": how, "tc_true": tc_true, "dtc_true": dtc_true,
            "curve_l1_over_tc": float(np.abs(estimate.information_curve - z_true).sum() / tc_true),
            "exact_oracle_curve_l1_over_tc": float(np.abs(exact.information_curve - z_true).sum() / tc_true),
        })
        steps = _steps_table(name, estimate.information_curve, z_true, settings["eps"])
    else:
        steps = pd.DataFrame(columns=["model", "schedule", "curve", "eps", "steps", "optimal_steps"])
        counts = np.bincount(dataset["train"].reshape(-1), minlength=model.q) / dataset["train"].size
        summary["unigram_bits"] = float(-(counts[counts > 0] * np.log2(counts[counts > 0])).sum())

    # every schedule, run through the model: the schedules a user of the model can build (from the
    # estimated curve) are all measured on the same samples and orders (common random numbers, one
    # model call per distinct step start); the true-curve ones by CCL Thm 4 only
    built = _schedule_set(estimate.information_curve, z_true, settings)
    distinct = list(dict.fromkeys(tuple(entry["sizes"]) for entry in built if entry["curve"] != "true"))
    if family is not None:  # Monte Carlo E_S KL against mu, split by the exact oracle
        results = expected_kls_monte_carlo(family, oracle, distinct, settings["kl_samples"],
                                           np.random.default_rng([seed, 3]), exact_oracle=family)
    else:  # text: one set of held-out sequences and orders for every schedule
        gap_x = validation[: settings["gap_sequences"]]
        gap_orders = random_orders(len(gap_x), n, np.random.default_rng([seed, 4]))
        results = [{"gap_nats": gap.nats, "gap_nats_se": gap.nats_se, "gap_bits_per_char": gap.bits_per_char,
                    "gap_bits_per_char_se": gap.bits_per_char_se,
                    "schedule_bits_per_char": gap.schedule_bits_per_char,
                    "one_at_a_time_bits_per_char": gap.autoregressive_bits_per_char}
                   for gap in factorization_gaps(oracle, gap_x, distinct, orders=gap_orders)]
    measured = dict(zip(distinct, results))
    rows = []
    for entry in built:
        sizes = entry.pop("sizes")
        row = {"model": name, **entry, "steps": len(sizes), "max_size": int(sizes.max()),
               "sizes": schedules.format_sizes(sizes)}
        if family is not None:
            k = len(sizes)
            row["factorization_exact"] = expected_kl(z_true, sizes)  # CCL Thm 4
            row["optimal_exact"] = expected_kl(z_true, schedules.optimal_schedule(z_true, k)[0])
        if entry["curve"] != "true":  # what a user of the model can build; the rest by Thm 4 only
            row.update(measured[tuple(sizes)])
        rows.append(row)

    # the adaptive unmasking rules driven by the model (synthetic: KL to the true law; text: NLL)
    if family is not None:
        rules = rule_tables.kl_table(family, oracle, rule_settings, settings["rules_samples"], [seed, 6],
                                     paths=settings["rules_paths"], exact_settings=exact_rule_settings, curve=z_true)
    else:
        rules = rule_tables.likelihood_table(oracle, validation[: settings["rules_samples"]], rule_settings,
                                             [seed, 6], paths=settings["rules_paths"])
    rules.insert(0, "model", name)

    # a few samples per schedule (text decoded; synthetic: the sequence of symbols)
    samples = []
    for k in sorted({int(k) for k in settings["ks"] if 1 <= int(k) <= n}) + [n]:
        sizes = evaluation.build("uniform", estimate.information_curve, k)
        drawn = sample(oracle, sizes, settings["samples"], np.random.default_rng([seed, 5, k]))
        for index, x in enumerate(drawn):
            text = decode(x, dataset["vocabulary"]) if dataset["vocabulary"] else " ".join(map(str, x))
            entry = {"model": name, "schedule": "uniform", "steps": k, "index": index, "text": text}
            if family is not None:
                entry["log_prob_true"] = float(family.log_prob(x[None])[0])
            samples.append(entry)
    plan = schedule_plan(
        estimate.information_curve, settings["ks"], settings["eps"], estimate.information_curve_lower,
        estimate.information_curve_upper, model=name, data=summary["data"], training_steps=int(model.step),
        nelbo_bits_per_token=float(summary["nelbo_bits"]), curve_sequences=len(held_out),
        curve_statistic=settings["curve_statistic"], curve_orders=int(settings["curve_orders"]),
        band=f"{estimate.confidence:.0%} bootstrap band over held-out sequences", seed=int(seed),
        expected_kl="CCL Thm 4 on the estimated curve (nats per sequence)")
    return {"curve": pd.concat(curves, ignore_index=True), "schedules": pd.DataFrame(rows),
            "steps": steps, "summary": pd.DataFrame([summary]), "samples": pd.DataFrame(samples),
            "rules": rules, "schedule_plan": plan}


def write_tables(tables: dict, paths: dict) -> None:
    """Write each output of :func:`evaluate_model` to its path (atomically): DataFrames as CSV, the
    schedule plan as JSON. Outputs without a path are skipped."""
    for key, table in tables.items():
        if key not in paths:
            continue
        if isinstance(table, dict):
            write_schedule_plan(table, Path(paths[key]))
        else:
            write_table(table, Path(paths[key]))
