"""Timing targets shared by the benchmark scripts: each measured time beside its target, and a summary."""

from __future__ import annotations

RESULTS: list[tuple[str, float, float, str]] = []


def report(name: str, seconds: float, target: float, extra: str = "") -> None:
    """Print one measurement as a ratio to its target (seconds) and remember it for :func:`summary`."""
    ratio = seconds / target
    status = "ok" if ratio < 1 else "MISSED"
    RESULTS.append((name, seconds, target, status))
    print(f"  {name}: {seconds:.2f} s (target < {target:g} s, ratio {ratio:.2f}, {status}) {extra}", flush=True)


def summary() -> None:
    """Print whether every target reported so far was met."""
    missed = [name for name, _, _, status in RESULTS if status != "ok"]
    print("all targets met" if not missed else f"targets missed: {missed}")
