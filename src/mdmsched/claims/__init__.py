"""Claims: the papers' statements checked against the experiment tables.

A claim is a record in :data:`CLAIMS`: an id, the report it belongs to, the paper result it tests
(``paper_reference``, e.g. "CCL Thm 9"), the ``statement`` in words or formula, the tables it reads
and a ``check`` from those tables to a :class:`Verdict` (measured value, tolerance, PASS | FAIL |
INFO). INFO rows state no claim (a measured fact shown for the reader) and are never counted as
passes. Every PASS/FAIL claim also carries ``breaks``: a tampering of its tables that pushes the
measured quantity past the tolerance, so the test suite can show that the claim is able to fail.

Claims are computed from tables only; plots only draw. The workflow writes one CSV per report
(:func:`write_claims`), which the notebooks display and the index counts.

Modules register their claims on import (one per report); :func:`load` imports them all.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

__all__ = [
    "PASS",
    "FAIL",
    "INFO",
    "COLUMNS",
    "Verdict",
    "Claim",
    "CLAIMS",
    "claim",
    "load",
    "claims_for",
    "evaluate",
    "read_tables",
    "write_claims",
    "read_claims",
    "reading",
    "counts",
]

PASS, FAIL, INFO = "PASS", "FAIL", "INFO"
COLUMNS = ["claim", "paper_reference", "statement", "measured", "tolerance", "status"]

Tables = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class Verdict:
    """What a check measured: ``passed`` True / False gives PASS / FAIL, None gives INFO (no claim)."""

    measured: str
    passed: bool | None
    tolerance: str = ""

    @property
    def status(self) -> str:
        if self.passed is None:
            return INFO
        return PASS if bool(self.passed) else FAIL


@dataclass(frozen=True)
class Claim:
    """One registered claim; see the module docstring. ``info`` claims state no claim (status INFO)
    and need no ``breaks``."""

    id: str
    report: str
    paper_reference: str
    statement: str
    tables: tuple[str, ...]
    check: Callable[[Tables], Verdict]
    info: bool = False
    breaks: Callable[[dict], dict] | None = None

    def breaking(self, tamper: Callable[[dict], dict]):
        """Decorator: register ``tamper`` (tables -> tampered tables) as the case that must FAIL. The
        record itself is updated (it is the registry's entry), so module-level names see it too."""
        if self.breaks is not None:
            raise ValueError(f"claim {self.id!r} already has a breaking case")
        object.__setattr__(self, "breaks", tamper)
        CLAIMS[self.id] = self
        return tamper

    def __call__(self, tables: Tables) -> Verdict:
        missing = [name for name in self.tables if name not in tables]
        if missing:
            raise KeyError(f"claim {self.id!r} needs tables {missing}")
        verdict = self.check(tables)
        if self.info and verdict.passed is not None:
            raise ValueError(f"claim {self.id!r} is INFO but its check returned a verdict")
        if not self.info and verdict.passed is None:
            raise ValueError(f"claim {self.id!r} states a claim but its check returned INFO")
        return verdict


CLAIMS: dict[str, Claim] = {}
_MODULES = ("ccl", "lz", "learned", "unmasking")  # submodules registering claims, imported by load()


def claim(id: str, *, report: str, paper_reference: str, statement: str, tables, info: bool = False):
    """Decorator registering ``check(tables) -> Verdict`` as the claim ``id``; returns the record
    (use its :meth:`Claim.breaking` to register the case that must fail)."""

    def register(check):
        if id in CLAIMS:
            raise ValueError(f"claim {id!r} registered twice")
        record = Claim(id, report, paper_reference, statement, tuple(tables), check, info)
        CLAIMS[id] = record
        return record

    return register


def load() -> dict[str, Claim]:
    """Import every claims module; returns :data:`CLAIMS`."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return CLAIMS


def claims_for(report: str) -> list[Claim]:
    """The registered claims of ``report``, in registration order."""
    return [record for record in load().values() if record.report == report]


def evaluate(report: str, tables: Tables) -> pd.DataFrame:
    """Every claim of ``report`` checked on ``tables`` (name -> DataFrame): one row per claim with
    :data:`COLUMNS`."""
    rows = []
    for record in claims_for(report):
        verdict = record(tables)
        rows.append(
            {
                "claim": record.id,
                "paper_reference": record.paper_reference,
                "statement": record.statement,
                "measured": verdict.measured,
                "tolerance": verdict.tolerance,
                "status": verdict.status,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def read_tables(paths: Mapping[str, str | Path]) -> dict[str, pd.DataFrame]:
    """Read the tables a report's claims need: name -> CSV path."""
    from ..io import read_table

    return {name: read_table(path) for name, path in paths.items()}


def write_claims(report: str, tables: Mapping[str, str | Path], out) -> pd.DataFrame:
    """Check the claims of ``report`` on the CSV files ``tables`` (name -> path); write the claims
    table atomically to ``out`` and return it."""
    from ..io import write_table

    table = evaluate(report, read_tables(tables))
    write_table(table, out)
    return table


def read_claims(path) -> pd.DataFrame:
    """A claims table written by :func:`write_claims` (empty cells read as empty strings)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).reindex(columns=COLUMNS, fill_value="")


def reading(table: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """The rows of a claims table whose registered claim reads the table of ``experiment`` (for a
    report section showing its own claims)."""
    registry = load()
    keep = [experiment in getattr(registry.get(name), "tables", ()) for name in table["claim"]]
    return table[keep].reset_index(drop=True)


def counts(table: pd.DataFrame) -> dict:
    """{"PASS": ..., "FAIL": ..., "INFO": ...} of a claims table."""
    status = table["status"].value_counts()
    return {key: int(status.get(key, 0)) for key in (PASS, FAIL, INFO)}
