"""Lavenant-Zanella experiments (mdmsched.experiments.lz) at tiny sizes: the numbers they tabulate.

Identities to 1e-12 (LZ form = CCL Thm 4 = brute force; KL = E_fact + E_learn for fixed planners),
the block-copy worst case (N - K) ln q exactly, zero bound violations, the exact large-N curve
helpers against enumeration, and the continuum limits within the stated rates.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from mdmsched import distributions, error, information, schedules  # noqa: E402
from mdmsched.experiments import lz, run_experiment  # noqa: E402

EXACT = 1e-12


# --- exact curve helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, q, stay", [(9, 2, 0.9), (8, 3, 0.6), (11, 2, 0.55), (6, 2, 1.0)])
def test_markov_curve_matches_enumeration(n, q, stay):
    chain = distributions.MarkovChain.symmetric(n, q, stay)
    assert np.abs(lz.markov_information_curve(chain) - chain.information_curve()).max() <= 1e-12


def test_markov_curve_nonsymmetric_stationary_chain():
    transition = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    chain = distributions.MarkovChain(8, transition)
    assert np.abs(lz.markov_information_curve(chain) - chain.information_curve()).max() <= 1e-12
    with pytest.raises(ValueError, match="stationary"):
        lz.markov_information_curve(distributions.MarkovChain(8, transition, init=np.array([1.0, 0.0, 0.0])))


def test_markov_limit_profile_is_the_limit_of_n_f():
    n = 4096
    z = lz.markov_information_curve(distributions.MarkovChain.symmetric(n, 2, 0.9))
    u = np.arange(1, n) / n
    g = lz.markov_limit_profile(distributions.MarkovChain.symmetric(8, 2, 0.9), u)
    assert np.abs(n * np.diff(z) - g).max() <= 5 / n * g.max()
    # Z(1) = 2 I(1) - I(2) is the integral of g
    assert abs(np.trapezoid(lz.markov_limit_profile(distributions.MarkovChain.symmetric(8, 2, 0.9), lz._GRID), lz._GRID) - z[-1]) < 1e-3


@pytest.mark.parametrize("blocks, q", [((3, 2, 1), 3), ((4,) * 5, 2), ((1, 5, 2, 2, 7), 3)])
def test_block_copy_curve_matches_core(blocks, q):
    assert np.abs(lz.block_copy_information_curve(blocks, q) - distributions.BlockCopy(blocks, q).information_curve()).max() <= 1e-12


def test_discretized_profile_is_a_curve_with_exact_profile():
    g = lz.SYNTHETIC_PROFILES["exp"]
    z = information.check_curve(lz.discretized_profile_curve(g, 500))
    assert z[0] == 0.0
    l = np.arange(1, 500)
    assert np.allclose(500 * information.profile_from_curve(z), g(l / 500), rtol=0, atol=1e-13)


def test_continuum_predictions_closed_forms():
    power = lz.continuum_predictions(lz.SYNTHETIC_PROFILES["power"])  # g = 3u^2: G = sqrt(3) u^2 / 2
    assert power["D"] == pytest.approx(1.0, abs=1e-10)
    assert power["sqrt_integral"] == pytest.approx(math.sqrt(3) / 2, abs=1e-10)
    t = np.linspace(0, 1, 11)
    assert np.allclose(power["alpha"](t), np.sqrt(t), atol=1e-4)  # alpha* = sqrt(t)
    flat = lz.SYNTHETIC_PROFILES["flat"]
    for c in (2, 4, 8):  # integer c: constant size c is optimal, E = (c - 1)/2
        assert lz.integer_continuum_optimum(flat, c) == pytest.approx((c - 1) / 2, abs=1e-6)
        assert lz.sqrt_rule_bounded_limit(flat, c) == pytest.approx((c - 1) / 2, abs=1e-9)
    # the integer-size optimum lies above the real-valued formula (c/2)(int sqrt g)^2 - D/2, and meets it as c grows
    g = lz.SYNTHETIC_PROFILES["exp"]
    pred = lz.continuum_predictions(g)
    gaps = [lz.integer_continuum_optimum(g, c) / (c / 2 * pred["sqrt_integral"] ** 2 - pred["D"] / 2) - 1 for c in (4, 16, 64)]
    assert all(gap >= -1e-9 for gap in gaps) and gaps[-1] < gaps[0] and gaps[-1] < 2e-3


# --- experiments ---------------------------------------------------------------------------------


def test_identities_exact():
    table = run_experiment("lz_identities", {"schedules_per_family": 1, "bruteforce_limit": 200}, seed=1)
    assert (table.lz_form - table.thm4).abs().max() <= EXACT
    finite = table[table.family != "gaussian"]
    assert (finite.curve_closed_vs_enumerated.abs() <= 1e-12).all()
    assert (finite.kl_fixed - finite.e_fact_fixed_tc - finite.e_learn_fixed).abs().max() <= EXACT
    assert (finite.e_fact_fixed_kl - finite.e_fact_fixed_tc).abs().max() <= EXACT
    brute = finite.dropna(subset=["bruteforce"])
    assert len(brute) >= 3
    assert (brute.bruteforce - brute.thm4).abs().max() <= EXACT
    assert (brute.kl_mixture <= brute.e_fact_random + brute.e_learn_random + EXACT).all()
    gaussian = table[table.family == "gaussian"]
    assert (gaussian.closed_form - gaussian.thm4).abs().max() <= EXACT


def test_worst_case_block_copy():
    table = run_experiment("lz_worst_case", {"q": 3, "block_lengths": [2, 3], "n_values": [6, 12, 48]})
    example = table[table.blocks == "3-2-1"].iloc[0]
    assert abs(example.deterministic_exact - 3 * math.log(3)) <= EXACT  # LZ: N = 6, q = 3, sizes (3,2,1)
    exact = table.dropna(subset=["deterministic_exact"])
    assert len(exact) >= 3
    assert ((exact.deterministic_exact - (exact.n - exact.k) * np.log(3)).abs() <= EXACT).all()
    assert (table.random_thm4 <= table.bound_smax + EXACT).all()
    brute = table.dropna(subset=["random_bruteforce"])
    assert (brute.random_bruteforce - brute.random_thm4).abs().max() <= EXACT
    assert (table[table.n == 48].random_thm4 < 3).all()  # bounded, while (N - K) ln q is 26 or 35


def test_error_vs_k_and_profiles_respect_bounds():
    table = run_experiment("lz_error_vs_k", {"n": 16, "k_points": 6})
    assert not table.violates_smax.any() and not table.violates_worst.any()
    assert (table.e_fact - table.thm4).abs().max() <= EXACT
    best = table[table.schedule == "optimal"].set_index(["family", "k"]).e_fact
    joined = table.join(best.rename("best"), on=["family", "k"])
    assert (joined.e_fact >= joined.best - EXACT).all()
    profiles = run_experiment("lz_profiles", {"n": 16})
    assert profiles.f.min() >= -EXACT
    for _, rows in profiles.groupby("family"):
        assert rows.f.sum() == pytest.approx((rows.tc.iloc[0] + rows.dtc.iloc[0]) / 16, abs=1e-12)


def test_dimension_free_bound_and_equality():
    table = run_experiment("lz_dimension_free", {"n_values": [16, 64, 256], "ratios": [2, 4]})
    assert not table.violates.any()
    equal = table[table.family == "all_equal"]
    assert (equal.e_fact - equal.bound).abs().max() <= EXACT
    assert (table.e_fact <= table.bound_log_q.fillna(np.inf) + EXACT).all()


def test_scaling_limits_converge_at_the_stated_rates():
    table = run_experiment(
        "lz_scaling_limit",
        {"profiles": ["power", "markov", "block_copy"], "k_values": [8, 16], "n_factor": 16, "ratios": [4], "n_values": [256, 512]},
    )
    err = (table.measured / table.prediction - 1).abs()
    a = table.regime == "A"
    assert (err[a] <= 2 / table.k[a]).all()
    assert (err[~a] <= 20 / table.n[~a]).all()
    # regime A: the error shrinks with K for every profile and schedule
    for _, rows in table[a].groupby(["profile", "schedule"]):
        values = err[rows.sort_values("k").index].to_numpy()
        assert values[-1] < values[0]


def test_gaussian_dyadic_optimum_and_errors():
    dyadic = run_experiment("lz_gaussian_dyadic", {"k_values": [2, 3, 4, 5, 6, 7, 8]})
    assert dyadic.dp_is_dyadic.all()
    assert (dyadic.min_neighbour_margin > 0).all()
    assert (dyadic.e_dp - dyadic.e_dyadic).abs().max() <= EXACT
    errors = run_experiment("lz_gaussian_errors", {"n_values": [256], "k_values": [8, 10]})
    assert (errors.e_fact - errors.thm4).abs().max() <= EXACT
    row = errors[(errors.k == 8) & (errors.schedule == "optimal")].iloc[0]
    assert row.counts == "1-3-7-15-31-63-127-256"
    steps = run_experiment("lz_gaussian_steps", {"n_values": [16, 64], "eps": 0.1})
    assert (steps.e_fact_at_k_min <= 0.1 + EXACT).all() and (steps.e_fact_below.dropna() > 0.1).all()


def test_report_panels_on_small_tables(tmp_path):
    """Every panel draws from small tables and saves its figures (the verdicts: test_claims_lz)."""
    from mdmsched.plots import lz as panels

    tables, figures = tmp_path / "tables", tmp_path / "figures"
    params = {
        "lz_identities": {"schedules_per_family": 1, "bruteforce_limit": 100},
        "lz_profiles": {"n": 16},
        "lz_error_vs_k": {"n": 16, "k_points": 5},
        "lz_worst_case": {"q": 3, "block_lengths": [2, 3], "n_values": [6, 12, 24]},
        "lz_dimension_free": {"n_values": [16, 32, 64], "ratios": [2, 4]},
        "lz_scaling_limit": {"profiles": ["flat", "power", "markov"], "k_values": [4, 8], "n_factor": 4, "ratios": [4], "n_values": [64, 128]},
        "lz_optimal_path": {"profiles": ["flat", "power", "markov", "block_copy"], "n": 1024, "k": 8, "profile_n_values": [256, 1024]},
        "lz_gaussian_errors": {"n_values": [256], "k_values": [8, 10]},
        "lz_gaussian_steps": {"n_values": [16, 64, 256]},
        "lz_gaussian_dyadic": {"k_values": [2, 3, 4, 5]},
    }
    for name, settings in params.items():
        run_experiment(name, settings, out=tables / f"{name}.csv")
    for panel in (panels.identities, panels.profiles, panels.error_vs_k, panels.worst_case, panels.dimension_free, panels.scaling_limit, panels.optimal_path, panels.gaussian):
        panel(tables, figures)
    matplotlib.pyplot.close("all")
    saved = sorted(path.stem for path in figures.glob("*.png"))
    assert saved == sorted(["lz_identities", "lz_profiles", "lz_error_vs_k", "lz_worst_case", "lz_dimension_free", "lz_scaling_limit", "lz_optimal_path", "lz_limit_profiles", "lz_gaussian"])
    for name in ("gaussian_table", "gaussian_steps_table", "worst_case_table", "scaling_table"):
        assert len(getattr(panels, name)(tables)) > 0
