"""Cross-check of the ``confidence`` rule (LLaDA low-confidence remasking) against the field's own
implementation, ``diffusers.BlockRefinementScheduler`` (diffusers 0.42.1, a test extra).

The scheduler is driven with the logits of an exact oracle (the law's conditional marginals; the
mask id gets logit -inf, so it is never predicted) at temperature 1 (``sampling_method="multinomial"``)
with ``threshold=1.0`` (no candidate probability exceeds 1, so the confidence-threshold shortcut never
fires and exactly the scheduled number of tokens is committed), timestep = the step index (as
diffusers' LLaDA2 pipeline passes it). Its sampled law is compared with the exact law of
:func:`mdmsched.unmasking_law` for the same step sizes by a chi-square goodness-of-fit test; the
same test against the true law mu shows it has the power to see the rule's bias.

Behaviour that differs from the scheduler's documentation is pinned by the last tests (see the
report): ties go to torch.topk's implementation order, not to the lowest index; ``minimal_topk`` is
ignored with a mask token; the default threshold commits more than the schedule; ``timesteps`` count
down while ``step`` reads ``timestep`` as an ascending step index.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mdmsched import distributions, unmasking

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
BlockRefinementScheduler = diffusers.BlockRefinementScheduler

ALPHA = 1e-3  # level of the goodness-of-fit tests


def drive(family, steps: int, batch: int, seed: int, threshold: float = 1.0):
    """Sample ``batch`` sequences of ``family`` with the scheduler over its exact oracle; returns the
    int64 (batch, n) samples and the per-step sizes the scheduler used."""
    n, q = family.n, family.q
    mask_id = q
    scheduler = BlockRefinementScheduler(block_length=n, num_inference_steps=steps, threshold=threshold)
    scheduler.set_timesteps(steps, block_length=n)
    generator = torch.Generator().manual_seed(seed)
    sample = torch.full((batch, n), mask_id, dtype=torch.long)
    for step in range(steps):
        tokens = sample.numpy()
        revealed = tokens != mask_id
        probs = family.conditional_marginals(np.where(revealed, tokens, 0), revealed)
        logits = np.full((batch, n, q + 1), -np.inf)
        with np.errstate(divide="ignore"):
            logits[..., :q] = np.log(probs)
        out = scheduler.step(torch.from_numpy(logits).float(), step, sample, mask_token_id=mask_id, temperature=1.0,
                             sampling_method="multinomial", threshold=threshold, generator=generator)
        sample = out.prev_sample
    assert not (sample == mask_id).any()
    return sample.numpy().astype(np.int64), [int(s) for s in scheduler._transfer_schedule]


def chi_square_p_value(samples, law) -> float:
    """Goodness of fit of the samples' empirical law to ``law`` (cells with expected count < 5 pooled)."""
    q, n = law.shape[0], law.ndim
    counts = np.bincount(np.ravel_multi_index(tuple(samples.T), law.shape), minlength=q**n).astype(float)
    expected = law.reshape(-1) * len(samples)
    small = expected < 5
    observed = np.append(counts[~small], counts[small].sum())
    wanted = np.append(expected[~small], expected[small].sum())
    if wanted[-1] == 0:
        observed, wanted = observed[:-1], wanted[:-1]
    wanted *= observed.sum() / wanted.sum()
    return float(stats.chisquare(observed, wanted).pvalue)


@pytest.mark.parametrize("steps", [2, 3])
def test_block_refinement_matches_confidence_rule(steps):
    family = distributions.random_tabular(4, 3, alpha=1.0, seed=5)  # no ties among confidences
    p = family.pmf()
    samples, sizes = drive(family, steps, batch=20000, seed=steps)
    law, mean_steps = unmasking.unmasking_law(p, "confidence", sizes)
    assert mean_steps == pytest.approx(steps)
    assert chi_square_p_value(samples, law) > ALPHA
    # power: the same samples are far from mu (the rule is biased), and the test sees it
    assert unmasking.total_variation(law, p) > 0.05
    assert chi_square_p_value(samples, p) < 1e-6


def test_own_sampler_matches_exact_law():
    family = distributions.random_tabular(4, 3, alpha=1.0, seed=5)
    x, steps = unmasking.sample(family, "confidence", 20000, np.random.default_rng(0), sizes=[2, 1, 1])
    law, _ = unmasking.unmasking_law(family.pmf(), "confidence", [2, 1, 1])
    assert chi_square_p_value(x, law) > ALPHA
    assert (steps == 3).all()


# --- where diffusers' behaviour differs from its documentation ---------------------------------------


def test_ties_follow_topk_implementation_order_not_lowest_index():
    """First step of a symmetric law (every candidate probability 1/2): the committed positions are
    whatever torch.topk returns for equal values, the same for every row, and not documented."""
    n, steps = 6, 3
    scheduler = BlockRefinementScheduler(block_length=n, num_inference_steps=steps, threshold=1.0)
    scheduler.set_timesteps(steps, block_length=n)
    logits = torch.zeros(500, n, 3)
    logits[..., 2] = -float("inf")
    sample = torch.full((500, n), 2, dtype=torch.long)
    out = scheduler.step(logits, 0, sample, mask_token_id=2, temperature=1.0, sampling_method="multinomial",
                         generator=torch.Generator().manual_seed(0))
    committed = out.transfer_index.numpy()
    assert (committed.sum(axis=1) == 2).all()
    assert (committed == committed[0]).all()  # deterministic tie order, independent of the draws
    lowest = np.zeros(n, dtype=bool)
    lowest[:2] = True
    print("diffusers commits", np.nonzero(committed[0])[0], "on ties; the project's rule commits", np.nonzero(lowest)[0])


def test_minimal_topk_is_ignored_with_a_mask_token():
    n = 6
    scheduler = BlockRefinementScheduler(block_length=n, num_inference_steps=n, threshold=1.0, minimal_topk=3)
    scheduler.set_timesteps(n, block_length=n)
    logits = torch.zeros(4, n, 3)
    logits[..., 2] = -float("inf")
    out = scheduler.step(logits, 0, torch.full((4, n), 2, dtype=torch.long), mask_token_id=2, temperature=1.0,
                         sampling_method="multinomial")
    assert (out.transfer_index.sum(dim=1) == 1).all()  # documented "minimum tokens to commit per step": 3


def test_default_threshold_commits_more_than_the_schedule():
    n = 6
    scheduler = BlockRefinementScheduler(block_length=n, num_inference_steps=n)  # threshold 0.95
    scheduler.set_timesteps(n, block_length=n)
    logits = torch.full((4, n, 3), -20.0)
    logits[..., 0] = 10.0
    logits[..., 2] = -float("inf")
    out = scheduler.step(logits, 0, torch.full((4, n), 2, dtype=torch.long), mask_token_id=2)
    assert (out.transfer_index.sum(dim=1) == n).all()  # schedule says 1 per step
    assert (out.sampled_tokens == 0).all()  # default temperature 0: greedy, not sampled


def test_timesteps_count_down_but_step_reads_a_step_index():
    n, steps = 5, 2
    scheduler = BlockRefinementScheduler(block_length=n, num_inference_steps=steps, threshold=1.0)
    scheduler.set_timesteps(steps, block_length=n)
    assert scheduler._transfer_schedule.tolist() == [3, 2]
    logits = torch.zeros(1, n, 3)
    logits[..., 2] = -float("inf")
    sample = torch.full((1, n), 2, dtype=torch.long)
    committed = []
    for t in scheduler.timesteps:  # the usual diffusers loop
        out = scheduler.step(logits, t, sample, mask_token_id=2, temperature=1.0, sampling_method="multinomial")
        sample = out.prev_sample
        committed.append(int(out.transfer_index.sum()))
    assert committed == [2, 3]  # the schedule runs reversed
