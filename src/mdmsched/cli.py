"""Command line: ``mdmsched experiment NAME``, ``mdmsched schedule NAME N``, ``mdmsched list``."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit status 2 (argparse prints the usage too)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _params(text: str) -> dict:
    """``--params``: a JSON object (ValueError naming --params otherwise)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--params is not valid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise ValueError(f"--params must be a JSON object such as '{{\"k\": 16}}', got {text!r}")
    return value


def main(argv=None) -> int:
    """Run the command line; returns the exit status (2 with one line on stderr for a user error)."""
    parser = _Parser(prog="mdmsched", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("experiment", help="run one experiment and write its table")
    run.add_argument("name")
    run.add_argument("--params", default="{}", help="JSON object of experiment parameters")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--out", required=True, help="CSV path")

    build = commands.add_parser("schedule", help="print a schedule's sizes")
    build.add_argument("name")
    build.add_argument("n", type=int)
    build.add_argument("--params", default="{}", help='JSON, e.g. {"k": 16} or {"eps": 1, "tc": 5}')
    build.add_argument("--curve", help="information curve Z_1..Z_n (CSV with a z column, or a schedule-plan "
                       "JSON) for curve-aware schedules; 'optimal' then also takes {\"eps\": nats}")
    build.add_argument("--json", action="store_true",
                       help="print JSON: num_transfer_tokens and, with --curve, the expected KL (nats)")

    commands.add_parser("list", help="list schedules, families and experiments")

    args = parser.parse_args(argv)
    try:
        if args.command == "experiment":
            from .experiments import run_experiment

            run_experiment(args.name, _params(args.params), args.seed, args.out)
        elif args.command == "schedule":
            print(_schedule_command(args.name, args.n, _params(args.params), args.curve, args.json))
        else:
            from .distributions import FAMILIES
            from .experiments import EXPERIMENTS, _load_all
            from .schedules import SCHEDULES

            _load_all()
            for title, names in (("schedules", SCHEDULES), ("families", FAMILIES), ("experiments", EXPERIMENTS)):
                print(f"{title}: {', '.join(sorted(names))}")
    except (ValueError, OverflowError, OSError) as problem:  # bad input, or an --out that cannot be written
        print(f"mdmsched: error: {' '.join(str(problem).split())}", file=sys.stderr)
        return 2
    return 0


def _schedule_command(name: str, n: int, params: dict, curve_path, as_json: bool) -> str:
    """The per-step token counts of a schedule (``num_transfer_tokens``), as text or JSON.

    With a curve, curve-aware schedules read it (``z``; TC / DTC for the Thm 9 schedules when not
    given), ``optimal`` with ``eps`` picks the fewest steps reaching it, and the expected KL of CCL
    Thm 4 on that curve is reported."""
    from .error import expected_kl
    from .schedules import schedule
    from .takehome import optimal_for_eps, read_curve

    z = None
    if curve_path is not None:
        z = read_curve(curve_path)
        if len(z) != n:
            raise ValueError(f"the curve in {curve_path} has n = {len(z)} entries, not {n}")
        if name == "optimal" and "eps" in params:
            sizes, _ = optimal_for_eps(z, float(params.pop("eps")))
            if params:
                raise ValueError(f"'optimal' takes k or eps, not also {sorted(params)}")
        else:
            sizes = schedule(name, n, z=z, **params)  # the registry says which schedules read the curve
    else:
        sizes = schedule(name, n, **params)
    if not as_json:
        return " ".join(map(str, sizes))
    out = {"schedule": name, "n": n, "steps": len(sizes), "num_transfer_tokens": [int(s) for s in sizes]}
    if z is not None:
        out["expected_kl_nats"] = float(expected_kl(z, sizes))
    return json.dumps(out)


if __name__ == "__main__":
    sys.exit(main())
