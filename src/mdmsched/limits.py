"""Continuum-limit theory of Lavenant, Zanella (2025): profiles g(u) = lim_N N f(uN) and what the
optimal and square-root schedules cost in the limit.

Notation LZ: N tokens, K steps, information profile f(l) = Z_{l+1} - Z_l (nats), D = sum f. As
N -> infinity with N f(uN) -> g(u), the square-root rule's schedule tends to
alpha*(t) = G^{-1}(t G(1)), G(u) = int_0^u sqrt g, and the optimal error to (1/2K)(int sqrt g)^2
(LZ Thm on the scaling limit); in the bounded regime N / K -> c the error has a finite limit too.

Profiles: synthetic ones (:data:`SYNTHETIC_PROFILES`, discretized exactly by
:func:`discretized_profile_curve`) and real laws whose exact curves converge (a stationary Markov
chain, block-copy laws), all through :func:`limit_profile`.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import optimize

from . import distributions

__all__ = [
    "GRID",
    "SYNTHETIC_PROFILES",
    "discretized_profile_curve",
    "limit_profile",
    "continuum_predictions",
    "integer_continuum_optimum",
    "sqrt_rule_bounded_limit",
]

GRID = np.linspace(0.0, 1.0, 200_001)  # quadrature grid of the continuum predictions

# Synthetic continuous profiles (each with int g = 1).
EXP_RATE = 6.0
SYNTHETIC_PROFILES: dict[str, Callable] = {
    "flat": lambda u: np.ones_like(np.asarray(u, dtype=np.float64)),
    "power": lambda u: 3.0 * np.asarray(u, dtype=np.float64) ** 2,
    "exp": lambda u: EXP_RATE * np.exp(-EXP_RATE * np.asarray(u, dtype=np.float64)) / (1 - math.exp(-EXP_RATE)),
}


def discretized_profile_curve(g: Callable, n: int) -> np.ndarray:
    """The curve of a continuous profile g on [0, 1] at N points: f(l) = g(l/N)/N, l = 1..N-1, and
    Z_1 = 0, Z_{j+1} = Z_j + f(j). It is a legitimate information curve (Z_1 = 0, nondecreasing) whose
    rescaled profile N f(uN) equals g exactly, so LZ's continuum limits hold with no model error."""
    l = np.arange(1, n, dtype=np.float64)
    f = np.maximum(np.asarray(g(l / n), dtype=np.float64), 0.0) / n
    return np.concatenate([[0.0], np.cumsum(f)])


def limit_profile(name: str) -> dict:
    """A profile with a continuum limit: dict(g, curve(n), label).

    Synthetic profiles are discretized exactly (:func:`discretized_profile_curve`); ``markov`` (q=2,
    stay 0.9) and ``block_copy`` (blocks of 4, q=2) are real laws whose exact curves converge to g
    (:meth:`mdmsched.distributions.MarkovChain.limit_profile`,
    :meth:`mdmsched.distributions.BlockCopy.limit_profile`). Raises ValueError for another name."""
    if name in SYNTHETIC_PROFILES:
        g = SYNTHETIC_PROFILES[name]
        labels = {"flat": "g = 1", "power": "g = 3u^2", "exp": f"g ~ exp(-{EXP_RATE:g} u)"}
        return {"g": g, "curve": lambda n: discretized_profile_curve(g, n), "label": f"synthetic {labels[name]}"}
    if name == "markov":
        nodes = np.linspace(0.0, 1.0, 20_001)  # g is smooth: tabulated once, linear interpolation error < 1e-8
        table = distributions.MarkovChain.symmetric(8, 2, 0.9).limit_profile(nodes)
        return {
            "g": lambda u: np.interp(u, nodes, table),
            "curve": lambda n: distributions.curve("markov", n, q=2, stay=0.9),
            "label": "Markov chain (q=2, stay 0.9)",
        }
    if name == "block_copy":
        return {
            "g": distributions.BlockCopy.limit_profile(4, 2),
            "curve": lambda n: distributions.curve("block_copy", n, block_sizes=[4] * (n // 4), q=2),
            "label": "block copy (blocks of 4, q=2)",
        }
    raise ValueError(f"unknown limit profile {name!r}; expected one of {sorted(SYNTHETIC_PROFILES) + ['markov', 'block_copy']}")


def _integrate(values) -> float:
    from scipy.integrate import simpson

    return float(simpson(values, x=GRID))


def continuum_predictions(g: Callable) -> dict:
    """int g (= D in the limit), (int sqrt g)^2, and alpha*(t) = G^{-1}(t G(1)) on a fine grid (LZ)."""
    values = np.maximum(np.asarray(g(GRID), dtype=np.float64), 0.0)
    root = np.sqrt(values)
    big_g = np.concatenate([[0.0], np.cumsum((root[1:] + root[:-1]) / 2 * np.diff(GRID))])
    return {
        "D": _integrate(values),
        "sqrt_integral": _integrate(root),
        "alpha": lambda t: np.interp(np.asarray(t) * big_g[-1], big_g, GRID),
    }


def _best_integer_size(g_values, lam):
    """argmin over integers s >= 1 of (s - 1) g / 2 + lam / s, and the minimum."""
    continuous = np.sqrt(2 * lam / np.maximum(g_values, 1e-300))
    best_value = np.full_like(g_values, np.inf)
    best_size = np.ones_like(g_values)
    for s in (np.floor(continuous), np.ceil(continuous)):
        s = np.clip(s, 1.0, 1e12)
        value = (s - 1) * g_values / 2 + lam / s
        better = value < best_value
        best_value = np.where(better, value, best_value)
        best_size = np.where(better, s, best_size)
    return best_size, best_value


def integer_continuum_optimum(g: Callable, ratio: float) -> float:
    """Limit of the DP-optimal E_fact when N/K -> c = ``ratio`` (bounded regime), integer sizes.

    Locally a block of size s costs s (s - 1) g / (2N), so a schedule with local size s(u) pays
    E = 1/2 int (s(u) - 1) g(u) du subject to int 1/s(u) du = 1/c; sizes are integers, and mixing
    neighbouring sizes makes the local cost the chord of s -> (s - 1)/2 over 1/s. The optimum is the
    Lagrangian dual max_lam int min_{s in N} [(s - 1) g / 2 + lam / s] du - lam / c (strong duality
    for the convexified problem). Compare: the real-valued formula (c/2)(int sqrt g)^2 - D/2."""
    values = np.maximum(np.asarray(g(GRID), dtype=np.float64), 0.0)

    def negative_dual(lam):
        return -(_integrate(_best_integer_size(values, lam)[1]) - lam / ratio)

    top = ratio**2 * max(values.max(), 1e-12) * 4
    result = optimize.minimize_scalar(negative_dual, bounds=(0.0, top), method="bounded", options={"xatol": 1e-12})
    return float(-result.fun)


def sqrt_rule_bounded_limit(g: Callable, ratio: float) -> float:
    """Limit of E_fact for the discrete square-root rule when N/K -> c: its local mean size is
    sigma(u) = c G(1) / sqrt g(u) (needs sigma >= 1), realized by steps of floor and ceil of sigma;
    a fraction p = m + 1 - sigma of steps of size m = floor(sigma) gives a local cost per unit
    length [p m (m-1) + (1-p) m (m+1)] / (2 sigma) times g."""
    values = np.maximum(np.asarray(g(GRID), dtype=np.float64), 0.0)
    root = np.sqrt(values)
    sigma = ratio * _integrate(root) / np.maximum(root, 1e-300)
    if sigma.min() < 1 - 1e-9:
        return float("nan")
    sigma = np.minimum(sigma, 1e12)  # where g = 0 the cost is 0 whatever the size
    m = np.floor(sigma)
    p = m + 1 - sigma
    cost = (p * m * (m - 1) + (1 - p) * m * (m + 1)) / (2 * sigma)
    return _integrate(np.where(values > 0, cost * values, 0.0))
