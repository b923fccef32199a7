"""Checking configuration against JSON schemas, with messages that name the offending path.

:func:`check_schema` validates a value with :mod:`jsonschema` (draft 2020-12) under strict JSON
types: ``integer`` excludes floats such as 1e3 (which jsonschema counts as integers) and booleans,
``number`` excludes booleans, NaN and infinities; ``array`` accepts tuples (Python defaults). Every
violation is reported at once, one per line, as ``path.to.key: problem``. :func:`check_workflow_config` checks a whole workflow config (the
workflow's schema, then each experiment's parameters, each model's family, data and evaluation) so a
bad config stops ``snakemake -n`` before any job runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import jsonschema
import numpy as np

__all__ = ["check_schema", "check_workflow_config", "ConfigError"]


class ConfigError(ValueError):
    """A configuration value that is unknown, of the wrong type or out of range (message: path: problem)."""


def _is_integer(checker, value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(checker, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return isinstance(value, (int, np.integer)) or math.isfinite(value)  # ints of any size are finite


_STRICT = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number,
         "array": lambda checker, value: isinstance(value, (list, tuple))}),
)


def _join(prefix: str, path) -> str:
    parts = [prefix] if prefix else []
    parts += [f"[{p}]" if isinstance(p, int) else str(p) for p in path]
    return ".".join(parts).replace(".[", "[") or "(top level)"


def _describe(error, unknown: str):
    """(unknown keys or None, message) of one jsonschema error."""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = sorted(error.schema.get("properties", {}))
        return extra, f"unknown {unknown} (accepted: {', '.join(allowed)})" if allowed else f"unknown {unknown}"
    message = error.message
    if error.validator == "type" and isinstance(error.instance, str):
        message += " (a string: nested --config values reach the workflow as strings; set them in a --configfile)"
    if error.validator == "type" and isinstance(error.instance, float) and not math.isfinite(error.instance):
        message = f"{error.instance} is not a finite number"
    return None, message


def check_schema(value, schema: dict, prefix: str = "", unknown: str = "key") -> None:
    """Validate ``value`` against the JSON ``schema`` with strict types (module doc).

    Raises :class:`ConfigError` (a ValueError) listing every violation as ``prefix.path: problem``
    (a key the schema does not allow: ``prefix.path.key: unknown <unknown>``).
    """
    problems = []
    for error in sorted(_STRICT(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        extra, message = _describe(error, unknown)
        if extra:
            problems += [f"{_join(prefix, [*error.absolute_path, key])}: {message}" for key in extra]
        else:
            problems.append(f"{_join(prefix, error.absolute_path)}: {message}")
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))


def _model_length(name: str, spec: dict) -> int | None:
    """Sequence length of a model's data, building its family (which checks the family's parameters)."""
    from . import distributions

    data = spec["data"]
    if "family" in data:
        params = data.get("params") or {}
        try:
            return distributions.make_family(data["family"], **params).n
        except (ValueError, TypeError, OverflowError) as problem:
            raise ConfigError(f"models.{name}.data.params: {problem}") from None
    return int(data.get("n", 128))


def _check_model(name: str, spec: dict) -> None:
    n = _model_length(name, spec)
    evaluation = spec.get("evaluation") or {}
    for key in ("ks", "rules_nfe"):
        too_long = [k for k in evaluation.get(key) or [] if k > n]
        if too_long:
            raise ConfigError(f"models.{name}.evaluation.{key}: {too_long} exceed the sequence length n={n}")
    data = spec["data"]
    if "family" in data:  # a text corpus's held-out size is known once its prepare rule has run
        from .mdm.defaults import DATA_DEFAULTS, check_held_out

        drawn = data.get("validation_sequences", DATA_DEFAULTS["validation_sequences"])
        try:
            check_held_out(spec, drawn, f"drawn (data.validation_sequences={drawn})")
        except ValueError as problem:
            raise ConfigError(f"models.{name}.{problem}") from None
    model = spec.get("model") or {}
    d_model, heads = model.get("d_model"), model.get("n_heads")
    if d_model is not None and heads is not None and d_model % heads:
        raise ConfigError(f"models.{name}.model.n_heads: d_model={d_model} is not divisible by n_heads={heads}")


def check_workflow_config(config: dict, schema_path) -> dict:
    """Check a workflow config before anything runs; returns it unchanged.

    The workflow's JSON schema (``schema_path``, YAML), then every experiment's name and parameters
    (:func:`mdmsched.experiments.check_params`), then every model's family parameters, evaluation
    ``ks`` and ``rules_nfe`` (at most the sequence length), ``curve_sequences`` (at most the held-out
    sequences a synthetic entry draws, defaults included) and head count. Raises :class:`ConfigError` (a ValueError)
    naming the config path, e.g. ``experiments.ccl_error_vs_k.eps_point: unknown parameter``.
    """
    import yaml

    from .experiments import check_params

    schema = yaml.safe_load(Path(schema_path).read_text())
    check_schema(config, schema)
    for name, params in (config.get("experiments") or {}).items():
        check_params(name, params or {}, prefix=f"experiments.{name}")
    for name, spec in (config.get("models") or {}).items():
        _check_model(name, spec)
    return config

