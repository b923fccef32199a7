"""Model, masked-diffusion objective, training (resume, checkpoint errors) and the model oracle."""

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from mdmsched.distributions import all_states, random_tabular
from mdmsched.error import expected_kl
from mdmsched.information import entropy_curve, information_curve
from mdmsched.mdm.model import MaskedDiffusionTransformer, build_model, masked_diffusion_loss, sample_masks
from mdmsched.mdm.oracle import ModelOracle
from mdmsched.mdm.training import evaluate_nelbo, history_path, load_model, train
from mdmsched.sampler import schedule_log_likelihood

TINY = {"d_model": 16, "n_layers": 1, "n_heads": 2, "batch_size": 32, "steps": 12,
        "checkpoint_every": 5, "eval_every": 6, "log_every": 3, "warmup_steps": 2, "threads": 1}


@pytest.fixture(scope="module")
def law():
    return random_tabular(4, 2, alpha=0.5, seed=3)


@pytest.fixture(scope="module")
def data(law):
    rng = np.random.default_rng(0)
    return law.sample(4096, rng), law.sample(256, rng)


class _ExactDenoiser(nn.Module):
    """A 'network' whose logits are the exact log conditionals of a tabular law."""

    def __init__(self, law):
        super().__init__()
        self.law, self.n, self.q, self.mask_id = law, law.n, law.q, law.q

    def forward(self, tokens):
        x = tokens.numpy()
        revealed = x != self.mask_id
        probs = self.law.conditional_marginals(np.where(revealed, x, 0), revealed)
        return torch.log(torch.as_tensor(probs))


def test_sample_masks_counts_are_uniform_and_sets_match():
    generator = torch.Generator().manual_seed(0)
    masked, k = sample_masks(4000, 8, generator)
    assert masked.dtype == torch.bool and torch.equal(masked.sum(1), k)
    counts = torch.bincount(k, minlength=9)[1:].double()
    assert counts.min() >= 499 and counts.max() <= 501  # stratified: uniform on 1..8
    per_position = masked.double().mean(0)
    assert torch.all((per_position - 0.5625).abs() < 0.03)  # E k / n = 4.5 / 8


def test_exact_conditionals_give_entropy_per_token(law):
    """E NELBO per token of the exact oracle is H(X)/n: sum_a H_a = H(X) (CCL Lemma 13)."""
    x = torch.as_tensor(law.sample(20000, np.random.default_rng(1)))
    losses = masked_diffusion_loss(_ExactDenoiser(law), x, torch.Generator().manual_seed(2))
    entropy = entropy_curve(law.pmf())[-1]
    se = losses.std().item() / math.sqrt(len(losses))
    assert abs(losses.mean().item() - entropy / law.n) < 4 * se


def test_model_shapes_and_config_errors():
    model = MaskedDiffusionTransformer(n=6, q=3, d_model=8, n_layers=1, n_heads=2)
    logits = model(torch.full((5, 6), 3))
    assert logits.shape == (5, 6, 3)  # the mask token (id 3) is never predicted
    with pytest.raises(ValueError, match="d_model=10 must be n_heads=4"):
        MaskedDiffusionTransformer(n=6, q=3, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="positional must be one of"):
        MaskedDiffusionTransformer(n=6, q=3, d_model=8, n_heads=2, positional="alibi")
    with pytest.raises(ValueError, match=r"shape \(batch, n=6\)"):
        model(torch.zeros(2, 5, dtype=torch.long))


def test_resume_after_interrupt_continues_to_the_same_model(tmp_path, data):
    train_data, val_data = data
    straight = train(TINY, train_data, val_data, tmp_path / "straight.pt", progress=False)

    def interrupt(step, row):
        if step == 8:
            raise KeyboardInterrupt

    path = tmp_path / "resumed.pt"
    with pytest.raises(KeyboardInterrupt):
        train(TINY, train_data, val_data, path, progress=False, callback=interrupt)
    assert torch.load(path, weights_only=True)["step"] == 8  # saved on Ctrl-C
    resumed_steps = []
    resumed = train(TINY, train_data, val_data, path, progress=False,
                    callback=lambda step, row: resumed_steps.append(step))
    assert resumed_steps == list(range(9, 13)) and resumed.step == 12
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6)
    assert [r["step"] for r in resumed.history] == [3, 6, 9, 12]
    lines = history_path(path).read_text().splitlines()
    assert lines[0].startswith("step,loss,val_loss_nats,val_loss_bits,tokens_per_s")
    assert len(lines) == 5 and lines[-1].startswith("12,")
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # atomic writes cleaned up
    loaded = load_model(path, device="cpu")
    assert loaded.step == 12 and not loaded.training
    again = train(TINY, train_data, val_data, path, progress=False)  # finished: nothing to do
    assert again.step == 12


def test_interrupted_between_checkpoints_resumes_from_last_checkpoint(tmp_path, data):
    train_data, val_data = data

    def crash(step, row):
        if step == 7:
            raise RuntimeError("simulated crash")

    path = tmp_path / "crash.pt"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(TINY, train_data, val_data, path, progress=False, callback=crash)
    assert torch.load(path, weights_only=True)["step"] == 5
    steps = []
    train(TINY, train_data, val_data, path, progress=False, callback=lambda s, r: steps.append(s))
    assert steps[0] == 6 and steps[-1] == 12


def test_mismatched_and_corrupt_checkpoints_raise_clear_errors(tmp_path, data):
    train_data, val_data = data
    path = tmp_path / "model.pt"
    train(TINY, train_data, val_data, path, progress=False)
    with pytest.raises(ValueError, match="checkpoint config d_model=16 does not match requested 32"):
        train({**TINY, "d_model": 32}, train_data, val_data, path, progress=False)
    with pytest.raises(ValueError, match="trained on different train_data"):
        train(TINY, train_data[::-1].copy(), val_data, path, progress=False)
    train({**TINY, "log_every": 4, "threads": None}, train_data, val_data, path, progress=False)
    with pytest.raises(ValueError, match="unknown config keys \\['d_modle'\\]"):
        train({**TINY, "d_modle": 8}, train_data, val_data, tmp_path / "other.pt", progress=False)

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(path.read_bytes()[:1000])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    for broken in (truncated, garbage):
        with pytest.raises(ValueError, match="corrupt or unreadable"):
            train(TINY, train_data, val_data, broken, progress=False)
        with pytest.raises(ValueError, match="corrupt or unreadable"):
            load_model(broken)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="is not a 'mdmsched.mdm checkpoint v1' file"):
        load_model(foreign)


@pytest.fixture(scope="module")
def learned(tmp_path_factory, law, data):
    train_data, val_data = data
    config = {"d_model": 32, "n_layers": 2, "n_heads": 2, "batch_size": 256, "steps": 800,
              "lr": 5e-3, "warmup_steps": 20, "eval_every": 400, "checkpoint_every": 800,
              "threads": 1, "seed": 1}
    path = tmp_path_factory.mktemp("learned") / "tiny.pt"
    return train(config, train_data, val_data, path, progress=False), path


def test_model_oracle_returns_float64_probability_rows(law):
    torch.manual_seed(0)
    model = build_model({"n": law.n, "q": law.q, "d_model": 16, "n_layers": 1, "n_heads": 2}).eval()
    oracle = ModelOracle(model, batch_size=7)
    x = law.sample(20, np.random.default_rng(3))
    revealed = np.random.default_rng(4).random((20, 4)) < 0.5
    probs = oracle.conditional_marginals(x, revealed)
    assert probs.dtype == np.float64 and probs.shape == (20, 4, 2)
    assert np.all(probs >= 0) and np.allclose(probs.sum(-1), 1.0, atol=1e-14)
    assert np.allclose(np.exp(oracle.log_conditional_marginals(x, revealed)), probs, atol=1e-14)
    garbage = np.where(revealed, x, 99)  # values at unrevealed positions are ignored
    assert np.array_equal(oracle.conditional_marginals(garbage, revealed), probs)
    with pytest.raises(ValueError, match="revealed symbols of x must lie in 0..1"):
        oracle.conditional_marginals(np.full((1, 4), 5), np.ones((1, 4), bool))
    with pytest.raises(ValueError, match="revealed must be a bool array"):
        oracle.conditional_marginals(x, revealed.astype(int))


@pytest.mark.slow
def test_training_learns_the_true_conditionals(learned, law, data):
    """The NELBO is minimised by the true conditionals: a trained tiny model gets close to H(X)/n,
    to the exact conditionals, and to the exact oracle's expected KL (CCL Thm 4, Lemma 35)."""
    model, path = learned
    entropy_per_token = entropy_curve(law.pmf())[-1] / law.n
    nelbo, se = evaluate_nelbo(model, data[1])
    assert nelbo - entropy_per_token < 0.02 + 3 * se

    states = all_states(law.n, law.q)
    patterns = np.array(list(itertools.product([False, True], repeat=law.n)))
    x = np.repeat(states, len(patterns), axis=0)
    revealed = np.tile(patterns, (len(states), 1))
    weights = np.repeat(law.pmf().reshape(-1), len(patterns))
    true, learned_probs = law.conditional_marginals(x, revealed), ModelOracle(model).conditional_marginals(x, revealed)
    kl = (true * (np.log(true + 1e-300) - np.log(learned_probs))).sum(-1)
    mean_kl = np.dot(weights, np.where(revealed, 0.0, kl).mean(1)) / weights.sum()
    assert mean_kl < 0.01

    orders = np.array(list(itertools.permutations(range(law.n))))
    xs = np.repeat(states, len(orders), axis=0)
    tiled = np.tile(orders, (len(states), 1))
    mu = np.repeat(law.pmf().reshape(-1), len(orders)) / len(orders)
    oracle = ModelOracle(load_model(path, "cpu"))
    z = information_curve(law.pmf())
    for sizes in ([1, 1, 1, 1], [2, 2], [4]):  # exact E_S KL, model vs exact oracle (Thm 4)
        model_kl = np.dot(mu, law.log_prob(xs) - schedule_log_likelihood(oracle, xs, sizes,
                                                                          orders=tiled))
        assert abs(model_kl - expected_kl(z, sizes)) < 0.03, sizes
