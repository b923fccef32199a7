"""Schedules: the registry contract, the exact DP optimum (CCL Eq. 1) against brute force, the TC /
DTC schedules of CCL Thm 9 (formula and guarantees), Austin's schedules (CCL Cor 34, Thm 10) and
input validation."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdmsched import schedules as S
from mdmsched.distributions import make_family
from mdmsched.evaluation import steps_to_reach
from mdmsched.error import expected_kl, thm9_step_bound
from mdmsched.information import dtc_from_curve, tc_from_curve

# ---------------------------------------------------------------------------------------------
# random information curves: nondecreasing, Z_1 = 0


def random_curve(rng, n):
    """A nondecreasing curve with Z_1 = 0 of one of several shapes (smooth, sparse, heavy-tailed,
    single jump as for MDS codes, integer steps with many ties, flat)."""
    kind = rng.integers(7)
    m = n - 1
    if kind == 0:
        increments = rng.exponential(size=m)
    elif kind == 1:
        increments = rng.exponential(size=m) * (rng.random(m) < rng.random())
    elif kind == 2:
        increments = rng.pareto(1.0, size=m)
    elif kind == 3:
        increments = np.zeros(m)
        if m:
            increments[rng.integers(m)] = 1.0
    elif kind == 4:
        increments = rng.integers(0, 3, size=m).astype(float)
    elif kind == 5:
        increments = 1.0 / np.arange(1, m + 1) ** 2  # exchangeable-like profile f(l) ~ 1/l^2
    else:
        increments = np.zeros(m)
    scale = 10 ** rng.uniform(-3, 1)
    return np.concatenate([[0.0], np.cumsum(increments * scale)])


@st.composite
def curves(draw, max_n=10):
    n = draw(st.integers(1, max_n))
    return random_curve(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), n)


def compositions_with_parts(n, k):
    for cuts in itertools.combinations(range(1, n), k - 1):
        yield np.diff((0,) + cuts + (n,))


# ---------------------------------------------------------------------------------------------
# the DP optimum


@given(z=curves(max_n=10), data=st.data())
@settings(max_examples=150)
def test_optimal_schedule_equals_brute_force(z, data):
    n = len(z)
    k = data.draw(st.integers(1, n), label="k")
    sizes, error = S.optimal_schedule(z, k)
    assert len(sizes) == k and sizes.sum() == n and np.all(sizes >= 1)
    best = min(expected_kl(z, c) for c in compositions_with_parts(n, k))
    tolerance = 1e-12 * max(1.0, z[-1] * n)
    assert abs(error - best) <= tolerance
    assert abs(expected_kl(z, sizes) - error) <= tolerance  # the returned sizes achieve it


def naive_dp(z, k):
    """O(k n^2) reference: F_t(N) = min_{N'<N} F_{t-1}(N') + sum_{j=N'+1}^{N} (Z_j - Z_{N'+1})."""
    n = len(z)
    prefix = np.concatenate([[0.0], np.cumsum(z)])
    previous = np.full(n + 1, np.inf)
    previous[0] = 0.0
    for _ in range(k):
        current = np.full(n + 1, np.inf)
        for target in range(1, n + 1):
            cand = np.arange(target)
            current[target] = np.min(previous[cand] + prefix[target] - prefix[cand] - (target - cand) * z[cand])
        previous = current
    return previous[n]


def test_divide_and_conquer_dp_equals_naive_dp_on_larger_curves():
    rng = np.random.default_rng(3)
    for _ in range(10):
        n = int(rng.integers(20, 100))
        z = random_curve(rng, n)
        for k in sorted({1, 2, int(rng.integers(1, n + 1)), n - 1, n} - {0}):
            sizes, error = S.optimal_schedule(z, k)
            assert len(sizes) == k
            reference = naive_dp(z, k)
            assert error == pytest.approx(reference, abs=1e-10 * max(1.0, z[-1] * n))
            assert expected_kl(z, sizes) == pytest.approx(error, abs=1e-10 * max(1.0, z[-1] * n))


def test_optimal_schedule_known_answers():
    # MDS-like single jump after position 3 (CCL Prop 20): the optimum with 2 steps is (3, n - 3), error 0
    z = np.where(np.arange(1, 9) > 3, 1.0, 0.0)
    sizes, error = S.optimal_schedule(z, 2)
    assert list(sizes) == [3, 5] and error == 0.0
    # k = n is autoregressive (error 0); k = 1 is one shot (error TC)
    z = random_curve(np.random.default_rng(0), 30)
    assert S.optimal_schedule(z, 30)[1] == 0.0
    assert S.optimal_schedule(z, 1)[1] == pytest.approx(z.sum(), rel=1e-12)
    # the optimum is nonincreasing in k
    errors = [S.optimal_schedule(z, k)[1] for k in range(1, 31)]
    assert np.all(np.diff(errors) <= 1e-12)


def test_block_cost_is_the_theorem_summand():
    z = random_curve(np.random.default_rng(1), 12)
    sizes = [3, 1, 4, 4]
    counts = S.counts_from_sizes(sizes)
    costs = [S.block_cost(z, a, b) for a, b in itertools.pairwise(counts)]
    assert sum(costs) == pytest.approx(expected_kl(z, sizes), abs=1e-14)
    assert S.block_cost(z, 0, 4) == pytest.approx(z[0:4].sum() - 4 * z[0], abs=1e-14)


# ---------------------------------------------------------------------------------------------
# CCL Thm 9: TC and DTC schedules


def reference_thm9(n, eps, c, kind):
    """The Thm 9 construction of the spec in exact rational arithmetic (eps, c exact binary floats)."""
    zeta = 1 + math.ceil(Fraction(c) / Fraction(eps))
    if zeta >= n + 1:
        return [1] * n
    if zeta == 1:
        return [n]
    lam = math.floor(math.log(n - zeta + 1) / math.log(1 / (1 - 1 / zeta))) + 2
    if kind == "tc":
        counts = [0]
        for _ in range(lam):
            counts.append(math.floor(counts[-1] + Fraction(n - counts[-1], zeta)))
        counts += list(range(counts[-1] + 1, n + 1))
        sizes = np.diff(counts)
    else:
        remaining = [n]
        for _ in range(lam):
            remaining.append(math.ceil(remaining[-1] * Fraction(zeta - 1, zeta)))
        remaining += list(range(remaining[-1] - 1, -1, -1))
        sizes = np.diff(n - np.array(remaining))[::-1]
    return [int(s) for s in sizes if s > 0]


def test_thm9_schedules_follow_the_formula_exactly():
    rng = np.random.default_rng(9)
    cases = [(1026, 1.0, 170.0), (20, 1.0, 3.0), (1, 1.0, 1.0), (7, 0.5, 0.0), (100, 0.25, 1000.0)]
    for _ in range(150):
        cases.append((int(rng.integers(1, 3000)), 2.0 ** int(rng.integers(-3, 3)), float(rng.integers(0, 100))))
    for n, eps, c in cases:
        assert list(S.tc_schedule(n, eps, c)) == reference_thm9(n, eps, c, "tc"), (n, eps, c)
        assert list(S.dtc_schedule(n, eps, c)) == reference_thm9(n, eps, c, "dtc"), (n, eps, c)
    # regression: the float product M (1 - 1/zeta) overshot 1020 = 1026 * 170 / 171, adding a step
    assert S.dtc_schedule(1026, 1.0, 170.0)[-1] == 6


def test_thm9_guarantees_have_no_violations():
    """CCL Thm 9 over thousands of random curves: with C >= TC (resp. DTC), the TC (resp. DTC)
    schedule has expected KL <= eps and k <= 2 + (1 + ln n)(1 + ceil(C / eps))."""
    rng = np.random.default_rng(2026)
    violations, checked = [], 0
    for _ in range(1500):
        n = int(rng.integers(1, 400))
        z = random_curve(rng, n)
        tc, dtc = tc_from_curve(z), dtc_from_curve(z)
        eps = 10 ** rng.uniform(-2.5, 0.5) * max(min(tc, dtc), 1e-3)
        for factor in (1.0, rng.uniform(1.0, 2.0)):
            for name, build, truth in (("tc", S.tc_schedule, tc), ("dtc", S.dtc_schedule, dtc)):
                c = truth * factor
                sizes = build(n, eps, c)
                error = expected_kl(z, sizes)
                checked += 1
                if error > eps * (1 + 1e-12) or len(sizes) > thm9_step_bound(n, eps, c):
                    violations.append((name, n, eps, c, error, len(sizes)))
    assert checked == 6000
    assert violations == []


def test_thm9_shapes_and_extremes():
    tc_sizes = S.tc_schedule(1000, 0.5, 4.0)
    dtc_sizes = S.dtc_schedule(1000, 0.5, 4.0)
    assert np.all(np.diff(tc_sizes) <= 0)  # decreasing steps
    assert np.all(np.diff(dtc_sizes) >= 0)  # increasing steps
    # zeta = 1 + ceil(4 / 0.5) = 9: N_1 = floor(1000 / 9) = 111; M_1 = ceil(1000 * 8 / 9) = 889
    assert tc_sizes[0] == 111 and dtc_sizes[-1] == 111
    # tiny eps: zeta >= n + 1 gives n unit steps; C = 0 (a product law): one step
    assert list(S.tc_schedule(10, 1e-3, 5.0)) == [1] * 10
    assert list(S.dtc_schedule(10, 1e-3, 5.0)) == [1] * 10
    assert list(S.tc_schedule(10, 0.1, 0.0)) == [10]
    assert list(S.dtc_schedule(10, 0.1, 0.0)) == [10]


def test_one_shot_pays_tc_and_autoregressive_pays_nothing():
    rng = np.random.default_rng(4)
    for _ in range(50):
        z = random_curve(rng, int(rng.integers(1, 300)))
        n = len(z)
        assert expected_kl(z, S.one_shot(n)) == pytest.approx(tc_from_curve(z), rel=1e-12, abs=1e-15)
        assert expected_kl(z, S.autoregressive(n)) == 0.0


def test_austin_schedules_meet_eps_with_the_true_dtc():
    """CCL Cor 34 and Thm 10 (Austin): error <= eps given DTC; Thm 10 uses O(sqrt(DTC n / eps)) steps."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        n = int(rng.integers(2, 400))
        z = random_curve(rng, n)
        dtc = dtc_from_curve(z)
        eps = 10 ** rng.uniform(-2, 0.5) * max(dtc, 1e-3)
        cor34 = S.austin_cor34(n, eps, dtc)
        thm10 = S.austin_thm10(n, eps, dtc)
        assert expected_kl(z, cor34) <= eps * (1 + 1e-12)
        assert expected_kl(z, thm10) <= eps * (1 + 1e-12)
        k = min(math.floor(dtc * n / eps) + 1, n)
        assert list(cor34) == [1] * (k - 1) + [n - k + 1]
        assert len(thm10) <= 2 * math.sqrt(dtc * n / eps) + 2


def test_sweep_grid_powers_of_two():
    assert list(S.sweep_grid(100, 2, 0.3)) == [0.5, 1, 2, 4, 8, 16, 32, 64]  # 100 ln 2 = 69.3
    assert list(S.sweep_grid(3, 2, 5.0)) == [3 * math.log(2)]  # empty range: the top value


# ---------------------------------------------------------------------------------------------
# grid schedules: formulas


def test_uniform_cosine_polynomial_geometric_formulas():
    assert list(S.uniform(10, 3)) == [4, 3, 3]
    assert list(S.uniform(12, 4)) == [3, 3, 3, 3]
    i = np.arange(1, 11)
    assert list(S.counts_from_sizes(S.cosine(1000, 10))[1:]) == list(np.round(1000 * (1 - np.cos(np.pi * i / 20))))
    assert list(S.counts_from_sizes(S.polynomial(1000, 10, 2.0))[1:]) == list(np.round(1000 * (1 - (1 - i / 10) ** 2)))
    assert list(S.loglinear(100, 10)) == [10] * 10
    for k in range(1, 9):
        assert list(S.geometric(2**k - 1, k)) == [2**j for j in range(k)]  # N_i = 2^i - 1
    # collisions are repaired: every step reveals at least one token and exactly k steps are taken
    assert list(S.cosine(5, 5)) == [1] * 5
    assert list(S.geometric(6, 6)) == [1] * 6


def test_uniform_puts_the_remainder_first():
    """LLaDA's get_num_transfer_tokens / diffusers' BlockRefinementScheduler convention."""
    assert list(S.uniform(64, 43)) == [2] * 21 + [1] * 22


@given(n=st.integers(1, 400), data=st.data())
def test_balanced_sizes_are_as_equal_as_possible_and_spread_evenly(n, data):
    k = data.draw(st.integers(1, n))
    sizes = S.balanced(n, k)
    assert len(sizes) == k and sizes.sum() == n and sizes.min() >= 1
    assert set(sizes.tolist()) <= {n // k, -(-n // k)}  # differ by at most one
    counts = S.counts_from_sizes(sizes)
    # spread evenly: every run of consecutive steps reveals its share (j - i) n / k to within one token
    i, j = np.triu_indices(k + 1, 1)
    assert np.abs((counts[j] - counts[i]) - (j - i) * n / k).max() < 1
    # and the revealed counts are the integers nearest to the constant path i n / k
    assert np.abs(counts - np.arange(k + 1) * n / k).max() <= 0.5
    if n % k == 0:
        assert list(sizes) == list(S.uniform(n, k))


def test_balanced_versus_remainder_first_on_the_exchangeable_gaussian():
    """uniform(64, 43) starts with 21 steps of two tokens, where the profile f(l) ~ 1/(2 l^2) is
    largest; the balanced schedule alternates 1, 2 and pays less than half (CCL Thm 4)."""
    from mdmsched.distributions import ExchangeableGaussian

    z = ExchangeableGaussian(64, 1.0).information_curve()
    assert list(S.balanced(64, 43)) == [1, 2] * 21 + [1]
    assert list(S.balanced(10, 4)) == [3, 2, 3, 2]
    assert expected_kl(z, S.uniform(64, 43)) == pytest.approx(0.21998, abs=5e-5)
    assert expected_kl(z, S.balanced(64, 43)) == pytest.approx(0.09240, abs=5e-5)
    assert list(S.schedule("balanced", 64, k=43)) == list(S.balanced(64, 43))


def test_loglinear_bernoulli_variant():
    sizes = S.loglinear(200, 16, bernoulli=True, seed=3)
    assert sizes.sum() == 200 and len(sizes) <= 16
    assert list(S.loglinear(200, 16, bernoulli=True, seed=3)) == list(sizes)  # seeded
    # the expected number revealed per step is n / k: average over seeds
    first = np.mean([S.loglinear(200, 16, bernoulli=True, seed=s)[0] for s in range(400)])
    assert first == pytest.approx(200 / 16, rel=0.05)


def test_sqrt_rules():
    n, k = 64, 8
    # constant profile: the square-root rule is the uniform schedule
    assert list(S.sqrt_rule(n, k, np.ones(n - 1))) == [8] * 8
    assert list(S.sqrt_rule_continuum(n, k, lambda u: np.ones_like(u))) == [8] * 8
    # zero profile (a product law): falls back to uniform sizes
    assert list(S.sqrt_rule(n, k, np.zeros(n - 1))) == list(S.uniform(n, k))
    # f(l) = 1/l^2 has sqrt f = 1/l: the rule spaces counts geometrically
    sizes = S.sqrt_rule(1023, 10, 1.0 / np.arange(1, 1023) ** 2)
    assert np.all(np.diff(sizes) >= 0) and sizes[-1] > 50 * sizes[0]


# ---------------------------------------------------------------------------------------------
# the registry contract


def registry_calls(n, k, rng):
    z = random_curve(rng, n)
    tc, dtc = tc_from_curve(z), dtc_from_curve(z)
    eps = float(10 ** rng.uniform(-2, 1))
    return {
        "uniform": ({"k": k}, k),
        "balanced": ({"k": k}, k),
        "cosine": ({"k": k}, k),
        "loglinear": ({"k": k}, k),
        "polynomial": ({"k": k, "power": float(rng.choice([0.5, 1.0, 2.0, 3.0]))}, k),
        "geometric": ({"k": k}, k),
        "tc": ({"eps": eps, "tc": tc}, None),
        "dtc": ({"eps": eps, "dtc": dtc}, None),
        "optimal": ({"k": k, "z": z}, k),
        "sqrt": ({"k": k, "z": z}, k),
        "sqrt_continuum": ({"k": k, "g": lambda u: 1.0 / (u + 0.01) ** 2}, k),
        "austin_cor34": ({"eps": eps, "dtc": dtc}, None),
        "austin_thm10": ({"eps": eps, "dtc": dtc}, None),
        "one_shot": ({}, 1),
        "autoregressive": ({}, n),
    }


def test_every_registry_schedule_returns_positive_integers_summing_to_n():
    rng = np.random.default_rng(0)
    pairs = [(n, k) for n in range(1, 25) for k in range(1, n + 1)]
    pairs += [(n, k) for n in (100, 257) for k in (n - 1, n, int(rng.integers(1, n + 1)))]
    pairs += [(n, k) for n in (1000, 4096) for k in (1, 2, int(rng.integers(3, 65)))]  # DP is O(k n log n)
    for n, k in pairs:
        calls = registry_calls(n, k, rng)
        assert set(calls) == set(S.SCHEDULES)
        for name, (params, steps) in calls.items():
            sizes = S.schedule(name, n, **params)
            assert np.issubdtype(sizes.dtype, np.integer), name
            assert sizes.ndim == 1 and np.all(sizes >= 1) and sizes.sum() == n, (name, n, k, sizes)
            if steps is not None:
                assert len(sizes) == steps, (name, n, k, sizes)
    sizes = S.schedule("loglinear", 50, k=10, bernoulli=True, seed=1)
    assert sizes.sum() == 50 and len(sizes) <= 10


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: S.validate_sizes([1, 2], 4), "sum to n=4"),
        (lambda: S.validate_sizes([1.5, 2.5], 4), "integers"),
        (lambda: S.validate_sizes([0, 4], 4), "positive"),
        (lambda: S.validate_sizes([], 0), "nonempty"),
        (lambda: S.validate_sizes([[1, 2]], 3), "1-d"),
        (lambda: S.schedule("nope", 4), "unknown schedule 'nope'"),
        (lambda: S.schedule("uniform", 4, k=5), "k \\(number of steps\\)"),
        (lambda: S.schedule("cosine", 4, k=0), "k \\(number of steps\\)"),
        (lambda: S.schedule("geometric", 4, k=2.0), "k \\(number of steps\\)"),
        (lambda: S.schedule("uniform", 0, k=1), "n must be a positive integer"),
        (lambda: S.schedule("one_shot", -3), "n must be a positive integer"),
        (lambda: S.schedule("uniform", 10, kk=3), "bad parameters"),
        (lambda: S.schedule("tc", 10, eps=0.0, tc=1.0), "eps must be positive"),
        (lambda: S.schedule("dtc", 10, eps=-1.0, dtc=1.0), "eps must be positive"),
        (lambda: S.schedule("tc", 10, eps=float("nan"), tc=1.0), "eps must be positive"),
        (lambda: S.schedule("tc", 10, eps=1.0, tc=-1.0), "tc must be"),
        (lambda: S.schedule("dtc", 10, eps=1.0, dtc=-0.5), "dtc must be"),
        (lambda: S.schedule("austin_cor34", 10, eps=0.0, dtc=1.0), "eps must be positive"),
        (lambda: S.schedule("austin_thm10", 10, eps=1.0, dtc=-1.0), "dtc must be"),
        (lambda: S.schedule("polynomial", 10, k=3, power=0.0), "power must be positive"),
        (lambda: S.schedule("optimal", 10, k=3), "needs the information curve"),
        (lambda: S.schedule("optimal", 10, k=3, z=np.zeros(9)), "z must have n = 10"),
        (lambda: S.schedule("optimal", 3, k=4, z=np.zeros(3)), "k \\(number of steps\\)"),
        (lambda: S.schedule("sqrt", 10, k=3), "needs the information curve"),
        (lambda: S.sqrt_rule(10, 3, np.ones(5)), "profile must have n - 1 = 9"),
        (lambda: S.optimal_schedule([0.0, 1.0, 0.5], 2), "nondecreasing"),
        (lambda: S.sweep_grid(10, 2, 0.0), "eps must be positive"),
    ],
)
def test_bad_input_raises_value_errors_naming_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_optimal_path_and_errors_match_optimal_schedule():
    z = make_family("mixture", n=10).information_curve()
    path = S.optimal_path(z, range(1, 11))
    for k, (sizes, value) in path.items():
        reference, best = S.optimal_schedule(z, k)
        assert np.array_equal(sizes, reference) and value == pytest.approx(best, abs=1e-13)
    errors = S.optimal_errors(z, 10)
    assert np.all(np.diff(errors) <= 1e-13) and errors[-1] == pytest.approx(0, abs=1e-12)
    eps = 0.05
    k = steps_to_reach(z, eps, "optimal")
    assert errors[k - 1] <= eps < errors[k - 2]


def test_registry_records_say_how_to_build_each_schedule():
    """Every record's kind and needs are enough to build it: callers never branch on names."""
    z = np.concatenate([[0.0], np.cumsum(np.linspace(1.0, 0.1, 29))])  # a concave curve, n = 30
    for name, entry in S.SCHEDULES.items():
        assert entry.kind in ("steps", "target", "fixed") and entry.needs in (None, "curve", "tc", "dtc", "limit")
        assert entry.label and entry.colour and entry.marker and entry.reference
        params = {"steps": {"k": 5}, "target": {"eps": 0.5}, "fixed": {}}[entry.kind]
        if entry.needs == "limit":
            params["g"] = lambda u: 1.0 + 0 * u
        sizes = S.schedule(name, 30, z=z, **params)  # z is offered; only the schedules needing it read it
        assert sizes.sum() == 30
        if entry.kind == "steps":
            assert len(sizes) == 5, name
    # TC / DTC come from z unless an (upper) estimate is given
    assert np.array_equal(S.schedule("tc", 30, z=z, eps=0.5), S.schedule("tc", 30, eps=0.5, tc=tc_from_curve(z)))
    assert np.array_equal(S.schedule("dtc", 30, z=z, eps=0.5), S.schedule("dtc", 30, eps=0.5, dtc=dtc_from_curve(z)))
    assert S.names(kind="target") == ("tc", "dtc", "austin_cor34", "austin_thm10")
    assert set(S.names(needs="curve")) == {"sqrt", "optimal"}
    assert S.style("optimal") == {"color": "black", "marker": "*", "label": "DP optimum (Eq. 1)"}
    with pytest.raises(ValueError, match="needs the information curve"):
        S.schedule("optimal", 30, k=3)
