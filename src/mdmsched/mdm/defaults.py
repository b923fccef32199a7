"""Defaults of a trained model's config entry (``data`` of synthetic models and ``evaluation``), and
the held-out sequences an entry asks for. Torch-free, so that the workflow's config check
(:func:`mdmsched.config.check_workflow_config`) and the pipeline (:mod:`mdmsched.mdm.pipeline`) read
the same values."""

from __future__ import annotations

from .. import rule_tables

__all__ = ["DATA_DEFAULTS", "EVALUATION_DEFAULTS", "held_out_requests", "check_held_out"]

DATA_DEFAULTS = {"train_sequences": 50000, "validation_sequences": 2000}  # synthetic families: samples drawn
EVALUATION_DEFAULTS = {
    "ks": [2, 4, 8, 16, 32],
    "eps": [0.5, 1.0, 2.0],  # targets of the TC / DTC schedules (nats)
    "curve_sequences": 1000,  # held-out sequences for the curve estimate
    "curve_points": None,  # revealed counts a measured (geometric grid; None: every a = 0..n-1)
    "curve_statistic": "cross_entropy",  # or "entropy" (the oracle's predictive entropy: lower variance)
    "curve_orders": 1,  # random orders per held-out sequence for the curve estimate
    "kl_samples": 1000,  # samples of mu per Monte Carlo expected KL (synthetic)
    "gap_sequences": 256,  # held-out sequences per factorization gap (text)
    "reference_samples": 4000,  # Monte Carlo reference curve when no closed form exists
    "bootstrap": 200,
    "samples": 4,  # sequences drawn per sampling schedule
    # adaptive unmasking rules driven by the model (mdmsched.rule_tables); the exact oracle also runs
    # them at one step and at unit steps (k = 1, n), where CCL Thm 4 gives the exact value
    "rules": list(rule_tables.DEFAULT_RULES),
    "rules_nfe": None,  # step counts of the scheduled rules (None: n/8, n/4, n/2)
    "rules_gammas": [1.0],  # EB-sampler entropy budgets (nats)
    "rules_taus": [0.9],  # Fast-dLLM confidence thresholds
    "rules_samples": 16,  # samples of mu (synthetic) or held-out sequences (text)
    "rules_paths": 2,  # importance trajectories per sequence (sample-then-choose rules)
    "device": None,  # None: cuda when available
}


def held_out_requests(spec: dict) -> dict[str, int]:
    """Held-out sequences an entry's evaluation reads, per ``evaluation`` key (defaults filled in):
    ``curve_sequences``, and for a text corpus also ``gap_sequences`` and ``rules_samples`` (synthetic
    rules draw fresh samples of the law)."""
    settings = {**EVALUATION_DEFAULTS, **(spec.get("evaluation") or {})}
    keys = ("curve_sequences",) if "family" in (spec.get("data") or {}) else (
        "curve_sequences", "gap_sequences", "rules_samples")
    return {key: int(settings[key]) for key in keys}


def check_held_out(spec: dict, available: int, where: str = "") -> None:
    """Raise ValueError naming the ``evaluation`` key when the entry asks for more held-out
    sequences than the ``available`` ones (the evaluation never silently uses fewer)."""
    for key, wanted in held_out_requests(spec).items():
        if wanted > available:
            raise ValueError(f"evaluation.{key}={wanted} exceeds the {available} held-out sequences {where}".rstrip())
