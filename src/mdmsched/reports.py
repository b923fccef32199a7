"""Rendering reports (papermill + nbconvert) and the claims table every report prints."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from .io import atomic_path

__all__ = ["render_notebook", "Claims", "CLAIMS_ENV", "notebook_claims"]

# While render_notebook executes a notebook, every Claims.check in its kernel also appends the row to
# the JSON-lines file named by this variable; the rows end up in the executed notebook's metadata
# (``metadata["mdmsched"]["claims"]``), untruncated, where the index (mdmsched.index) reads them.
CLAIMS_ENV = "MDMSCHED_CLAIMS_FILE"


def render_notebook(template, notebook_out, html_out, parameters: dict, log_path=None, expected_figures=()):
    """Execute ``template`` with papermill (injecting ``parameters`` after the cell tagged
    ``parameters``), then export self-contained HTML; both written atomically. Raises if a figure the
    workflow expects was not saved by the notebook."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    log = open(log_path, "w") if log_path else contextlib.nullcontext()
    with log as stream, atomic_path(notebook_out) as executed:
        sink = executed.with_suffix(".claims.jsonl")
        previous = os.environ.get(CLAIMS_ENV)
        os.environ[CLAIMS_ENV] = str(sink)  # inherited by the kernel papermill starts
        try:
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
            rows = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()] if sink.exists() else []
        finally:
            sink.unlink(missing_ok=True)
            if previous is None:
                os.environ.pop(CLAIMS_ENV, None)
            else:
                os.environ[CLAIMS_ENV] = previous
        notebook = nbformat.read(executed, as_version=4)
        notebook.metadata["mdmsched"] = {"claims": rows}
        nbformat.write(notebook, executed)
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
        with atomic_path(html_out) as html:
            Path(html).write_text(body, encoding="utf-8")
    missing = [str(path) for path in expected_figures if not Path(path).exists()]
    if missing:
        raise RuntimeError(f"notebook {template} did not save the expected figures: {missing}")


def notebook_claims(notebook_path) -> list[dict]:
    """The claims rows (claim, paper, measured, pass) an executed report notebook recorded; [] when
    it recorded none (or was not executed by :func:`render_notebook`)."""
    metadata = json.loads(Path(notebook_path).read_text(encoding="utf-8")).get("metadata", {})
    return list(metadata.get("mdmsched", {}).get("claims", []))


class Claims:
    """Collects (claim, paper's statement, measured value, pass/fail) rows for a report."""

    def __init__(self):
        self.rows = []
        self._sink = os.environ.get(CLAIMS_ENV)

    def check(self, claim: str, paper: str, measured, passed) -> bool:
        passed = bool(np.all(passed))
        row = {"claim": claim, "paper": paper, "measured": measured, "pass": "PASS" if passed else "FAIL"}
        self.rows.append(row)
        if self._sink:
            with open(self._sink, "a", encoding="utf-8") as sink:
                sink.write(json.dumps(row, default=str) + "\n")
        return passed

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["claim", "paper", "measured", "pass"])

    def summary(self) -> str:
        failed = sum(row["pass"] == "FAIL" for row in self.rows)
        return f"{len(self.rows) - failed} of {len(self.rows)} claims pass" + (f"; {failed} FAIL" if failed else "")
