"""Entropy and information curves (CCL Defs 3, 7, 12; Lemmas 8, 13; Han's inequality), checked
against brute-force definitions on small random laws and against closed forms."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import entr

from mdmsched import information

LN2 = math.log(2)


@st.composite
def laws(draw, max_n=5, qs=(2, 3), max_states=243, min_n=2):
    """Random pmf tables: Dirichlet over all states, sometimes with a random part of the support removed."""
    q = draw(st.sampled_from(qs))
    n = draw(st.sampled_from([n for n in range(min_n, max_n + 1) if q**n <= max_states]))
    alpha = draw(st.sampled_from([0.05, 0.3, 1.0, 10.0]))
    zero_fraction = draw(st.sampled_from([0.0, 0.0, 0.6]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = rng.dirichlet(np.full(q**n, alpha))
    if zero_fraction:
        weights[rng.random(q**n) < zero_fraction] = 0.0
        if weights.sum() == 0:
            weights[rng.integers(q**n)] = 1.0
        weights /= weights.sum()
    return weights.reshape((q,) * n)


def marginal(p, subset):
    """Marginal table of the axes in ``subset`` (kept in increasing order)."""
    others = tuple(i for i in range(p.ndim) if i not in subset)
    return p.sum(axis=others) if others else p


def direct_entropy(p, subset) -> float:
    return float(entr(marginal(p, subset)).sum())


def direct_mutual_information(p, i, subset) -> float:
    """I(X_i; X_S) from the joint table of (X_S, X_i) by its definition."""
    kept = sorted(set(subset) | {i})
    joint = np.moveaxis(marginal(p, kept), kept.index(i), -1).reshape(-1, p.shape[0])
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    support = joint > 0
    return float(np.sum(joint[support] * np.log(joint[support] / outer[support])))


def brute_force_curve(p) -> np.ndarray:
    """Z_j = mean over i and |S| = j - 1, i not in S, of I(X_i; X_S) (CCL Def 3), literally."""
    n = p.ndim
    z = np.empty(n)
    for j in range(1, n + 1):
        values = [
            direct_mutual_information(p, i, subset)
            for i in range(n)
            for subset in itertools.combinations([a for a in range(n) if a != i], j - 1)
        ]
        z[j - 1] = np.mean(values)
    return z


def brute_force_conditional_entropies(p) -> np.ndarray:
    """H_a = mean over j and |A| = a, j not in A, of H(X_j | X_A) = H(X_A, X_j) - H(X_A)."""
    n = p.ndim
    return np.array(
        [
            np.mean(
                [
                    direct_entropy(p, subset + (j,)) - direct_entropy(p, subset)
                    for j in range(n)
                    for subset in itertools.combinations([b for b in range(n) if b != j], a)
                ]
            )
            for a in range(n)
        ]
    )


# ---------------------------------------------------------------------------------------------
# subset entropies: the lattice walk against direct marginalization


@given(p=laws(max_n=6, max_states=729))
@settings(max_examples=60)
def test_subset_entropies_equal_direct_marginal_entropies(p):
    h = information.subset_entropies(p)
    n = p.ndim
    for mask in range(1 << n):
        subset = [i for i in range(n) if mask >> i & 1]
        assert h[mask] == pytest.approx(direct_entropy(p, subset), abs=1e-12)


@pytest.mark.parametrize("n, q", [(1, 2), (1, 7), (10, 2), (7, 3), (5, 4), (4, 5), (3, 11), (2, 40)])
@pytest.mark.parametrize("workers", [1, 2])
def test_subset_entropies_lattice_walk_and_batches(n, q, workers, monkeypatch):
    """Sizes that exercise the depth-first walk below the batched leading axes, on one thread and on
    a thread pool (forced even for these small tables)."""
    monkeypatch.setattr(information, "_THREADED_SIZE", 0)
    p = np.random.default_rng(n * 100 + q).dirichlet(np.full(q**n, 0.4)).reshape((q,) * n)
    h = information.subset_entropies(p, workers=workers)
    assert h.shape == (1 << n,)
    for mask in range(1 << n):
        subset = [i for i in range(n) if mask >> i & 1]
        assert h[mask] == pytest.approx(direct_entropy(p, subset), abs=1e-12)


def test_subset_entropies_of_a_non_contiguous_view():
    p = np.random.default_rng(3).dirichlet(np.ones(3**5)).reshape((3,) * 5)
    view = p.transpose(2, 0, 4, 1, 3)  # a different law (axes permuted), not C-contiguous
    h = information.subset_entropies(view)
    for mask in range(32):
        subset = [i for i in range(5) if mask >> i & 1]
        assert h[mask] == pytest.approx(direct_entropy(np.ascontiguousarray(view), subset), abs=1e-12)


def test_subset_entropies_rejects_bad_workers():
    p = np.full((2,) * 12, 2.0**-12)
    with pytest.raises(ValueError, match="workers"):
        information.subset_entropies(p, workers=0)


# ---------------------------------------------------------------------------------------------
# CCL Lemma 13, Lemma 8, Han's inequality, LZ profile


@given(p=laws(max_n=5))
@settings(max_examples=40)
def test_lemma13_curve_from_entropy_curve_is_mean_mutual_information(p):
    assert np.allclose(information.information_curve(p), brute_force_curve(p), rtol=0, atol=1e-12)


@given(p=laws(max_n=5))
@settings(max_examples=30)
def test_conditional_entropies_are_increments_of_the_entropy_curve(p):
    hbar = information.entropy_curve(p)
    h = brute_force_conditional_entropies(p)
    assert hbar[0] == 0.0
    assert np.allclose(np.diff(hbar), h, rtol=0, atol=1e-12)  # Hbar_{a+1} - Hbar_a = H_a
    z = information.information_curve(p)
    assert np.allclose(information.curve_from_conditional_entropies(h), z, rtol=0, atol=1e-12)  # Z_{a+1} = H_0 - H_a
    assert np.allclose(information.conditional_entropies_from_curve(z, h[0]), h, rtol=0, atol=1e-12)


@given(p=laws(max_n=6, max_states=729, min_n=1))
@settings(max_examples=60)
def test_lemma8_tc_dtc_and_han(p):
    n = p.ndim
    z = information.information_curve(p)
    tc, dtc = information.total_correlation(p), information.dual_total_correlation(p)
    joint = direct_entropy(p, range(n))
    # CCL Def 7 written out independently
    assert tc == pytest.approx(sum(direct_entropy(p, [i]) for i in range(n)) - joint, abs=1e-12)
    leave_one_out = [direct_entropy(p, [j for j in range(n) if j != i]) for i in range(n)]
    assert dtc == pytest.approx(joint - sum(joint - h for h in leave_one_out), abs=1e-12)
    # Lemma 8: TC = sum Z, DTC = n Z_n - TC, sum_i I(X_i; X_-i) = n Z_n
    assert z.sum() == pytest.approx(tc, abs=1e-12)
    assert n * z[-1] - z.sum() == pytest.approx(dtc, abs=1e-12)
    assert information.tc_from_curve(z) == pytest.approx(tc, abs=1e-12)
    assert information.dtc_from_curve(z) == pytest.approx(dtc, abs=1e-12)
    rest = [direct_mutual_information(p, i, [j for j in range(n) if j != i]) for i in range(n)]
    assert sum(rest) == pytest.approx(n * z[-1], abs=1e-12)
    # Han's inequality: 0 = Z_1 <= Z_2 <= ... <= Z_n
    assert z[0] == 0.0
    assert np.all(np.diff(z) >= -1e-12)
    # LZ profile: f >= 0 and D = sum f = (TC + DTC) / n
    f = information.profile_from_curve(z)
    assert f.shape == (n - 1,)
    assert np.all(f >= -1e-12)
    assert f.sum() == pytest.approx((tc + dtc) / n, abs=1e-12)


def test_entropy_curve_end_points():
    p = np.random.default_rng(5).dirichlet(np.ones(3**4)).reshape((3,) * 4)
    hbar = information.entropy_curve(p)
    assert hbar.shape == (5,)
    assert hbar[0] == 0.0
    assert hbar[4] == pytest.approx(direct_entropy(p, range(4)), abs=1e-12)
    assert hbar[1] == pytest.approx(np.mean([direct_entropy(p, [i]) for i in range(4)]), abs=1e-12)
    assert hbar[2] == pytest.approx(np.mean([direct_entropy(p, s) for s in itertools.combinations(range(4), 2)]), abs=1e-12)


# ---------------------------------------------------------------------------------------------
# closed forms


def test_two_equal_bits():
    p = np.array([[0.5, 0.0], [0.0, 0.5]])
    assert np.allclose(information.information_curve(p), [0.0, LN2], atol=1e-15)
    assert information.total_correlation(p) == pytest.approx(LN2, abs=1e-15)
    assert information.dual_total_correlation(p) == pytest.approx(LN2, abs=1e-15)


def test_xor_of_three_bits():
    """Uniform on even-parity strings of length 3: pairwise independent, Z = (0, 0, ln 2)."""
    p = np.zeros((2, 2, 2))
    for x in itertools.product([0, 1], repeat=3):
        p[x] = 0.25 * (sum(x) % 2 == 0)
    assert np.allclose(information.information_curve(p), [0.0, 0.0, LN2], atol=1e-15)
    assert information.total_correlation(p) == pytest.approx(LN2, abs=1e-15)  # (n - d) ln 2
    assert information.dual_total_correlation(p) == pytest.approx(2 * LN2, abs=1e-15)  # d ln 2


@pytest.mark.parametrize("n, q", [(2, 2), (5, 3), (12, 2)])
def test_copies_of_one_uniform_symbol(n, q):
    p = np.zeros((q,) * n)
    for a in range(q):
        p[(a,) * n] = 1.0 / q
    z = information.information_curve(p)
    assert np.allclose(z, [0.0] + [math.log(q)] * (n - 1), atol=1e-12)
    assert information.total_correlation(p) == pytest.approx((n - 1) * math.log(q), abs=1e-12)
    assert information.dual_total_correlation(p) == pytest.approx(math.log(q), abs=1e-12)


def test_product_law_has_zero_curve():
    rng = np.random.default_rng(0)
    p = np.ones(())
    for _ in range(9):
        p = np.multiply.outer(p, rng.dirichlet(np.ones(2)))
    assert np.allclose(information.information_curve(p), 0.0, atol=1e-12)
    assert information.total_correlation(p) == pytest.approx(0.0, abs=1e-12)
    assert information.dual_total_correlation(p) == pytest.approx(0.0, abs=1e-12)


def test_log_binomial():
    assert information.log_binomial(5, 2) == pytest.approx(math.log(10))
    assert information.log_binomial(40, 20) == pytest.approx(math.log(math.comb(40, 20)))
    assert information.log_binomial(5, 0) == 0.0
    assert information.log_binomial(5, 6) == -np.inf
    assert information.log_binomial(5, -1) == -np.inf


# ---------------------------------------------------------------------------------------------
# input validation


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([1.0]), "shape"),
        (np.full((2, 3), 1 / 6), "shape"),
        (np.array([[0.5, 0.6], [0.0, -0.1]]), "nonnegative"),
        (np.array([[0.5, 0.6], [0.0, 0.1]]), "sum to 1"),
        (np.array([np.nan, 1.0]), "finite"),
    ],
)
def test_check_pmf_rejects(bad, message):
    with pytest.raises(ValueError, match=message):
        information.check_pmf(bad)


def test_check_curve_rejects():
    with pytest.raises(ValueError, match="nondecreasing"):
        information.check_curve([0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="finite"):
        information.check_curve([0.0, np.inf])
    with pytest.raises(ValueError, match="1-d"):
        information.check_curve(np.zeros((2, 2)))
    assert np.array_equal(information.check_curve([0.0, 1.0, 1.0 - 1e-12]), [0.0, 1.0, 1.0 - 1e-12])
