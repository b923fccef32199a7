"""Adaptive unmasking rules driven by an oracle, as tables (mdmsched.rule_tables), on tiny exact
families: the closed forms (one token per step: KL = 0 for every choose-then-sample and reference
rule; one step: the product of the marginals, KL = TC; the random rule: CCL Thm 4), the model /
exact-oracle pairing, held-out log-likelihoods, and errors naming the parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdmsched import distributions, information, rule_tables, unmasking
from mdmsched.error import expected_kl
from mdmsched.schedules import format_sizes

N = 6
CHOOSE = [name for name, rule in unmasking.RULES.items() if rule.kind != unmasking.SAMPLE and rule.scheduled]
ALL = list(unmasking.RULES)


@pytest.fixture(scope="module")
def chain():
    family = distributions.MarkovChain.symmetric(N, 2, 0.8)
    return family, family.information_curve()


def _rows(table, oracle, k=None, rules=None):
    rows = table[table.oracle == oracle]
    if k is not None:
        rows = rows[rows.k == k]
    if rules is not None:
        rows = rows[rows.rule.isin(rules)]
    return rows


def test_one_token_per_step_has_no_error_with_the_exact_oracle(chain):
    """Unit steps, exact oracle: log nu(x) = log mu(x) for every x (chain rule), whatever the order."""
    family, z = chain
    settings = rule_tables.configured_settings(N, ALL, [N], [0.0], [1.0])
    table = rule_tables.kl_table(family, family, settings, 50, 3, curve=z)
    unit = _rows(table, "exact", N, CHOOSE)
    assert len(unit) == len(CHOOSE)
    assert np.all(np.abs(unit.kl) < 1e-12) and np.all(unit.kl_se < 1e-12) and np.all(unit.nfe == N)
    assert np.all(unit.kl_theory == 0.0)
    assert unit.theory.str.contains("chain rule").sum() == len(CHOOSE) - 1  # the random rule's is CCL Thm 4
    # gamma = 0 and tau = 1 reveal one token per step too: no error (no closed form is claimed for them)
    adaptive = _rows(table, "exact", rules=["entropy_bound"])
    assert abs(adaptive.kl.iloc[0]) < 1e-12 and math.isnan(adaptive.kl_theory.iloc[0])


def test_one_step_samples_the_product_of_the_marginals(chain):
    """k = 1: every rule keeps every candidate, nu = prod_i mu_i, so log mu(x) - log nu(x) is the same
    for all rules, with mean TC (CCL Def 7)."""
    family, z = chain
    settings = rule_tables.configured_settings(N, ALL, [1])
    table = rule_tables.kl_table(family, family, settings, 4000, 4, curve=z)
    one = _rows(table, "exact", 1)
    assert set(one.rule) == {name for name, rule in unmasking.RULES.items() if rule.scheduled}
    assert np.ptp(one.kl) < 1e-9 and np.ptp(one.kl_se) < 1e-9
    tc = information.total_correlation(family.pmf())
    assert np.allclose(one.kl_theory, tc, atol=1e-12) and tc == pytest.approx(z.sum(), abs=1e-12)
    assert abs(one.kl.iloc[0] - tc) <= 4 * one.kl_se.iloc[0]


def test_random_rule_matches_thm4_and_the_exact_law(chain):
    family, z = chain
    sizes = [2, 2, 2]
    settings = rule_tables.configured_settings(N, ["random", "max_prob"], [3])
    table = rule_tables.kl_table(family, family, settings, 4000, 5, curve=z)
    random = _rows(table, "exact", rules=["random"]).iloc[0]
    assert random.sizes == format_sizes(sizes) and random.kl_theory == pytest.approx(expected_kl(z, sizes))
    assert abs(random.kl - random.kl_theory) <= 4 * random.kl_se
    # a deterministic rule: the replay estimate is unbiased for the KL of its exact law
    law, _ = unmasking.unmasking_law(family.pmf(), "max_prob", sizes)
    greedy = _rows(table, "exact", rules=["max_prob"]).iloc[0]
    assert abs(greedy.kl - unmasking.kl_divergence(family.pmf(), law)) <= 4 * greedy.kl_se
    assert math.isnan(greedy.kl_theory) and greedy.theory == ""


def test_model_rows_are_paired_with_the_exact_oracle(chain):
    """Driven by the exact conditionals as the "model", every model row repeats its exact row (same
    samples and random numbers), so learning adds exactly 0; settings run only with the exact
    oracle have no model row."""
    family, z = chain
    settings = rule_tables.configured_settings(N, ALL, [2])
    exact = rule_tables.configured_settings(N, ALL, [1, 2, N])
    table = rule_tables.kl_table(family, family, settings, 60, 6, paths=2, exact_settings=exact, curve=z)
    assert list(table.columns) == rule_tables.COLUMNS
    model, exact_rows = _rows(table, "model"), _rows(table, "exact")
    assert len(model) == len(settings) and len(exact_rows) == len(exact)
    paired = model.merge(exact_rows, on=["rule", "setting"], suffixes=("", "_exact"))
    assert len(paired) == len(model)
    assert np.allclose(paired.kl, paired.kl_exact, atol=1e-12) and np.allclose(paired.nfe, paired.nfe_exact)
    assert np.all(np.abs(model.learning) < 1e-12) and exact_rows.learning.isna().all()
    assert (table[table.rule == "confidence"].estimator.str.startswith("sequential importance")).all()
    assert (table[table.rule == "max_prob"].estimator == "replay (unbiased)").all()


def test_held_out_log_likelihood_of_the_exact_oracle_is_log_mu(chain):
    """Text-style table with the exact oracle on samples of mu: at one token per step every
    choose-then-sample rule scores log mu(x), so its gap to the one-token-at-a-time NLL is 0, and the
    NLL per token is -mean log mu / n (nats; bits = nats / ln 2)."""
    family, _ = chain
    x = family.sample(40, np.random.default_rng(7))
    settings = rule_tables.configured_settings(N, CHOOSE, [N, 2])
    table = rule_tables.likelihood_table(family, x, settings, 8)
    assert (table.oracle == "model").all() and table.kl.isna().all()
    unit = table[table.k == N]
    nats = -family.log_prob(x).mean() / N
    assert np.allclose(unit.nll_nats_per_char, nats, atol=1e-12)
    assert np.allclose(unit.nll_bits_per_char, nats / math.log(2), atol=1e-12)
    assert np.allclose(unit.gap_bits_per_char, 0.0, atol=1e-12)
    assert np.allclose(table.one_at_a_time_bits_per_char, nats / math.log(2), atol=1e-12)
    # a given one-token-at-a-time reference is used as is (the gap is the difference to it)
    shifted = rule_tables.likelihood_table(family, x, settings, 8, one_at_a_time=family.log_prob(x) - N * math.log(2))
    assert np.allclose(shifted.gap_bits_per_char - table.gap_bits_per_char, -1.0, atol=1e-12)


def test_default_nfe_and_settings():
    assert rule_tables.default_nfe(64) == [8, 16, 32] and rule_tables.default_nfe(6) == [1, 3]
    settings = rule_tables.configured_settings(8, ["max_prob", "entropy_bound", "threshold"], None, [0.5, 1.0], [0.9])
    assert [(rule, label) for rule, label, *_ in settings] == [
        ("max_prob", "k=1"), ("max_prob", "k=2"), ("max_prob", "k=4"), ("entropy_bound", "gamma=0.5"),
        ("entropy_bound", "gamma=1"), ("threshold", "tau=0.9")]
    assert rule_tables.configured_settings(8, [], [2]) == []


@pytest.mark.parametrize("kwargs, match", [
    ({"rules": ["greedy"]}, "evaluation.rules must name"),
    ({"rules": ["random", "random"]}, "evaluation.rules must name"),
    ({"nfe": [0]}, r"evaluation.rules_nfe must list step counts in 1..n=8"),
    ({"nfe": [9]}, r"evaluation.rules_nfe"),
    ({"nfe": [2.0]}, r"evaluation.rules_nfe"),
    ({"nfe": []}, r"evaluation.rules_nfe"),
    ({"gammas": [-0.1]}, r"evaluation.rules_gammas: gamma must be"),
    ({"gammas": []}, r"evaluation.rules_gammas must list at least one value"),
    ({"taus": [1.5]}, r"evaluation.rules_taus: tau must be"),
    ({"taus": [0.0]}, r"evaluation.rules_taus"),
])
def test_bad_settings_name_the_parameter(kwargs, match):
    arguments = {"rules": ["max_prob", "entropy_bound", "threshold"], "nfe": None, "gammas": [0.1], "taus": [0.9], **kwargs}
    with pytest.raises(ValueError, match=match):
        rule_tables.configured_settings(8, arguments["rules"], arguments["nfe"], arguments["gammas"], arguments["taus"],
                                        prefix="evaluation.")


def test_bad_counts_name_the_parameter(chain):
    family, _ = chain
    settings = rule_tables.configured_settings(N, ["random"], [2])
    for kwargs, match in (({"samples": 1}, "samples"), ({"paths": 0}, "paths"), ({"batch": 0}, "batch"),
                          ({"samples": 2.5}, "samples")):
        with pytest.raises(ValueError, match=match):
            rule_tables.kl_table(family, family, settings, **{"samples": 10, "seed": 0, **kwargs})
    x = family.sample(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="m >= 2 sequences"):
        rule_tables.likelihood_table(family, x[:1], settings, 0)
    with pytest.raises(ValueError, match="one_at_a_time must hold one log-likelihood per sequence"):
        rule_tables.likelihood_table(family, x, settings, 0, one_at_a_time=np.zeros(3))
    with pytest.raises(ValueError, match="paths"):
        rule_tables.likelihood_table(family, x, settings, 0, paths=0)
