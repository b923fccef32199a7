"""Continuum-limit theory of Lavenant-Zanella (mdmsched.limits): closed forms of the predictions."""

import math

import numpy as np
import pytest

from mdmsched import information, limits


def test_discretized_profile_is_a_curve_with_exact_profile():
    g = limits.SYNTHETIC_PROFILES["exp"]
    z = information.check_curve(limits.discretized_profile_curve(g, 500))
    assert z[0] == 0.0
    l = np.arange(1, 500)
    assert np.allclose(500 * information.profile_from_curve(z), g(l / 500), rtol=0, atol=1e-13)


def test_continuum_predictions_closed_forms():
    power = limits.continuum_predictions(limits.SYNTHETIC_PROFILES["power"])  # g = 3u^2: G = sqrt(3) u^2 / 2
    assert power["D"] == pytest.approx(1.0, abs=1e-10)
    assert power["sqrt_integral"] == pytest.approx(math.sqrt(3) / 2, abs=1e-10)
    t = np.linspace(0, 1, 11)
    assert np.allclose(power["alpha"](t), np.sqrt(t), atol=1e-4)  # alpha* = sqrt(t)
    flat = limits.SYNTHETIC_PROFILES["flat"]
    for c in (2, 4, 8):  # integer c: constant size c is optimal, E = (c - 1)/2
        assert limits.integer_continuum_optimum(flat, c) == pytest.approx((c - 1) / 2, abs=1e-6)
        assert limits.sqrt_rule_bounded_limit(flat, c) == pytest.approx((c - 1) / 2, abs=1e-9)
    # the integer-size optimum lies above the real-valued formula (c/2)(int sqrt g)^2 - D/2, and meets it as c grows
    g = limits.SYNTHETIC_PROFILES["exp"]
    pred = limits.continuum_predictions(g)
    gaps = [limits.integer_continuum_optimum(g, c) / (c / 2 * pred["sqrt_integral"] ** 2 - pred["D"] / 2) - 1 for c in (4, 16, 64)]
    assert all(gap >= -1e-9 for gap in gaps) and gaps[-1] < gaps[0] and gaps[-1] < 2e-3


@pytest.mark.parametrize("name", ["flat", "power", "exp", "markov", "block_copy"])
def test_limit_profiles_integrate_to_the_limit_of_the_curves(name):
    """int_0^1 g = lim Z_N (D in the limit), checked on the exact curve at N = 4096."""
    spec = limits.limit_profile(name)
    total = limits.continuum_predictions(spec["g"])["D"]
    assert spec["curve"](4096)[-1] == pytest.approx(total, rel=2e-3)
    with pytest.raises(ValueError, match="unknown limit profile"):
        limits.limit_profile("nope")
