"""Rendering reports (papermill + nbconvert).

Verdicts do not pass through here: the workflow writes each report's claims table
(``results/claims/<report>.csv``, :mod:`mdmsched.claims`), which the notebook displays and the index
reads.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .io import atomic_path

__all__ = ["render_notebook"]


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
