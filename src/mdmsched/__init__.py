"""mdmsched: unmasking schedules for masked diffusion models.

Exact theory of Chen, Cong, Li (COLT 2026) and Lavenant, Zanella (2025): information curves, the
exact expected KL of random-order parallel unmasking, optimal and data-agnostic schedules.
All quantities are in nats.
"""

from .error import expected_kl, expected_kl_bruteforce, expected_kl_monte_carlo, mixture_kl
from .information import (
    dual_total_correlation,
    entropy_curve,
    information_curve,
    profile_from_curve,
    total_correlation,
)
from .evaluation import steps_to_reach
from .schedules import SCHEDULES, optimal_schedule, schedule, validate_sizes
from .unmasking import unmasking_law

__all__ = [
    "SCHEDULES",
    "dual_total_correlation",
    "entropy_curve",
    "expected_kl",
    "expected_kl_bruteforce",
    "expected_kl_monte_carlo",
    "information_curve",
    "mixture_kl",
    "optimal_schedule",
    "profile_from_curve",
    "schedule",
    "steps_to_reach",
    "total_correlation",
    "unmasking_law",
    "validate_sizes",
]
__version__ = "0.1.0"
