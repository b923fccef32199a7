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

__all__ = ["EXPERIMENTS", "experiment", "run_experiment"]

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


def _load_all():
    for module in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{module}":
                raise


def run_experiment(name: str, params: dict | None = None, seed: int = 0, out=None):
    """Run one experiment; write its table atomically to ``out`` when given. Returns the table."""
    _load_all()
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of {sorted(EXPERIMENTS)}")
    function = EXPERIMENTS[name]
    params = dict(params or {})
    accepted = set(inspect.signature(function).parameters) - {"seed"}
    unknown = set(params) - accepted
    if unknown:
        raise ValueError(f"experiment {name!r} got unknown parameters {sorted(unknown)}; accepted: {sorted(accepted)}")
    started = time.perf_counter()
    table = function(seed=seed, **params)
    print(f"experiment {name}: {len(table)} rows in {time.perf_counter() - started:.2f} s")
    if out is not None:
        from ..io import write_table

        write_table(table, out)
    return table
