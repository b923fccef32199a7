"""The parameters each experiment accepts: names, JSON types and ranges (JSON schema, draft 2020-12).

:func:`mdmsched.experiments.check_params` validates a parameter mapping against :func:`schema` (via
:func:`mdmsched.config.check_schema`) and the cross-parameter rules of :data:`RULES`, so the workflow
rejects a bad experiment config when the DAG is built and ``mdmsched experiment`` before it computes
anything. Every experiment's keyword parameters appear here (a test holds the two lists equal).
"""

from __future__ import annotations

__all__ = ["schema", "RULES"]


def _integer(minimum: int = 1, **extra) -> dict:
    return {"type": "integer", "minimum": minimum, **extra}


def _positive() -> dict:
    return {"type": "number", "exclusiveMinimum": 0}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items, "minItems": 1}


def _names(values) -> dict:
    return _array({"enum": sorted(values)})


def _family_specs() -> dict:
    """CCL family specs: ``family`` (a law of :data:`mdmsched.distributions.FAMILIES`), spec keys of :func:`mdmsched.experiments.ccl.resolve_spec`
    and the family's own parameters (checked by :func:`_check_family_specs`)."""
    from .. import distributions

    return _array({"type": "object", "required": ["family"],
                   "properties": {"family": {"enum": sorted(distributions.FAMILIES)},
                                  "label": {"type": "string"}, "n": _integer(2), "enumerate": {"type": "boolean"},
                                  "dim_fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                                  "codim": _integer(1), "eps": _positive(), "q_alphabet": _integer(2),
                                  "prefix": {"type": "boolean"}}})


def schema(name: str) -> dict:
    """JSON schema of the parameters of experiment ``name`` (KeyError for an unknown name)."""
    from .. import schedules
    from . import lz

    # schedules a user builds for k steps without the DP (the heuristics the experiments compare)
    k_schedules = sorted(set(schedules.names(kind="steps", needs=(None, "curve"))) - {"optimal"})
    identity_families = ["product", "tabular", "all_equal", "parity", "subspace", "reed_solomon", "mixture", "markov",
                         "beta_bernoulli", "block_copy"]
    monte_carlo_families = ["markov", "beta_bernoulli", "parity", "reed_solomon", "code_lift", "all_equal"]
    properties = {
        "ccl_figure1": {"sizes": _array(_integer()), "curve": {"type": ["array", "null"], "items": {"type": "number"}}},
        "ccl_identity": {"n": _integer(2), "samples": _integer(2), "families": _names(identity_families),
                         "mc_n": _integer(2), "mc_families": _names(monte_carlo_families)},
        "ccl_error_vs_k": {"n": _integer(2), "enumeration_n": _integer(2), "families": _family_specs(),
                           "k_points": {"type": ["integer", "null"], "minimum": 1}, "eps_points": _integer()},
        "ccl_steps_vs_n": {"n_min": _integer(2), "n_max": _integer(2), "eps": _positive(),
                           "families": _family_specs()},
        "ccl_rs_codes": {"n": _integer(2), "q": _integer(2), "samples": _integer(), "uniform_steps": _array(_integer()),
                         "grid_steps": _integer(), "eps": _positive()},
        "ccl_code_lift": {"n": _integer(2), "q": _integer(2), "stay": {"type": "number", "minimum": 0, "maximum": 1},
                          "steps": _array(_integer()), "samples": _integer(2),
                          "mc_dimensions": {"type": ["array", "null"], "items": _integer(), "minItems": 1},
                          "enumeration_n": _integer(2), "enumeration_q": _integer(2)},
        "ccl_appendix_e": {"ns": _array(_integer(2)),
                           "eps": _array({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
                           "k_factor": _positive()},
        "ccl_sweep": {"n": _integer(2), "enumeration_n": _integer(2), "eps": _array(_positive()),
                      "families": _family_specs()},
        "ccl_heuristics": {"n": _integer(2), "enumeration_n": _integer(2), "families": _family_specs(),
                           "k_points": _integer(), "eps_fractions": _array(_positive()), "names": _names(k_schedules)},
        "lz_identities": {"schedules_per_family": _integer(), "bruteforce_limit": _integer(),
                          "model_weight": {"type": "number", "minimum": 0, "maximum": 1}, "gaussian_n": _integer(2)},
        "lz_profiles": {"n": _integer(2), "families": _names(lz.FAMILY_LABELS)},
        "lz_error_vs_k": {"n": _integer(2), "k_points": _integer(), "families": _names(lz.FAMILY_LABELS),
                          "names": _names(set(k_schedules) | {"optimal"})},
        "lz_worst_case": {"q": _integer(2), "block_lists": _array(_array(_integer())),
                          "block_lengths": _array(_integer()), "n_values": _array(_integer(2)),
                          "exact_limit": _integer(), "bruteforce_limit": _integer()},
        "lz_dimension_free": {"n_values": _array(_integer(2)), "ratios": _array(_integer()),
                              "families": _names(lz.DIMENSION_FREE_FAMILIES)},
        "lz_scaling_limit": {"profiles": _names(lz.SCALING_PROFILES), "k_values": _array(_integer()),
                             "n_factor": _integer(), "ratios": _array(_integer()), "n_values": _array(_integer(2))},
        "lz_optimal_path": {"profiles": _names(lz.SCALING_PROFILES), "n": _integer(2), "k": _integer(),
                            "profile_points": _integer(2), "profile_n_values": _array(_integer(2))},
        "lz_gaussian_errors": {"rho": _positive(), "n_values": _array(_integer(2)), "k_values": _array(_integer())},
        "lz_gaussian_steps": {"rho": _positive(), "n_values": _array(_integer(2)), "eps": _positive()},
        "lz_gaussian_dyadic": {"rho": _positive(), "k_values": _array(_integer())},
        "unmasking_rules": {"n_exact": _integer(2), "n_mc": _integer(2), "samples": _integer(2),
                            "check_samples": _integer(2), "code_samples": _integer(2), "ks_exact": _array(_integer()),
                            "ks_mc": _array(_integer()), "gammas": _array(_positive()),
                            "taus": _array({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
                            "sis_samples": _integer(2), "paths": _integer()},
    }[name]
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _check_family_specs(params: dict) -> list[str]:
    """Problems with the family specs of a CCL experiment: each family's own parameters must be
    accepted by its curve (or family constructor)."""
    import inspect

    from .. import distributions
    from .ccl import _SPEC_KEYS

    from ..config import check_schema
    from .ccl import resolve_spec

    problems = []
    n = params.get("n", params.get("n_min"))
    for index, spec in enumerate(params.get("families") or ()):
        name = spec["family"]
        entry = distributions.FAMILIES[name]
        function = entry.closed_curve or entry.build
        signature = inspect.signature(function)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            accepted = set(signature.parameters) - {"n", "seed"}
            unknown = sorted(set(spec) - set(_SPEC_KEYS) - {"family"} - accepted)
            problems += [f"families[{index}].{key}: unknown parameter of family {name!r} "
                         f"(accepted: {', '.join(sorted(accepted | set(_SPEC_KEYS)))})" for key in unknown]
            if unknown:
                continue
        try:  # the family's own parameters at this length, in the shared ranges of make_family
            _, _, length, resolved, _ = resolve_spec(spec, n, params.get("enumeration_n"))
            check_schema({**resolved, "n": length}, {"properties": distributions.FAMILY_PARAMETERS},
                         f"families[{index}]")
        except (ValueError, TypeError, KeyError) as problem:
            problems += str(problem).splitlines()
    return problems


def _prime_q(params: dict) -> list[str]:
    from ..finite_field import check_prime

    try:
        check_prime(params["q"])
    except ValueError as problem:
        return [f"q: {problem}"]
    return []


def _rs_length(params: dict) -> list[str]:
    return [f"q: Reed-Solomon codes need q > n, got q={params['q']}, n={params['n']}"] if params["q"] <= params["n"] else []


def _steps_within(steps: str, lengths: str):
    def rule(params: dict) -> list[str]:
        k = max(params[steps]) if isinstance(params[steps], (list, tuple)) else params[steps]
        n = min(params[lengths]) if isinstance(params[lengths], (list, tuple)) else params[lengths]
        return [f"{steps}: {k} steps exceed {lengths} = {n}"] if k > n else []

    return rule


def _figure1_curve(params: dict) -> list[str]:
    from .. import distributions, information

    curve = distributions.FIGURE1_CURVE if params.get("curve") is None else params["curve"]
    try:
        information.check_curve(curve, name="curve")
    except ValueError as problem:
        return [str(problem)]
    if sum(params["sizes"]) != len(curve):
        return [f"sizes: sum {sum(params['sizes'])} must equal the {len(curve)} points of curve"]
    return []


def _ordered(low: str, high: str):
    def rule(params: dict) -> list[str]:
        if low in params and high in params and params[low] > params[high]:
            return [f"{low}: {params[low]} exceeds {high}={params[high]}"]
        return []

    return rule


# cross-parameter rules: name -> functions returning problems as "parameter: problem"
RULES = {
    "ccl_steps_vs_n": [_ordered("n_min", "n_max"), _check_family_specs],
    "ccl_error_vs_k": [_check_family_specs],
    "ccl_sweep": [_check_family_specs],
    "ccl_heuristics": [_check_family_specs],
    "ccl_code_lift": [_prime_q],
    "ccl_rs_codes": [_prime_q, _rs_length],
    "ccl_figure1": [_figure1_curve],
    "lz_optimal_path": [_steps_within("k", "n")],
    "lz_gaussian_errors": [_steps_within("k_values", "n_values")],
    "unmasking_rules": [_steps_within("ks_exact", "n_exact"), _steps_within("ks_mc", "n_mc")],
}
