"""Shared test settings.

Hypothesis runs derandomized by default (the same examples on every run, as CI needs) and without
per-example deadlines (exact enumeration has uneven run times). ``HYPOTHESIS_PROFILE=explore``
draws fresh random examples, for local bug hunting.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
