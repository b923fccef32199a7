"""Adaptive unmasking rules: the registry, the exact law against hand enumeration, the identities
(unit steps exact, one step = TC, random = CCL Thm 16 mixture), the Monte Carlo estimators against
the exact law, input errors, the experiment, its claims (each able to fail) and its figures."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import mdmsched
from mdmsched import claims, distributions, error, information, unmasking
from mdmsched.experiments import run_experiment

SMALL = dict(n_exact=4, n_mc=8, samples=300, check_samples=300, code_samples=40, ks_exact=[1, 2, 4], ks_mc=[2, 4, 8],
             gammas=[0.1, 1.0], taus=[0.5, 0.9], sis_samples=60, paths=2)


# --- an independent, scalar brute force of a rule's law (hand enumeration) ---------------------------


def _conditional(p, revealed: dict, i: int) -> np.ndarray:
    q, n = p.shape[0], p.ndim
    out = np.zeros(q)
    for x in itertools.product(range(q), repeat=n):
        if all(x[j] == v for j, v in revealed.items()):
            out[x[i]] += p[x]
    return out / out.sum() if out.sum() > 0 else np.full(q, 1.0 / q)


def _ranked(scores: dict) -> list:
    """Positions by score descending, ties to the lowest index."""
    return sorted(scores, key=lambda i: (-round(scores[i], 12), i))


def brute_force_law(p, rule: str, sizes=None, gamma=None, tau=None) -> np.ndarray:
    n, q = p.ndim, p.shape[0]
    law = np.zeros(p.shape)

    def visit(revealed: dict, weight: float, step: int):
        masked = [i for i in range(n) if i not in revealed]
        if not masked:
            law[tuple(revealed[i] for i in range(n))] += weight
            return
        cond = {i: _conditional(p, revealed, i) for i in masked}
        size = None if sizes is None else sizes[step]
        for candidates in itertools.product(range(q), repeat=len(masked)):
            c = dict(zip(masked, candidates))
            w = weight * math.prod(cond[i][c[i]] for i in masked)
            if w == 0:
                continue
            if rule == "random":
                options = [set(s) for s in itertools.combinations(masked, size)]
            else:
                if rule == "max_prob":
                    order = _ranked({i: cond[i].max() for i in masked})
                elif rule == "margin":
                    order = _ranked({i: np.sort(cond[i])[-1] - np.sort(cond[i])[-2] for i in masked})
                elif rule in ("entropy", "entropy_bound"):
                    order = _ranked({i: -information.entropy(cond[i]) for i in masked})
                elif rule == "left_to_right":
                    order = list(masked)
                else:
                    order = _ranked({i: cond[i][c[i]] for i in masked})
                if rule == "entropy_bound":
                    h = [information.entropy(cond[i]) for i in order]
                    keep = 1
                    while keep < len(order) and round(sum(h[:keep]), 12) <= gamma:
                        keep += 1
                    options = [set(order[:keep])]
                elif rule == "threshold":
                    high = {i for i in masked if round(cond[i][c[i]], 12) > tau}
                    options = [high or {order[0]}]
                else:
                    options = [set(order[:size])]
            for chosen in options:
                visit({**revealed, **{i: c[i] for i in chosen}}, w / len(options), step + 1)

    visit({}, 1.0, 0)
    return law


CASES = [
    ("max_prob", [2, 1], {}), ("max_prob", [1, 1, 1], {}), ("margin", [1, 2], {}), ("entropy", [2, 1], {}),
    ("entropy_bound", None, {"gamma": 0.3}), ("entropy_bound", None, {"gamma": 1.5}),
    ("confidence", [1, 1, 1], {}), ("confidence", [2, 1], {}), ("threshold", None, {"tau": 0.4}),
    ("threshold", None, {"tau": 0.8}), ("random", [1, 2], {}), ("left_to_right", [2, 1], {}),
]


@pytest.mark.parametrize("rule,sizes,params", CASES)
@pytest.mark.parametrize("q", [2, 3])
def test_exact_law_matches_hand_enumeration(rule, sizes, params, q):
    p = distributions.random_tabular(3, q, alpha=0.7, seed=q).pmf()
    law, mean_steps = unmasking.unmasking_law(p, rule, sizes, **params)
    expected = brute_force_law(p, rule, sizes, **params)
    assert law.shape == p.shape and law.dtype == np.float64
    np.testing.assert_allclose(law, expected, atol=1e-13)
    assert law.sum() == pytest.approx(1.0, abs=1e-12)
    if sizes is not None:
        assert mean_steps == pytest.approx(len(sizes))


def test_exact_law_at_n4_matches_hand_enumeration_for_symmetric_laws():
    """Ties everywhere (parity, all-equal, exchangeable): lowest index first."""
    for family in (distributions.parity(4), distributions.AllEqual(4, 2), distributions.BetaBernoulli(4)):
        p = family.pmf()
        for rule, sizes, params in [("max_prob", [2, 2], {}), ("confidence", [2, 1, 1], {}), ("entropy_bound", None, {"gamma": 0.7}),
                                    ("threshold", None, {"tau": 0.6})]:
            law, _ = unmasking.unmasking_law(p, rule, sizes, **params)
            np.testing.assert_allclose(law, brute_force_law(p, rule, sizes, **params), atol=1e-13)


def test_confidence_rule_is_biased_at_unit_steps_worked_example():
    """Product law with p_1 = (0.6, 0.4), p_2 = (0.9, 0.1): the kept candidate is position 2 when it
    drew 0 (confidence 0.9), otherwise position 1; so P(x_2 = 0) = 0.9 + 0.1 * 0.9 = 0.99."""
    p = np.outer([0.6, 0.4], [0.9, 0.1])
    law, steps = unmasking.unmasking_law(p, "confidence")
    np.testing.assert_allclose(law, [[0.594, 0.006], [0.396, 0.004]], atol=1e-15)
    assert steps == pytest.approx(2)
    for rule in ("max_prob", "entropy", "random", "left_to_right"):
        np.testing.assert_allclose(unmasking.unmasking_law(p, rule)[0], p, atol=1e-15)


# --- identities ------------------------------------------------------------------------------------

FAMILIES = [
    distributions.MarkovChain.symmetric(6, 2, 0.8),
    distributions.MixtureOfProducts.random(6, 2, 3, seed=1),
    distributions.parity(6),
    distributions.random_tabular(5, 3, seed=2),
]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_identities(family):
    p = family.pmf()
    n = family.n
    tc = information.total_correlation(p)
    for name, rule in unmasking.RULES.items():
        if rule.kind != unmasking.SAMPLE:
            params = {"gamma": 0.0} if name == "entropy_bound" else {}
            law, steps = unmasking.unmasking_law(p, name, **params)
            assert unmasking.total_variation(law, p) < 1e-12, name
        one = {"entropy_bound": {"gamma": 1e9}, "threshold": {"tau": 1e-12}}.get(name, {})
        law, steps = unmasking.unmasking_law(p, name, [n] if rule.scheduled else None, **one)
        assert steps == pytest.approx(1.0)
        assert unmasking.kl_divergence(p, law) == pytest.approx(tc, abs=1e-10), name
    sizes = [2] * (n // 2) + [1] * (n % 2)
    law, _ = unmasking.unmasking_law(p, "random", sizes)
    marginals = error.LogMarginals(p)
    mixture = np.mean([error.fixed_set_law(p, sets, marginals) for sets in error.ordered_partitions(n, sizes)], axis=0)
    np.testing.assert_allclose(law, mixture, atol=1e-13)
    assert unmasking.kl_divergence(p, law) == pytest.approx(error.mixture_kl(p, sizes), abs=1e-12)


def test_public_api():
    assert mdmsched.unmasking_law is unmasking.unmasking_law
    for rule in unmasking.RULES.values():
        assert rule.kind in (unmasking.CHOOSE, unmasking.SAMPLE, unmasking.REFERENCE)
        assert rule.paper and rule.description


# --- Monte Carlo -----------------------------------------------------------------------------------


def test_replay_monte_carlo_matches_exact_at_n8():
    family = distributions.MarkovChain.symmetric(8, 2, 0.9)
    p = family.pmf()
    rng = np.random.default_rng(1)
    for rule, sizes, params in [("max_prob", [2] * 4, {}), ("entropy", [4, 2, 2], {}), ("entropy_bound", None, {"gamma": 0.5})]:
        exact = unmasking.kl_divergence(p, unmasking.unmasking_law(p, rule, sizes, **params)[0])
        estimate = unmasking.kl_monte_carlo(family, rule, 4000, rng, sizes, **params)
        assert abs(estimate["kl"] - exact) <= 4 * estimate["kl_se"] + 1e-12, rule
    z = family.information_curve()
    estimate = unmasking.kl_monte_carlo(family, "random", 4000, rng, [2] * 4)
    assert abs(estimate["kl"] - error.expected_kl(z, [2] * 4)) <= 4 * estimate["kl_se"]  # CCL Thm 4


def test_sampler_matches_exact_law_for_adaptive_count_rules():
    family = distributions.MarkovChain.symmetric(5, 2, 0.85)
    law, mean_steps = unmasking.unmasking_law(family.pmf(), "threshold", tau=0.7)
    x, steps = unmasking.sample(family, "threshold", 40000, np.random.default_rng(2), tau=0.7)
    empirical = np.bincount(np.ravel_multi_index(tuple(x.T), law.shape), minlength=law.size) / len(x)
    assert unmasking.total_variation(empirical.reshape(law.shape), law) < 0.02  # E TV ~ 0.01 at 32 cells
    assert steps.mean() == pytest.approx(mean_steps, abs=4 * steps.std() / math.sqrt(len(x)))


@pytest.mark.parametrize("rule,sizes,params", [("confidence", [2, 1, 2], {}), ("threshold", None, {"tau": 0.6})])
def test_importance_estimate_is_unbiased_for_nu(rule, sizes, params):
    """prod_t Z_t is unbiased for nu(x): its mean over many trajectories matches the exact law."""
    family = distributions.random_tabular(5, 2, seed=3)
    law, _ = unmasking.unmasking_law(family.pmf(), rule, sizes, **params)
    x = distributions.all_states(5, 2)[[0, 7, 19, 30]]
    log_nu, _ = unmasking.importance_log_likelihood(family, x, rule, np.random.default_rng(4), sizes, paths=6000, **params)
    np.testing.assert_allclose(np.exp(log_nu), law.reshape(-1)[[0, 7, 19, 30]], rtol=0.05)


def test_candidate_ranking_probabilities_match_the_direct_sum():
    """_loses (by sorting and binary search) equals the direct sum over symbols of P(candidate ranks
    after the threshold), ties included (coarse probabilities make many equal snapped values)."""
    rng = np.random.default_rng(8)
    for trial in range(100):
        r, j, q = rng.integers(1, 5), rng.integers(1, 8), rng.integers(2, 6)
        probs = rng.dirichlet(np.ones(q), size=(r, j)) if trial % 2 else rng.integers(0, 3, size=(r, j, q)) + 1e-300
        probs = probs / probs.sum(axis=-1, keepdims=True)
        positions = np.argsort(rng.random((r, j)), axis=1)
        theta = unmasking._snap(np.take_along_axis(probs, rng.integers(0, q, (r, j, 1)), axis=-1)[..., 0])
        snapped = unmasking._snap(probs)[:, None]
        later = positions[:, None, :, None] > positions[:, :, None, None]
        lose = (snapped < theta[:, :, None, None]) | ((snapped == theta[:, :, None, None]) & later)
        np.testing.assert_allclose(unmasking._loses(probs, theta, positions, positions),
                                   (probs[:, None] * lose).sum(axis=-1), atol=1e-15)


def test_rule_settings_and_the_estimator_of_each_kind():
    settings = unmasking.rule_settings(8, ["confidence", "entropy_bound", "threshold", "random"], [2, 8], [0.5], [0.9])
    assert [(rule, label, k) for rule, label, k, _, _ in settings if not math.isnan(k)] == [
        ("confidence", "k=2", 2), ("confidence", "k=8", 8), ("random", "k=2", 2), ("random", "k=8", 8)]
    assert [label for _, label, k, _, _ in settings if math.isnan(k)] == ["gamma=0.5", "tau=0.9"]
    with pytest.raises(ValueError, match=r"step counts k must be integers in 1..n=8"):
        unmasking.rule_settings(8, ["max_prob"], [9])
    family = distributions.MarkovChain.symmetric(4, 2, 0.9)
    x = family.sample(3, np.random.default_rng(0))
    for rule, estimator in (("max_prob", "replay (unbiased)"), ("confidence", "sequential importance sampling")):
        log_nu, steps, name = unmasking.rule_log_likelihood(family, x, rule, np.random.default_rng(1), [2, 2], paths=3)
        assert log_nu.shape == steps.shape == (3,) and name.startswith(estimator) and np.all(steps == 2)


def test_importance_kl_close_to_exact_when_paths_are_near_unique():
    family = distributions.MarkovChain.symmetric(6, 2, 0.9)
    exact = unmasking.kl_divergence(family.pmf(), unmasking.unmasking_law(family.pmf(), "confidence", [2, 2, 2])[0])
    estimate = unmasking.kl_estimate(family, "confidence", 1500, np.random.default_rng(5), [2, 2, 2], paths=8)
    assert abs(estimate["kl"] - exact) <= 4 * estimate["kl_se"] + 0.02
    assert estimate["estimator"].startswith("sequential importance")


# --- errors ----------------------------------------------------------------------------------------


def test_errors_name_the_parameter():
    p = distributions.MarkovChain.symmetric(4, 2, 0.9).pmf()
    with pytest.raises(ValueError, match="unknown unmasking rule"):
        unmasking.unmasking_law(p, "greedy")
    with pytest.raises(ValueError, match="sum to n=4"):
        unmasking.unmasking_law(p, "max_prob", [2, 1])
    with pytest.raises(ValueError, match="positive"):
        unmasking.unmasking_law(p, "max_prob", [4, 0])
    with pytest.raises(ValueError, match="sizes must be None"):
        unmasking.unmasking_law(p, "threshold", [2, 2])
    for gamma in (-0.1, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="gamma"):
            unmasking.unmasking_law(p, "entropy_bound", gamma=gamma)
    for tau in (0.0, 1.5, -1, float("nan")):
        with pytest.raises(ValueError, match="tau"):
            unmasking.unmasking_law(p, "threshold", tau=tau)
    with pytest.raises(ValueError, match="unknown"):
        unmasking.unmasking_law(p, "max_prob", gamma=0.1)
    with pytest.raises(ValueError, match="chooses after sampling"):
        unmasking.replay_log_likelihood(distributions.MarkovChain.symmetric(4, 2, 0.9), np.zeros((2, 4), int), "confidence", [2, 2])
    with pytest.raises(ValueError, match="paths"):
        unmasking.importance_log_likelihood(distributions.MarkovChain.symmetric(4, 2, 0.9), np.zeros((2, 4), int), "confidence",
                                            np.random.default_rng(0), [2, 2], paths=0)
    with pytest.raises(ValueError, match="partial states"):
        unmasking.unmasking_law(np.full((2,) * 16, 2.0**-16), "max_prob")


# --- experiment, claims, figures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def table():
    return run_experiment("unmasking_rules", SMALL, seed=0)


def test_experiment_table(table):
    assert set(table.section) == {"identity", "exact", "mc_check", "mc"}
    assert set(table.rule) == set(unmasking.RULES)
    exact = table[table.section == "exact"]
    assert (exact.kl >= -1e-12).all() and exact.dp_optimum.notna().all()
    # the DP optimum is at most the random rule's Thm 4 value at the same uniform schedule
    random_rows = exact[exact.rule == "random"]
    assert (random_rows.dp_optimum <= random_rows.reference + 1e-12).all()


def test_claims_pass_and_each_can_fail(table):
    tables = {"unmasking_rules": table}
    result = claims.evaluate("unmasking_report", tables)
    stated = result[result.status != claims.INFO]
    assert len(stated) >= 5 and (stated.status == claims.PASS).all(), result
    for record in claims.claims_for("unmasking_report"):
        if record.info:
            assert record(tables).status == claims.INFO
            continue
        assert record.breaks is not None, record.id
        assert record(record.breaks(tables)).status == claims.FAIL, record.id
        assert record(tables).status == claims.PASS  # the tampering did not touch the original


def test_figures(table, tmp_path):
    from mdmsched.plots import unmasking as plots

    tables_dir = tmp_path / "tables"
    tables_dir.mkdir()
    table.to_csv(tables_dir / "unmasking_rules.csv", index=False)
    plots.draw_all(tables_dir, tmp_path)
    for (name,) in plots.FIGURES.values():
        assert (tmp_path / f"{name}.pdf").stat().st_size > 0 and (tmp_path / f"{name}.png").stat().st_size > 0
