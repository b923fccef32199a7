"""Experiments: each turns one claim of the papers into one tidy table (a pandas DataFrame).

An experiment is a function ``(params: dict, seed: int) -> DataFrame`` registered under a name with
:func:`experiment`; the workflow runs ``results/tables/{name}.csv`` for each name in the config's
``experiments`` mapping. Modules: :mod:`.ccl` (Chen-Cong-Li) and :mod:`.lz` (Lavenant-Zanella).
"""

from __future__ import annotations

import importlib
import inspect
import time
from typing import Callable

__all__ = ["EXPERIMENTS", "experiment", "experiments_of", "run_experiment", "check_params"]

EXPERIMENTS: dict[str, Callable] = {}
_MODULES = ("ccl", "lz", "unmasking")


def experiment(name: str):
    """Register ``function`` as the experiment ``name``."""

    def register(function):
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} registered twice")
        EXPERIMENTS[name] = function
        return function

    return register


def experiments_of(module: str) -> tuple[str, ...]:
    """The names the submodule ``module`` (``"ccl"``, ``"lz"`` or ``"unmasking"``) registers, in
    registration order: the experiments of one report (:data:`mdmsched.reports.REPORTS`)."""
    qualified = f"{__name__}.{module}"
    importlib.import_module(qualified)
    return tuple(name for name, function in EXPERIMENTS.items() if function.__module__ == qualified)


def _load_all():
    for module in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{module}":
                raise


def check_params(name: str, params: dict | None, prefix: str | None = None) -> dict:
    """Check an experiment's name and parameters (names, types, ranges: :mod:`.parameters`) before
    anything is computed. Raises ValueError (:class:`mdmsched.config.ConfigError`) naming the path,
    e.g. ``ccl_error_vs_k.eps_point: unknown parameter``; returns the parameters as a dict."""
    from ..config import ConfigError, check_schema
    from .parameters import RULES, schema

    _load_all()
    prefix = name if prefix is None else prefix
    if name not in EXPERIMENTS:
        raise ConfigError(f"{prefix}: unknown experiment {name!r}; expected one of {sorted(EXPERIMENTS)}")
    if params is not None and not isinstance(params, dict):
        raise ConfigError(f"{prefix}: experiment parameters must be a mapping, got {params!r}")
    params = dict(params or {})
    check_schema(params, schema(name), prefix, unknown="parameter")
    defaults = {key: p.default for key, p in inspect.signature(EXPERIMENTS[name]).parameters.items()
                if p.default is not p.empty}
    problems = [f"{prefix}.{problem}" for rule in RULES.get(name, ()) for problem in rule({**defaults, **params})]
    if problems:
        raise ConfigError("\n".join(problems))
    return params


def run_experiment(name: str, params: dict | None = None, seed: int = 0, out=None):
    """Run one experiment; write its table atomically to ``out`` when given. Returns the table.

    Raises ValueError for an unknown name or parameters that :func:`check_params` rejects, and when
    the experiment produces an empty table (nothing is written then)."""
    params = check_params(name, params)
    function = EXPERIMENTS[name]
    started = time.perf_counter()
    table = function(seed=seed, **params)
    print(f"experiment {name}: {len(table)} rows in {time.perf_counter() - started:.2f} s")
    if table.empty or len(table.columns) == 0:
        raise ValueError(f"experiment {name!r} produced an empty table with parameters {params}")
    if out is not None:
        from ..io import write_table

        write_table(table, out)
    return table
