"""Expected KL error: CCL Thm 4 / 16 against brute force over ordered partitions, the mixture bound,
CCL Prop 20 and Figure 1, LZ's factorization error, bounds and worst case, Monte Carlo with an
oracle, and the sampler itself."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mdmsched import distributions as D
from mdmsched import error as E
from mdmsched import information, sampler
from mdmsched.schedules import counts_from_sizes, geometric, optimal_schedule, uniform


@st.composite
def laws(draw, max_n=5, qs=(2, 3), max_states=243):
    q = draw(st.sampled_from(qs))
    n = draw(st.sampled_from([n for n in range(1, max_n + 1) if q**n <= max_states]))
    alpha = draw(st.sampled_from([0.05, 0.3, 1.0, 10.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = rng.dirichlet(np.full(q**n, alpha))
    if draw(st.booleans()):
        weights[rng.random(q**n) < 0.5] = 0.0  # sparse support: undefined conditionals appear
        if weights.sum() == 0:
            weights[0] = 1.0
        weights /= weights.sum()
    return weights.reshape((q,) * n)


def compositions(n):
    """Every composition of n (2^(n-1) of them)."""
    for cuts in itertools.product([False, True], repeat=n - 1):
        sizes = [1]
        for cut in cuts:
            if cut:
                sizes.append(1)
            else:
                sizes[-1] += 1
        yield tuple(sizes)


@st.composite
def composition_of(draw, n):
    """A random composition of n: a cut or not after each of positions 1..n-1."""
    cuts = draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [n]
    return list(np.diff(bounds))


def random_curve(rng, n):
    increments = rng.exponential(size=n - 1) * (rng.random(n - 1) < rng.uniform(0.2, 1.0))
    return np.concatenate([[0.0], np.cumsum(increments)])


# ---------------------------------------------------------------------------------------------
# CCL Thm 4 / Thm 16


@given(p=laws(), data=st.data())
@settings(max_examples=80)
def test_thm4_expected_kl_equals_brute_force(p, data):
    n = p.ndim
    sizes = data.draw(composition_of(n), label="sizes")
    assert sum(sizes) == n
    z = information.information_curve(p)
    exact = E.expected_kl(z, sizes)
    assert exact == pytest.approx(E.expected_kl_bruteforce(p, sizes), abs=1e-12)
    # CCL Thm 16: KL of the mixture (the sampler's actual law) <= expected KL
    assert E.mixture_kl(p, sizes) <= exact + 1e-12


@pytest.mark.parametrize("seed, alpha", [(0, 0.3), (1, 1.0), (2, 0.05)])
def test_thm4_for_every_composition_up_to_n6(seed, alpha):
    """All 2^(n-1) compositions for n = 1..6 (n = 6: 4683 ordered partitions in all), q = 2."""
    rng = np.random.default_rng(seed)
    for n in range(1, 7):
        p = rng.dirichlet(np.full(2**n, alpha)).reshape((2,) * n)
        z = information.information_curve(p)
        for sizes in compositions(n):
            assert E.expected_kl(z, sizes) == pytest.approx(E.expected_kl_bruteforce(p, sizes), abs=1e-12), sizes


def test_thm4_for_every_composition_q3():
    p = np.random.default_rng(4).dirichlet(np.full(3**4, 0.5)).reshape((3,) * 4)
    z = information.information_curve(p)
    for sizes in compositions(4):
        exact = E.expected_kl(z, sizes)
        assert exact == pytest.approx(E.expected_kl_bruteforce(p, sizes), abs=1e-12)
        assert E.mixture_kl(p, sizes) <= exact + 1e-12


def test_one_shot_is_tc_and_unit_steps_are_exact():
    p = np.random.default_rng(6).dirichlet(np.full(3**4, 0.5)).reshape((3,) * 4)
    z = information.information_curve(p)
    tc = information.total_correlation(p)
    assert E.expected_kl(z, [4]) == pytest.approx(tc, abs=1e-12)
    assert E.expected_kl_bruteforce(p, [4]) == pytest.approx(tc, abs=1e-12)
    assert E.mixture_kl(p, [4]) == pytest.approx(tc, abs=1e-12)  # a single partition: no mixing
    assert E.expected_kl(z, [1, 1, 1, 1]) == 0.0
    assert E.expected_kl_bruteforce(p, [1, 1, 1, 1]) == pytest.approx(0.0, abs=1e-12)
    assert E.mixture_kl(p, [1, 1, 1, 1]) == pytest.approx(0.0, abs=1e-12)


def test_mixture_kl_can_be_strictly_smaller():
    """Block copy, sizes (3, 2, 1): expected KL 0.952 but the mixture's KL only 0.696 (CCL Thm 16)."""
    law = D.BlockCopy((3, 2, 1), 3)
    expected = E.expected_kl(law.information_curve(), (3, 2, 1))
    mixture = E.mixture_kl(law.pmf(), (3, 2, 1))
    assert expected == pytest.approx(0.9521306501790285, abs=1e-12)
    assert mixture == pytest.approx(0.6956193697053342, abs=1e-12)


def test_fixed_set_laws_are_probability_tables():
    p = D.BlockCopy((2, 2), 2).pmf()
    for sets in E.ordered_partitions(4, (2, 1, 1)):
        nu = E.fixed_set_law(p, sets)
        assert nu.sum() == pytest.approx(1.0, abs=1e-12)


def test_ordered_partitions_are_all_distinct_partitions():
    parts = list(E.ordered_partitions(6, (2, 3, 1)))
    assert len(parts) == math.factorial(6) // (math.factorial(2) * math.factorial(3))
    assert len({tuple(map(tuple, p)) for p in parts}) == len(parts)
    for sets in parts:
        assert sorted(itertools.chain(*sets)) == list(range(6))
        assert [len(s) for s in sets] == [2, 3, 1]


# ---------------------------------------------------------------------------------------------
# CCL Figure 1, Prop 20


def test_figure1_shaded_area_is_10_7():
    blocks = E.block_errors(D.FIGURE1_CURVE, D.FIGURE1_SIZES)
    area = E.expected_kl(D.FIGURE1_CURVE, D.FIGURE1_SIZES)
    print(f"CCL Figure 1: blocks {np.round(blocks, 12).tolist()}, shaded area {area:.12f}")
    assert np.allclose(blocks, [5.6, 4.4, 0.4, 0.3], atol=1e-12)
    assert area == pytest.approx(10.7, abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_prop20_reed_solomon(k):
    n, q = 4, 5
    code = D.reed_solomon(n, k, q, seed=10 + k)
    p = code.pmf()
    jump = np.where(np.arange(1, n + 1) > k, math.log(q), 0.0)
    z = information.information_curve(p)
    assert np.allclose(z, jump, atol=1e-12) and np.array_equal(code.information_curve(), jump)
    assert information.total_correlation(p) == pytest.approx((n - k) * math.log(q), abs=1e-12)
    assert information.dual_total_correlation(p) == pytest.approx(k * math.log(q), abs=1e-12)
    # the schedule (k, n - k) is exact; any schedule without a block boundary at k pays >= ln q
    assert E.expected_kl(z, (k, n - k)) == pytest.approx(0.0, abs=1e-12)
    assert E.expected_kl_bruteforce(p, (k, n - k)) == pytest.approx(0.0, abs=1e-12)
    for sizes in compositions(n):
        exact = E.expected_kl(z, sizes)
        assert exact == pytest.approx(E.expected_kl_bruteforce(p, sizes), abs=1e-12)
        if k in counts_from_sizes(sizes):
            assert exact == pytest.approx(0.0, abs=1e-12)
        else:
            assert exact >= math.log(q) - 1e-12


# ---------------------------------------------------------------------------------------------
# LZ: factorization error, bounds, worst case, exchangeable Gaussian


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), data=st.data())
@settings(max_examples=100)
def test_lz_factorization_error_equals_thm4_and_bounds_hold(seed, n, data):
    z = random_curve(np.random.default_rng(seed), n)
    sizes = data.draw(composition_of(n), label="sizes")
    error = E.expected_kl(z, sizes)
    f = information.profile_from_curve(z)
    assert E.factorization_error(f, sizes) == pytest.approx(error, rel=1e-12, abs=1e-12)
    tc, dtc = information.tc_from_curve(z), information.dtc_from_curve(z)
    d = (tc + dtc) / n
    assert d == pytest.approx(z[-1], rel=1e-12, abs=1e-14)  # D = sum f = Z_n
    s_max = max(sizes)
    assert error <= E.lz_bound(d, sizes) + 1e-12  # LZ: (s_max - 1) D
    assert error <= E.li_cai_bound(z, sizes) + 1e-12  # CCL Thm 31: (s_max - 1) Z_n
    assert E.li_cai_bound(z, sizes) <= E.li_cai_tc_dtc_bound(tc, dtc, n, s_max) + 1e-9


def test_lz_bound_is_attained_by_the_all_equal_law_with_constant_sizes():
    for n, k in ((12, 3), (40, 8), (400, 8)):
        law = D.AllEqual(n, 3)
        z = law.information_curve()
        sizes = uniform(n, k)
        d = z[-1]
        assert E.expected_kl(z, sizes) == pytest.approx(E.lz_bound(d, sizes), rel=1e-12)
        assert E.expected_kl(z, sizes) == pytest.approx((n / k - 1) * math.log(3), rel=1e-12)  # N-independent at N/K fixed


def test_lz_worst_case_block_copy_deterministic_planner():
    """N = 6, q = 3, blocks (3, 2, 1): revealing each block in one step pays exactly (N - K) ln q = 3 ln 3;
    random order with the same sizes pays 0.952 (LZ)."""
    law = D.BlockCopy((3, 2, 1), 3)
    p = law.pmf()
    deterministic = E.kl_divergence(p, E.fixed_set_law(p, ((0, 1, 2), (3, 4), (5,))))
    assert deterministic == pytest.approx(3 * math.log(3), abs=1e-12)
    assert E.lz_worst_case(6, 3, 3) == pytest.approx(3 * math.log(3), abs=1e-15)
    random_order = E.expected_kl(law.information_curve(), (3, 2, 1))
    assert random_order == pytest.approx(E.expected_kl_bruteforce(p, (3, 2, 1)), abs=1e-12)
    assert random_order < 0.3 * deterministic
    # (N - K) ln q bounds every fixed-set law of this law
    worst = max(E.kl_divergence(p, E.fixed_set_law(p, sets)) for sets in E.ordered_partitions(6, (3, 2, 1)))
    assert worst == pytest.approx(3 * math.log(3), abs=1e-12)


@given(p=laws(max_n=4), data=st.data())
@settings(max_examples=30)
def test_lz_worst_case_bounds_every_planner(p, data):
    n, q = p.ndim, p.shape[0]
    sizes = data.draw(composition_of(n), label="sizes")
    worst = max(E.kl_divergence(p, E.fixed_set_law(p, sets)) for sets in E.ordered_partitions(n, sizes))
    assert worst <= E.lz_worst_case(n, len(sizes), q) + 1e-12


@given(rho=st.floats(0.05, 20.0), n=st.integers(1, 80), data=st.data())
@settings(max_examples=60)
def test_exchangeable_gaussian_block_formula_equals_thm4(rho, n, data):
    law = D.ExchangeableGaussian(n, rho)
    sizes = data.draw(composition_of(n), label="sizes")
    assert law.schedule_error(sizes) == pytest.approx(E.expected_kl(law.information_curve(), sizes), rel=1e-10, abs=1e-13)


def test_exchangeable_gaussian_rho1_optimum_is_geometric():
    """rho = 1, n = 2^K - 1, K steps: the exact DP optimum is a_k = 2^k - 1 (sizes 1, 2, 4, ...), and it
    is the unique optimum (brute force for K <= 4). For n = 2^K the optimum keeps 1, 3, ..., 2^(K-1) - 1
    and the last step takes the extra token."""
    for big_k in range(2, 11):
        n = 2**big_k - 1
        law = D.ExchangeableGaussian(n, 1.0)
        z = law.information_curve()
        sizes, error = optimal_schedule(z, big_k)
        assert list(counts_from_sizes(sizes)[1:]) == [2**j - 1 for j in range(1, big_k + 1)]
        assert list(sizes) == list(geometric(n, big_k))
        assert error == pytest.approx(law.schedule_error(sizes), rel=1e-12)
        if big_k <= 4:
            values = sorted(
                E.expected_kl(z, np.diff((0,) + cuts + (n,))) for cuts in itertools.combinations(range(1, n), big_k - 1)
            )
            assert values[0] == pytest.approx(error, abs=1e-12) and values[1] > error + 1e-6
        sizes_pow2, _ = optimal_schedule(D.ExchangeableGaussian(n + 1, 1.0).information_curve(), big_k)
        assert list(counts_from_sizes(sizes_pow2)[1:]) == [2**j - 1 for j in range(1, big_k)] + [n + 1]


# ---------------------------------------------------------------------------------------------
# Monte Carlo with an oracle


@pytest.mark.parametrize(
    "name, family, sizes",
    [
        ("markov", D.MarkovChain(12, np.array([[0.85, 0.15], [0.3, 0.7]]), init=np.array([0.9, 0.1])), (3, 4, 5)),
        ("mixture", D.MixtureOfProducts.random(10, 2, 3, concentration=0.4, seed=3), (5, 5)),
    ],
)
def test_monte_carlo_expected_kl_agrees_with_thm4(name, family, sizes):
    exact = E.expected_kl(information.information_curve(family.pmf()), sizes)
    result = E.expected_kl_monte_carlo(family, family, sizes, 6000, np.random.default_rng(17), exact_oracle=family)
    print(f"{name}: Thm 4 {exact:.5f}, Monte Carlo {result['kl']:.5f} +- {result['kl_se']:.5f}")
    assert abs(result["kl"] - exact) <= 4 * result["kl_se"]
    assert result["kl_se"] < 0.1 * exact
    assert result["factorization"] == result["kl"] and result["learning"] == 0.0


def test_monte_carlo_splits_factorization_and_learning_error():
    """A wrong oracle adds a nonnegative learning error (LZ decomposition; CCL Lemma 35)."""
    law = D.MarkovChain.symmetric(10, 2, 0.85)
    wrong = D.MarkovChain.symmetric(10, 2, 0.7)
    sizes = (2, 3, 5)
    exact = E.expected_kl(information.information_curve(law.pmf()), sizes)
    result = E.expected_kl_monte_carlo(law, wrong, sizes, 4000, np.random.default_rng(1), exact_oracle=law)
    assert abs(result["factorization"] - exact) <= 4 * result["factorization_se"]
    assert result["learning"] > 4 * result["learning_se"]
    assert result["kl"] == pytest.approx(result["factorization"] + result["learning"], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# the sampler


def test_schedule_log_likelihood_with_unit_steps_is_the_chain_rule():
    rng = np.random.default_rng(0)
    for family in (D.MarkovChain.symmetric(9, 3, 0.6), D.reed_solomon(5, 2, 7), D.MixtureOfProducts.random(7, 2, 3)):
        x = family.sample(64, rng)
        log_nu = sampler.schedule_log_likelihood(family, x, np.ones(family.n, int), rng=rng)
        assert np.allclose(log_nu, family.log_prob(x), atol=1e-10)


def test_schedule_log_likelihood_needs_rng_or_orders():
    family = D.parity(3)
    with pytest.raises(ValueError, match="rng or orders"):
        sampler.schedule_log_likelihood(family, family.sample(2, np.random.default_rng(0)), [3])


def test_step_of_position_and_orders():
    rng = np.random.default_rng(0)
    orders = sampler.random_orders(50, 8, rng)
    assert np.array_equal(np.sort(orders, axis=1), np.tile(np.arange(8), (50, 1)))
    steps = sampler.step_of_position(orders, [3, 1, 4])
    assert np.array_equal(np.apply_along_axis(np.bincount, 1, steps, minlength=3), np.tile([3, 1, 4], (50, 1)))


@pytest.mark.parametrize("sizes", [(1, 1, 1, 1), (2, 2), (1, 3), (4,)])
def test_sampler_draws_from_the_mixture_of_fixed_set_laws(sizes):
    """The random sampler's law is the mixture of nu^S over uniform ordered partitions (CCL Def 15);
    unit steps give mu, one step gives the product of marginals. Chi-square at level 1e-6."""
    family = D.Tabular(np.random.default_rng(2).dirichlet(np.full(3**4, 0.5)).reshape((3,) * 4))
    p = family.pmf()
    nu = np.mean([E.fixed_set_law(p, sets) for sets in E.ordered_partitions(4, sizes)], axis=0).reshape(-1)
    assert nu.sum() == pytest.approx(1.0, abs=1e-12)
    if sizes == (1, 1, 1, 1):
        assert np.allclose(nu, p.reshape(-1), atol=1e-12)
    m = 20000
    x = sampler.sample(family, sizes, m, np.random.default_rng(5))
    counts = np.bincount(np.ravel_multi_index(tuple(x.T), p.shape), minlength=nu.size)
    expected = m * nu
    big = expected >= 5
    observed = np.append(counts[big], counts[~big].sum())
    wanted = np.append(expected[big], expected[~big].sum())
    keep = wanted > 0
    statistic = np.sum((observed[keep] - wanted[keep]) ** 2 / wanted[keep])
    assert statistic < stats.chi2.ppf(1 - 1e-6, keep.sum() - 1)


# ---------------------------------------------------------------------------------------------
# validation and small formulas


def test_expected_kl_rejects_bad_sizes():
    with pytest.raises(ValueError, match="sum to n=4"):
        E.expected_kl(np.zeros(4), [1, 2])
    with pytest.raises(ValueError, match="positive"):
        E.expected_kl(np.zeros(4), [0, 4])
    with pytest.raises(ValueError, match="sum to n=5"):
        E.factorization_error(np.zeros(4), [2, 2])


def test_step_bound_formula():
    assert E.thm9_step_bound(100, 0.5, 2.0) == pytest.approx(2 + (1 + math.log(100)) * 5)
    assert E.li_cai_tc_dtc_bound(3.0, 1.0, 8, 5) == pytest.approx(7 / 8 * 4.0)
