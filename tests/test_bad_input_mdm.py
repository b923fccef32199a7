"""Bad input and failure in the learned-oracle pipeline: nothing silently wrong, nothing half-published.

A finished checkpoint of other data or another model size is refused by the evaluation; a diverging
run stops at the first non-finite loss and publishes nothing; a checkpoint or network that returns
NaN is refused; a finished partial checkpoint whose history was moved away is completed; a changed
dataset starts a fresh partial checkpoint; orphaned temporaries are cleaned; text8 downloads have a
deadline and a content check. Tiny models (seconds each).
"""

from __future__ import annotations

import http.server
import threading
import time

import numpy as np
import pytest
import torch

from mdmsched.io import atomic_path, write_table
from mdmsched.mdm import corpora, pipeline
from mdmsched.mdm.oracle import ModelOracle
from mdmsched.mdm.training import (TrainingDiverged, history_path, load_checkpoint, load_model, train)

SPEC = {
    "data": {"family": "markov", "params": {"n": 6, "stay": 0.8}, "train_sequences": 600,
             "validation_sequences": 100},
    "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
    "training": {"steps": 12, "batch_size": 32, "lr": 3e-3, "warmup_steps": 2, "eval_every": 6,
                 "checkpoint_every": 4, "log_every": 3},
    "evaluation": {"ks": [2, 3], "eps": [0.5], "curve_sequences": 50, "kl_samples": 40, "bootstrap": 5,
                   "samples": 1, "reference_samples": 50},
}


def variant(**changes):
    spec = {key: dict(value) for key, value in SPEC.items()}
    for path, value in changes.items():
        section, key = path.split("__")
        spec[section][key] = value
    return spec


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_input_mdm")
    pipeline.prepare_dataset(SPEC, 0, folder / "data.npz")
    pipeline.train_model(SPEC, folder / "data.npz", folder / "model.pt", threads=1, progress=False)
    return folder


# --- 1. a finished checkpoint must match its model entry and data --------------------------------

def test_evaluation_refuses_a_finished_checkpoint_of_other_data(trained, tmp_path):
    """`cp models/mixture.pt models/markov.pt` was accepted and the markov tables described the mixture."""
    other = variant(data__family="exchangeable_mixture", data__params={"n": 6, "weights": [0.5, 0.5],
                                                                        "thetas": [0.2, 0.8]})
    pipeline.prepare_dataset(other, 0, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="does not match dataset .*different train_data"):
        pipeline.evaluate_model("mixture", other, tmp_path / "other.npz", trained / "model.pt", seed=0, threads=1)


def test_evaluation_refuses_a_checkpoint_of_another_model_size(trained):
    bigger = variant(model__d_model=32)
    with pytest.raises(ValueError, match="d_model=16 does not match requested 32"):
        pipeline.evaluate_model("markov", bigger, trained / "data.npz", trained / "model.pt", seed=0, threads=1)
    longer = variant(training__steps=13)
    with pytest.raises(ValueError, match="steps=12 does not match requested 13"):
        pipeline.evaluate_model("markov", longer, trained / "data.npz", trained / "model.pt", seed=0, threads=1)


def test_evaluation_refuses_an_unfinished_checkpoint(trained, tmp_path):
    data = pipeline.read_dataset(trained / "data.npz")
    config = pipeline.training_config(SPEC, data["q"])

    def stop(step, row):
        if step == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train({**config, "threads": 1}, data["train"], data["validation"], tmp_path / "partial.pt",
              progress=False, callback=stop)
    with pytest.raises(ValueError, match="unfinished: step 4 of 12"):
        pipeline.evaluate_model("markov", SPEC, trained / "data.npz", tmp_path / "partial.pt", seed=0, threads=1)


def test_evaluation_refuses_ks_above_n_instead_of_dropping_them(trained):
    """Model evaluation.ks above n were dropped without a word."""
    with pytest.raises(ValueError, match=r"evaluation.ks \[7\] exceed the sequence length n=6"):
        pipeline.evaluate_model("markov", variant(evaluation__ks=[2, 7]), trained / "data.npz",
                                trained / "model.pt", seed=0, threads=1)


# --- 2. divergence ----------------------------------------------------------------------------------

def test_diverging_training_stops_naming_step_and_learning_rate_and_publishes_nothing(trained, tmp_path):
    """lr = 1e6 trained on NaN to the end, saved the checkpoint, and the sampler drew all-zero sequences."""
    diverging = variant(training__lr=1e6, training__checkpoint_every=1, training__warmup_steps=0)
    out = tmp_path / "model.pt"
    with pytest.raises(TrainingDiverged, match=r"diverged (at|by) step \d+: non-finite .* learning rate") as raised:
        pipeline.train_model(diverging, trained / "data.npz", out, threads=1, progress=False)
    assert isinstance(raised.value, ValueError) and "training.lr=1e+06" in str(raised.value)
    assert not out.exists() and not history_path(out).exists()
    for partial in (tmp_path / "partial").glob("*.pt"):  # whatever was kept is finite
        state = load_checkpoint(partial)
        assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())
        assert all(np.isfinite(row["loss"]) for row in state["history"])


def test_non_finite_checkpoints_and_model_outputs_are_refused(trained, tmp_path):
    state = load_checkpoint(trained / "model.pt")
    name = next(key for key, value in state["model"].items() if value.is_floating_point())
    state["model"][name] = torch.full_like(state["model"][name], float("nan"))
    torch.save(state, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match="non-finite weights"):
        load_model(tmp_path / "nan.pt", "cpu")
    model = load_model(trained / "model.pt", "cpu")
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    oracle = ModelOracle(model)
    x = np.zeros((2, 6), dtype=np.int64)
    with pytest.raises(ValueError, match="non-finite outputs"):
        oracle.conditional_marginals(x, np.zeros((2, 6), dtype=bool))


# --- 8 and 12. partial checkpoints ------------------------------------------------------------------

def test_finished_partial_without_history_is_completed_on_rerun(trained, tmp_path):
    """A kill between the two renames (history moved, checkpoint not) raised FileNotFoundError forever."""
    data = pipeline.read_dataset(trained / "data.npz")
    out = tmp_path / "model.pt"
    partial = pipeline._partial_checkpoint(SPEC, data, out, None)
    train({**pipeline.training_config(SPEC, data["q"]), "threads": 1}, data["train"], data["validation"], partial,
          progress=False)
    history_path(partial).replace(history_path(out))  # the first rename, then the kill
    pipeline.train_model(SPEC, trained / "data.npz", out, threads=1, progress=False)
    assert out.exists() and history_path(out).exists() and not partial.exists()
    assert load_checkpoint(out)["step"] == 12


@pytest.mark.parametrize("change", [{"params": {"n": 6, "stay": 0.6}}, {"seed": 1}], ids=["data params", "seed"])
def test_changed_data_after_an_interruption_starts_afresh(trained, tmp_path, change):
    """Changing data.params.stay or the seed after an interrupted run failed with 'trained on different
    train_data' until the user deleted the partial checkpoint by hand."""
    out = tmp_path / "model.pt"

    def stop(step, row):
        if step == 5:
            raise KeyboardInterrupt

    data = pipeline.read_dataset(trained / "data.npz")
    partial = pipeline._partial_checkpoint(SPEC, data, out, None)
    with pytest.raises(KeyboardInterrupt):
        train({**pipeline.training_config(SPEC, data["q"]), "threads": 1}, data["train"], data["validation"],
              partial, progress=False, callback=stop)
    assert partial.exists()
    changed = variant(**{f"data__{k}": v for k, v in change.items() if k != "seed"})
    pipeline.prepare_dataset(changed, change.get("seed", 0), tmp_path / "changed.npz")
    pipeline.train_model(changed, tmp_path / "changed.npz", out, threads=1, progress=False)
    assert load_checkpoint(out)["step"] == 12 and partial.exists()  # the other run's partial is untouched


# --- 8. orphaned temporaries ------------------------------------------------------------------------

def test_orphaned_temporaries_of_an_output_are_removed_when_it_is_written_again(tmp_path):
    """A hard kill left hidden temporary notebooks in reports/."""
    import pandas as pd

    target = tmp_path / "report.ipynb"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            orphan = temporary
            raise KeyboardInterrupt
    assert not orphan.exists()  # an exception cleans up; a kill -9 does not, as simulated here:
    orphan.write_text("half")
    unrelated = tmp_path / ".report.ipynb.keep"
    unrelated.write_text("mine")
    with atomic_path(target) as temporary:
        temporary.write_text("whole")
    assert target.read_text() == "whole" and not orphan.exists() and unrelated.exists()
    table = tmp_path / "t.csv"
    (tmp_path / ".t.csv.abcd_123.csv").write_text("half")
    write_table(pd.DataFrame({"a": [1]}), table)
    assert sorted(p.name for p in tmp_path.glob(".t.csv*")) == []


# --- 9. text8 ---------------------------------------------------------------------------------------

class _Trickle(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_text8_download_has_an_overall_deadline():
    """A server trickling bytes kept load_text8 reading (each read within the socket timeout)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.perf_counter()
        with pytest.raises(RuntimeError, match="could not download text8 .*deadline"):
            corpora.load_text8(f"http://127.0.0.1:{server.server_port}/text8", timeout=5.0, deadline=1.0)
        assert time.perf_counter() - started < 8
    finally:
        server.shutdown()


def test_text8_content_is_checked(tmp_path):
    """100 bytes were returned as text8."""
    short = tmp_path / "short"
    short.write_text("just a few words of text")
    with pytest.raises(RuntimeError, match="not the whole text8: 24 characters instead of 100000000"):
        corpora.load_text8(short)
    foreign = tmp_path / "foreign"
    foreign.write_text("<html>Not Found</html>")
    with pytest.raises(RuntimeError, match="not text8: it holds characters other than a-z and space"):
        corpora.load_text8(foreign, expected_chars=None)
    assert corpora.load_text8(short, expected_chars=None) == "just a few words of text"
