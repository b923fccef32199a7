"""Lavenant-Zanella experiments (mdmsched.experiments.lz) at tiny sizes: the numbers they tabulate.

Identities to 1e-12 (LZ form = CCL Thm 4 = brute force; KL = E_fact + E_learn for fixed planners),
the block-copy worst case (N - K) ln q exactly, zero bound violations, and the continuum limits
within the stated rates.
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
    assert saved == sorted(name for names in panels.FIGURES.values() for name in names)
    assert set(panels.FIGURES) == {"identities", "profiles", "error_vs_k", "worst_case", "dimension_free", "scaling_limit", "optimal_path", "gaussian"}
    for name in ("gaussian_table", "gaussian_steps_table", "worst_case_table", "scaling_table"):
        assert len(getattr(panels, name)(tables)) > 0
