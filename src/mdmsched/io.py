"""Atomic file output: write to a temporary file in the target folder, then rename.

An interrupted job therefore never leaves a half-written table, figure or checkpoint behind, and a
resumed Snakemake run (``--rerun-incomplete``) starts from clean outputs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_table", "read_table"]

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_table(table, path) -> None:
    """Write a pandas DataFrame as CSV atomically (floats as shortest round-trip reprs)."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)


def read_table(path):
    import pandas as pd

    return pd.read_csv(path)
