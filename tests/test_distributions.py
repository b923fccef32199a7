"""Families: pmf / log_prob / sampling consistency, closed-form curves against enumeration, and every
oracle against the oracle of the enumerated table (CCL Sec. 1, Example 1, Defs 17-19, Thm 25)."""

import math

import numpy as np
import pytest
from scipy import stats

from mdmsched import distributions as D
from mdmsched import information

MARKOV_TRANSITION = np.array([[0.8, 0.15, 0.05], [0.1, 0.6, 0.3], [0.3, 0.2, 0.5]])


def build(name):
    """Small instances of every family (q^n small enough to enumerate)."""
    rng = np.random.default_rng(7)
    return {
        "product": lambda: D.Product(rng.dirichlet(np.ones(3), size=4)),
        "tabular": lambda: D.random_tabular(4, 3, alpha=0.5, seed=1),
        "all_equal": lambda: D.AllEqual(5, 3, weights=[0.5, 0.3, 0.2]),
        "all_equal_uniform": lambda: D.AllEqual(4, 2),
        "parity_q2": lambda: D.parity(6),
        "parity_q3_shifted": lambda: D.parity(4, q=3, seed=2),
        "subspace_q3": lambda: D.random_subspace(5, 2, 3, seed=1),
        "subspace_q2": lambda: D.random_subspace(6, 3, 2, seed=4),
        "reed_solomon_k2": lambda: D.reed_solomon(4, 2, 5, seed=0),
        "reed_solomon_k1": lambda: D.reed_solomon(4, 1, 5, seed=1),
        "reed_solomon_k3_q7": lambda: D.reed_solomon(4, 3, 7, seed=2),
        "paired_markov_rs": lambda: D.Paired(D.MarkovChain.symmetric(4, 2, 0.8), D.reed_solomon(4, 2, 5, seed=3)),
        "code_lift": lambda: D.make_family("code_lift", n=4, k=1, q=5, stay=0.7, seed=5),
        "mixture": lambda: D.MixtureOfProducts.random(5, 3, 3, seed=2),
        "markov_nonstationary": lambda: D.MarkovChain(6, MARKOV_TRANSITION, init=np.array([0.05, 0.05, 0.9])),
        "markov_symmetric": lambda: D.MarkovChain.symmetric(9, 2, 0.9),
        "beta_bernoulli": lambda: D.BetaBernoulli(7, 0.7, 1.8),
        "block_copy": lambda: D.BlockCopy((3, 2, 1), 3),
    }[name]()


NAMES = [
    "product",
    "tabular",
    "all_equal",
    "all_equal_uniform",
    "parity_q2",
    "parity_q3_shifted",
    "subspace_q3",
    "subspace_q2",
    "reed_solomon_k2",
    "reed_solomon_k1",
    "reed_solomon_k3_q7",
    "paired_markov_rs",
    "code_lift",
    "mixture",
    "markov_nonstationary",
    "markov_symmetric",
    "beta_bernoulli",
    "block_copy",
]


@pytest.fixture(scope="module")
def pmfs():
    return {}


def pmf_of(name, family, cache):
    if name not in cache:
        cache[name] = family.pmf()
    return cache[name]


@pytest.mark.parametrize("name", NAMES)
def test_pmf_sums_to_one_and_matches_log_prob(name, pmfs):
    family = build(name)
    p = pmf_of(name, family, pmfs)
    assert p.shape == (family.q,) * family.n
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    states = D.all_states(family.n, family.q)
    with np.errstate(divide="ignore"):
        assert np.allclose(family.log_prob(states), np.log(p.reshape(-1)), atol=1e-12, equal_nan=False)


@pytest.mark.parametrize("name", NAMES)
def test_information_curve_equals_enumeration(name, pmfs):
    """Closed forms (product, all-equal, codes by ranks or MDS, paired sum, Beta-Bernoulli, block copy)
    equal the lattice enumeration of the pmf; the other families enumerate and must agree too."""
    family = build(name)
    z = family.information_curve()
    assert z.shape == (family.n,)
    assert np.allclose(z, information.information_curve(pmf_of(name, family, pmfs)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_oracle_equals_oracle_of_the_table(name, pmfs):
    family = build(name)
    table = D.Tabular(pmf_of(name, family, pmfs))
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    m = 300
    x = family.sample(m, rng)
    density = rng.random((m, 1))
    revealed = rng.random((m, family.n)) < density
    revealed[0], revealed[1] = False, True  # nothing revealed; everything revealed
    got = family.conditional_marginals(x, revealed)
    expected = table.conditional_marginals(x, revealed)
    assert got.shape == (m, family.n, family.q) and got.dtype == np.float64
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    assert np.allclose(got.sum(axis=2), 1.0, atol=1e-12)
    # revealed entries are one-hot at the revealed symbol
    rows, cols = np.nonzero(revealed)
    assert np.all(got[rows, cols, x[rows, cols]] == 1.0)


@pytest.mark.parametrize("name", NAMES)
def test_samples_follow_the_pmf(name, pmfs):
    """Chi-square goodness of fit (states with expected count >= 5, the rest pooled), at level 1e-6."""
    family = build(name)
    p = pmf_of(name, family, pmfs).reshape(-1)
    m = 20000
    x = family.sample(m, np.random.default_rng(2024))
    assert x.shape == (m, family.n) and x.dtype == np.int64
    index = np.ravel_multi_index(tuple(x.T), (family.q,) * family.n)
    assert np.all(p[index] > 0), "a sample outside the support"
    counts = np.bincount(index, minlength=len(p))
    expected = m * p
    big = expected >= 5
    observed = np.append(counts[big], counts[~big].sum())
    wanted = np.append(expected[big], expected[~big].sum())
    keep = wanted > 0
    statistic = np.sum((observed[keep] - wanted[keep]) ** 2 / wanted[keep])
    dof = keep.sum() - 1
    assert statistic < stats.chi2.ppf(1 - 1e-6, dof), (statistic, dof)


# ---------------------------------------------------------------------------------------------
# independent constructions of some pmfs


def test_markov_pmf_by_products():
    chain = build("markov_nonstationary")
    p = chain.init
    for _ in range(chain.n - 1):
        p = p[..., None] * chain.transition[(None,) * (p.ndim - 1)]  # p[..., a] * P[a, b]
    assert np.allclose(chain.pmf(), p, atol=1e-15)


def test_mixture_and_product_pmf_by_outer_products():
    mixture = build("mixture")
    total = 0
    for weight, marginals in zip(mixture.weights, mixture.marginals):
        table = np.ones(())
        for row in marginals:
            table = np.multiply.outer(table, row)
        total = total + weight * table
    assert np.allclose(mixture.pmf(), total, atol=1e-15)
    # DTC <= ln(#components) (CCL Example 2)
    assert information.dual_total_correlation(total) <= math.log(len(mixture.weights))


def test_beta_bernoulli_pmf_by_quadrature():
    law = build("beta_bernoulli")
    x = D.all_states(law.n, 2)
    ones = x.sum(axis=1)
    by_quadrature = [
        stats.beta(law.a, law.b).expect(lambda t, k=k: t**k * (1 - t) ** (law.n - k)) for k in range(law.n + 1)
    ]
    assert np.allclose(np.exp(law.log_prob(x)), np.array(by_quadrature)[ones], rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# closed forms stated in the papers


def test_reed_solomon_curve_is_a_single_jump_prop20():
    for k in (1, 2, 3):
        code = D.reed_solomon(4, k, 5, seed=k)
        expected = np.where(np.arange(1, 5) > k, math.log(5), 0.0)
        assert np.array_equal(code.information_curve(), expected)
        # the rank computation (no MDS shortcut) and the enumeration agree with the jump
        by_ranks = D.AffineCode(code.generator, 5, code.shift, mds=False).information_curve()
        assert np.allclose(by_ranks, expected, atol=1e-12)
        assert np.allclose(information.information_curve(code.pmf()), expected, atol=1e-12)


def test_parity_and_subspace_tc_dtc_example1():
    """Generic d-dimensional subspaces: TC = (n - d) ln q, DTC = d ln q (CCL Example 1)."""
    for code, d in ((D.parity(5), 4), (D.parity(4, q=3, seed=1), 3), (D.reed_solomon(5, 2, 7, seed=3), 2)):
        p = code.pmf()
        q, n = code.q, code.n
        assert information.total_correlation(p) == pytest.approx((n - d) * math.log(q), abs=1e-12)
        assert information.dual_total_correlation(p) == pytest.approx(d * math.log(q), abs=1e-12)


def test_all_equal_and_block_copy_closed_forms():
    law = D.AllEqual(6, 4)
    assert np.allclose(law.information_curve(), [0] + [math.log(4)] * 5)
    blocks = D.BlockCopy((3, 2, 1), 3)
    z = blocks.information_curve()
    # TC = sum_b (s_b - 1) ln q = (N - K) ln q; DTC = n Z_n - TC
    assert z.sum() == pytest.approx(3 * math.log(3), abs=1e-12)
    assert 6 * z[-1] - z.sum() == pytest.approx(information.dual_total_correlation(blocks.pmf()), abs=1e-12)


def test_exchangeable_gaussian_closed_forms():
    """LZ example: Z, f and the block TC against Gaussian entropies from covariance determinants."""
    rho, n = 0.7, 12
    law = D.ExchangeableGaussian(n, rho)

    def log_det(a, s):
        """ln det of the conditional covariance of s new coordinates given a revealed ones."""
        c = rho / (1 + a * rho)
        return np.linalg.slogdet(np.eye(s) + c * np.ones((s, s)))[1]

    # Z_{a+1} = H_0 - H_a, H_a = ln(2 pi e v_a) / 2, v_a = conditional variance of one coordinate
    z = np.array([0.5 * (log_det(0, 1) - log_det(a, 1)) for a in range(n)])
    assert np.allclose(law.information_curve(), z, atol=1e-14)
    assert np.allclose(law.profile(), np.diff(z), atol=1e-14)
    for a in (0, 1, 5):
        for s in (1, 2, 6):
            # conditional TC of the block: sum of marginal log-variances minus the log-determinant
            tc = 0.5 * (s * log_det(a, 1) - log_det(a, s))
            assert law.block_error(a, s) == pytest.approx(tc, abs=1e-14)


def test_appendix_e_curve_shape():
    """CCL Lemma 28: f = (1+eps)^-i / (4 log n) on B_i = [floor((1+eps)^i), floor((1+eps)^(i+1)) - 1],
    read right to left and shifted so Z_1 = 0 (Z_j = f(n + 1 - j) - f(n)); with eps = 0.2 the blocks
    B_0..B_2 are empty."""
    n, eps = 200, 0.2
    z = D.appendix_e_curve(n, eps)
    assert z.shape == (n,)
    assert z[0] == 0 and np.all(np.diff(z) >= 0) and z[-1] > 0
    scale = 4 * math.log(n)
    floor = 1.2**-29 / scale  # x = 200 is in B_29 = [197, 236]
    assert z[-1] == pytest.approx(1.2**-3 / scale - floor, rel=1e-12)  # x = 1 is in B_3 = [1, 1]
    assert z[-10] == pytest.approx(1.2**-13 / scale - floor, rel=1e-12)  # x = 10 is in B_13 = [10, 11]
    assert z[3] == 0 and z[4] > 0  # x = 197..200 share B_29 with x = 200; x = 196 is in B_28


def test_figure1_constants():
    assert len(D.FIGURE1_CURVE) == 13 and sum(D.FIGURE1_SIZES) == 13
    assert np.all(np.diff(D.FIGURE1_CURVE) >= 0) and D.FIGURE1_CURVE[0] == 0


# ---------------------------------------------------------------------------------------------
# oracle edge cases and larger instances


def test_code_oracle_is_uniform_on_an_inconsistent_assignment():
    code = D.reed_solomon(4, 2, 5, seed=0)  # any two symbols determine the codeword
    x = code.sample(1, np.random.default_rng(0))
    x[0, 2] = (x[0, 2] + 1) % 5  # three revealed symbols no codeword has
    revealed = np.array([[True, True, True, False]])
    out = code.conditional_marginals(x, revealed)
    assert np.allclose(out[0, 3], 1 / 5)
    assert np.all(code.log_prob(x) == -np.inf)
    consistent = code.conditional_marginals(code.sample(1, np.random.default_rng(0)), revealed)
    assert np.isin(consistent[0, 3], [0.0, 1.0]).all()


def test_code_oracle_determines_exactly_the_forced_symbols():
    code = D.reed_solomon(6, 3, 7, seed=9)  # MDS: any 3 symbols determine the rest
    x = code.sample(50, np.random.default_rng(0))
    for count in range(7):
        revealed = np.zeros((50, 6), bool)
        revealed[:, :count] = True
        out = code.conditional_marginals(x, revealed)
        if count >= 3:
            assert np.array_equal(out, np.eye(7)[x])
        else:
            assert np.allclose(out[:, count:], 1 / 7)


def test_markov_oracle_on_a_longer_chain():
    chain = D.MarkovChain(10, np.array([[0.9, 0.1], [0.3, 0.7]]), init=np.array([0.99, 0.01]))
    table = D.Tabular(chain.pmf())
    rng = np.random.default_rng(1)
    x = chain.sample(200, rng)
    revealed = rng.random((200, 10)) < 0.3
    assert np.allclose(chain.conditional_marginals(x, revealed), table.conditional_marginals(x, revealed), atol=1e-12)


def test_impossible_assignment_in_tabular_oracle_is_uniform():
    table = D.Tabular(np.array([[0.5, 0.0], [0.0, 0.5]]))
    out = table.conditional_marginals(np.array([[0, 1]]), np.array([[True, True]]))
    assert np.allclose(out, 0.5)


# ---------------------------------------------------------------------------------------------
# registry and validation


@pytest.mark.parametrize(
    "name, params",
    [
        ("product", {"n": 5, "q": 3}),
        ("tabular", {"n": 3, "q": 2}),
        ("all_equal", {"n": 4, "q": 3}),
        ("parity", {"n": 5}),
        ("subspace", {"n": 5, "d": 2, "q": 3}),
        ("reed_solomon", {"n": 5, "k": 2, "q": 7}),
        ("code_lift", {"n": 4, "k": 2, "q": 5}),
        ("mixture", {"n": 5}),
        ("markov", {"n": 6, "stay": 0.8}),
        ("beta_bernoulli", {"n": 6}),
        ("block_copy", {"block_sizes": (2, 2), "q": 2}),
    ],
)
def test_make_family_registry(name, params):
    family = D.make_family(name, **params)
    assert isinstance(family, D.Family)
    assert set(D.FAMILIES) >= {name}
    assert family.sample(3, np.random.default_rng(0)).shape == (3, family.n)
    assert family.describe()["n"] == family.n


def test_make_family_rejects_unknown_names_and_parameters():
    with pytest.raises(ValueError, match="unknown family 'nope'"):
        D.make_family("nope", n=3)
    with pytest.raises(ValueError, match="bad parameters"):
        D.make_family("markov", n=4, temperature=2.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: D.Product(np.array([[0.5, 0.6]])), "marginals"),
        (lambda: D.random_tabular(3, 2, alpha=0.0), "alpha"),
        (lambda: D.AffineCode(np.array([[1, 1, 0], [2, 2, 0]]), 3), "independent"),
        (lambda: D.AffineCode(np.eye(2, dtype=int), 4), "prime"),
        (lambda: D.reed_solomon(5, 2, 5), "q > n"),
        (lambda: D.reed_solomon(4, 4, 5), "dimension k"),
        (lambda: D.reed_solomon(4, 2, 9), "prime"),
        (lambda: D.random_subspace(4, 5, 3), "dimension d"),
        (lambda: D.Paired(D.parity(3), D.parity(4)), "equal lengths"),
        (lambda: D.MixtureOfProducts([0.5, 0.5], np.full((3, 2, 2), 0.5)), "components"),
        (lambda: D.MarkovChain(4, np.array([[0.5, 0.6], [0.5, 0.5]])), "stochastic"),
        (lambda: D.MarkovChain.symmetric(4, 2, 1.5), "stay"),
        (lambda: D.BetaBernoulli(4, 0.0, 1.0), "Beta parameters"),
        (lambda: D.BlockCopy((2, 0), 2), "block_sizes"),
        (lambda: D.ExchangeableGaussian(4, -1.0), "rho"),
        (lambda: D.appendix_e_curve(10, 1.5), "eps"),
        (lambda: D.appendix_e_curve(1, 0.5), "n must"),
        (lambda: D.MarkovChain.symmetric(30, 2, 0.5).pmf(), "limit"),
        (lambda: D.parity(3).conditional_marginals(np.zeros((2, 3), int), np.zeros((2, 4), bool)), "shape"),
    ],
)
def test_bad_parameters_raise_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_markov_oracle_on_impossible_evidence_is_uniform_not_nan():
    """A parallel step can reveal x_1 = 0 and x_3 = 1 under a chain that never switches; the
    conditional of x_2 is then undefined and the oracle answers uniform (was 0/0 = nan)."""
    chain = D.MarkovChain.symmetric(4, 2, 1.0)
    out = chain.conditional_marginals(np.array([[0, 0, 1, 0]]), np.array([[True, False, True, False]]))
    assert np.isfinite(out).all()
    assert np.allclose(out[0, 1], 0.5) and np.array_equal(out[0, 3], [0.0, 1.0])


# --- closed-form curves owned by the families, checked against enumeration of their pmfs ----------


def _enumerated(family):
    return information.information_curve(family.pmf())


@pytest.mark.parametrize("n, q, stay", [(9, 2, 0.9), (8, 3, 0.6), (11, 2, 0.55), (6, 2, 1.0), (6, 3, 0.6)])
def test_stationary_markov_curve_matches_enumeration(n, q, stay):
    chain = D.MarkovChain.symmetric(n, q, stay)
    assert chain.closed_form and chain.is_stationary()
    assert np.abs(chain.information_curve() - _enumerated(chain)).max() <= 1e-12


def test_markov_curve_nonsymmetric_and_non_stationary_chains():
    transition = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    chain = D.MarkovChain(8, transition)
    assert np.abs(chain.information_curve() - _enumerated(chain)).max() <= 1e-12
    started = D.MarkovChain(7, np.array([[0.7, 0.3], [0.2, 0.8]]), init=np.array([0.9, 0.1]))
    assert not started.is_stationary()
    assert np.abs(started.information_curve() - _enumerated(started)).max() <= 1e-12
    with pytest.raises(ValueError, match="stationary"):
        D.MarkovChain(8, transition, init=np.array([1.0, 0.0, 0.0])).limit_profile([0.5])


def test_markov_limit_profile_is_the_limit_of_n_f():
    n = 4096
    z = D.MarkovChain.symmetric(n, 2, 0.9).information_curve()
    u = np.arange(1, n) / n
    template = D.MarkovChain.symmetric(8, 2, 0.9)
    g = template.limit_profile(u)
    assert np.abs(n * np.diff(z) - g).max() <= 5 / n * g.max()
    grid = np.linspace(0.0, 1.0, 200_001)
    assert abs(np.trapezoid(template.limit_profile(grid), grid) - z[-1]) < 1e-3  # Z(1) = 2 I(1) - I(2) = int g


@pytest.mark.parametrize("blocks, q", [((3, 2, 1), 3), ((4,) * 3, 2), ((1, 5, 2, 2), 3)])
def test_block_copy_curve_matches_enumeration(blocks, q):
    law = D.BlockCopy(blocks, q)
    assert np.abs(law.information_curve() - _enumerated(law)).max() <= 1e-12
    assert np.abs(D.curve("block_copy", law.n, block_sizes=list(blocks), q=q) - _enumerated(law)).max() <= 1e-12
    with pytest.raises(ValueError, match="add up to n"):
        D.curve("block_copy", law.n + 1, block_sizes=list(blocks), q=q)


def test_beta_bernoulli_closed_form_matches_its_entropy_curve_and_enumeration():
    law = D.BetaBernoulli(200)
    slow = information.information_curve_from_entropy_curve(law.entropy_curve())
    assert np.allclose(law.information_curve(), slow, atol=1e-9)
    small = D.BetaBernoulli(9, 0.5, 2.0)
    assert np.allclose(small.information_curve(), _enumerated(small), atol=1e-12)
    assert np.allclose(D.BetaBernoulli(9).information_curve(), _enumerated(D.BetaBernoulli(9)), atol=1e-12)


def test_exchangeable_mixture_closed_form_matches_enumeration():
    """The family (sampling, oracle) and its closed-form curve describe the same law."""
    params = {"n": 7, "weights": [0.2, 0.5, 0.3], "thetas": [0.1, 0.5, 0.85]}
    family = D.make_family("exchangeable_mixture", **params)
    assert family.closed_form
    assert np.allclose(family.information_curve(), _enumerated(family), atol=1e-10)
    z = D.curve("exchangeable_mixture", 400, weights=[0.5, 0.5], thetas=[0.2, 0.8])
    assert information.dtc_from_curve(z) <= math.log(2) + 1e-9  # a mixture of 2 products (CCL Example 2)


def test_registry_curves_without_building_match_the_built_laws():
    code = D.reed_solomon(10, 4, 11, seed=3)
    assert np.array_equal(D.curve("reed_solomon", 10, k=4, q=11), code.information_curve())
    assert np.array_equal(D.curve("parity", 9, q=3), D.parity(9, 3).information_curve())
    lift = D.make_family("code_lift", n=5, k=2, q=7)  # (2 * 7)^5 states, enumerable
    assert np.allclose(D.curve("code_lift", 5, k=2, q=7), _enumerated(lift), atol=1e-12)
    mixture = D.make_family("mixture", n=6, components=2)
    assert not mixture.closed_form
    assert np.array_equal(D.curve("mixture", 6, components=2), mixture.information_curve())


def test_curve_only_laws_have_no_sampler_and_unknown_names_are_named():
    assert D.curve("mds_code", 6, dim=2, q=5)[2] == pytest.approx(math.log(5))
    with pytest.raises(ValueError, match="curve-only"):
        D.make_family("mds_code", n=6, dim=2, q=5)
    with pytest.raises(ValueError, match="unknown family 'nope'"):
        D.curve("nope", 4)
    with pytest.raises(ValueError, match="bad parameters"):
        D.curve("markov", 4, stai=0.9)
