"""Atomic file output: write to a temporary file in the target folder, then rename.

An interrupted job therefore never leaves a half-written table, figure or checkpoint behind, and a
resumed Snakemake run (``--rerun-incomplete``) starts from clean outputs.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_table", "read_table", "logged"]

_UMASK = os.umask(0)
os.umask(_UMASK)


def _remove_stale_temporaries(path: Path, suffix: str) -> None:
    """Remove the hidden temporaries of ``path`` left by a writer killed hard (kill -9, power loss).
    One job writes a given output at a time (Snakemake locks the working directory), so any such
    file is an orphan."""
    pattern = re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]{8}" + re.escape(suffix))
    for candidate in path.parent.glob(f".{path.name}.*"):
        if pattern.fullmatch(candidate.name):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically. Orphaned
    temporaries of ``path`` from an earlier hard-killed writer are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path, suffix or path.suffix)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextlib.contextmanager
def logged(path):
    """Send stdout and stderr to the log file ``path`` (a workflow job's ``log:``), including the
    traceback of an exception, which is then re-raised so the job fails."""
    import sys
    import traceback

    with open(path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            yield log
        except BaseException:
            traceback.print_exc(file=log)
            log.flush()
            print(f"failed; traceback in {path}", file=sys.__stderr__)
            raise


def write_table(table, path) -> None:
    """Write a pandas DataFrame as CSV atomically (floats as shortest round-trip reprs).
    Raises ValueError for a table without columns (its CSV would have no header to read back)."""
    if len(table.columns) == 0:
        raise ValueError(f"refusing to write {path}: the table has no columns")
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)


def read_table(path):
    import pandas as pd

    return pd.read_csv(path)
