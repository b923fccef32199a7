"""The reports: what each one reads and draws (the registry :data:`REPORTS`), and rendering them.

A report is one notebook (``notebooks/<name>.ipynb``) executed by the workflow: it reads the tables of
its experiments (or, for the learned report, the tables of every trained model of the config), shows
its claims table and saves the figures of its plot module. The workflow (``workflow/rules/common.smk``)
imports :data:`REPORTS` and only turns these names into paths; the figure names are the plot
module's own ``FIGURES`` (:mod:`mdmsched.plots`), so they are spelled once.

Verdicts do not pass through here: the workflow writes each report's claims table
(``results/claims/<report>.csv``, :mod:`mdmsched.claims`), which the notebook displays and the index
reads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from .claims import learned as learned_claims
from .experiments import experiments_of
from .io import atomic_path
from .plots import ccl as ccl_plots
from .plots import learned as learned_plots
from .plots import lz as lz_plots
from .plots import unmasking as unmasking_plots

__all__ = ["Report", "REPORTS", "buildable", "render_notebook"]


def _figures(plots) -> tuple[str, ...]:
    """Every figure name a plot module saves, in panel order (its ``FIGURES``: panel -> names)."""
    return tuple(name for names in plots.FIGURES.values() for name in names)


@dataclass(frozen=True)
class Report:
    """One report of the workflow.

    ``experiments``: the registered experiments whose tables it reads (every experiment of one module
    of :mod:`mdmsched.experiments`, :func:`~mdmsched.experiments.experiments_of`); ``per_model``: it reads the tables of every trained model of the config
    (:data:`mdmsched.claims.learned.KINDS` per model) and their training histories instead;
    ``figures``: the figure names (files without extension) its notebook saves, from the plot module;
    ``category``: the heading of the Snakemake report (the paper it replicates).
    """

    name: str
    category: str
    figures: tuple[str, ...]
    experiments: tuple[str, ...] = ()
    per_model: bool = False

    @property
    def notebook(self) -> str:
        """The notebook template, relative to the repository root."""
        return f"notebooks/{self.name}.ipynb"

    def tables(self, models=()) -> list[str]:
        """Names of the tables it reads (``results/tables/<name>.csv``) given the config's models."""
        return list(self.experiments) + (learned_claims.table_names(models) if self.per_model else [])

    def histories(self, models=()) -> dict[str, str]:
        """Name -> model of the training histories its claims read besides the tables."""
        return learned_claims.history_names(models) if self.per_model else {}

    def lacks(self, experiments, models=()) -> list[str]:
        """What a config with these experiment names and models lacks to build the report: the
        missing experiment names, or ``["models"]`` for a per-model report without models."""
        if self.per_model and not list(models):
            return ["models"]
        return [name for name in self.experiments if name not in experiments]


REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            "ccl_report",
            "Chen-Cong-Li (COLT 2026)",
            _figures(ccl_plots),
            experiments=experiments_of("ccl"),
        ),
        Report(
            "lz_report",
            "Lavenant-Zanella (2025)",
            _figures(lz_plots),
            experiments=experiments_of("lz"),
        ),
        Report("learned_report", "Learned oracles (both papers)", _figures(learned_plots), per_model=True),
        Report(
            "unmasking_report",
            "Beyond both papers: adaptive unmasking rules",
            _figures(unmasking_plots),
            experiments=experiments_of("unmasking"),
        ),
    )
}


def buildable(experiments, models=()) -> tuple[dict[str, Report], list[str]]:
    """The reports a config builds, and a note for each one it leaves out.

    A config describes the whole run: a report whose tables the config does not all produce
    (:meth:`Report.lacks`) is left out, so a config may run one experiment or one model.
    """
    kept, notes = {}, []
    for name, report in REPORTS.items():
        lacking = report.lacks(experiments, models)
        if lacking:
            notes.append(f"note: {name} is not built: the config lacks {', '.join(lacking)}")
        else:
            kept[name] = report
    return kept, notes


def render_notebook(template, notebook_out, html_out, parameters: dict, log_path=None, expected_figures=()):
    """Execute ``template`` with papermill (injecting ``parameters`` after the cell tagged
    ``parameters``), then export self-contained HTML; both written atomically. Raises if a figure the
    workflow expects was not saved by the notebook."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    log = open(log_path, "w") if log_path else contextlib.nullcontext()
    with log as stream, atomic_path(notebook_out) as executed:
        papermill.execute_notebook(
            str(template),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=stream is not None,
            stdout_file=stream,
            stderr_file=stream,
            cwd=str(Path.cwd()),
        )
        notebook = nbformat.read(executed, as_version=4)
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
        with atomic_path(html_out) as html:
            Path(html).write_text(body, encoding="utf-8")
    missing = [str(path) for path in expected_figures if not Path(path).exists()]
    if missing:
        raise RuntimeError(f"notebook {template} did not save the expected figures: {missing}")
