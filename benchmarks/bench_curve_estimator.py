"""Where the error of schedules built from a trained model's estimated curve comes from.

For a trained synthetic model (law known) and several curve estimators, builds the DP-optimal
k-step schedule (CCL Eq. 1) from (a) the model's estimated curve and (b) the exact oracle run
through the same estimator on the same held-out sequences and random orders, and prints each
schedule's exact expected KL (CCL Thm 4 on the true curve) divided by the exact-curve optimum.
(b) isolates the estimator's variance; (a) minus (b) is what the model's excess loss adds.

    python benchmarks/bench_curve_estimator.py models/markov.pt data/markov.npz --family markov \\
        --params '{"n": 64, "stay": 0.9}' [--sequences 1000] [--orders 1 4] [--points 0 41]

``--points P`` measures the revealed counts of the workflow's ``evaluation.curve_points`` grid (0, n-1
and a geometric grid between, interpolated by the monotone fit; 0 = every a), at P/n of the cost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np
import torch

from mdmsched import distributions, evaluation, schedules
from mdmsched.error import expected_kl
from mdmsched.estimation import fit_information_curve, loss_curve
from mdmsched.mdm.oracle import ModelOracle
from mdmsched.mdm.pipeline import read_dataset
from mdmsched.mdm.training import load_model


def ratios(z_true, z_built, ks, optimum) -> list[float]:
    """Exact expected KL of the DP schedule built from ``z_built``, over the exact optimum, per k."""
    path = schedules.optimal_path(z_built, ks)
    return [expected_kl(z_true, path[k][0]) / optimum[k][1] for k in ks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("dataset")
    parser.add_argument("--family", required=True)
    parser.add_argument("--params", required=True, help="JSON parameters of the family")
    parser.add_argument("--sequences", type=int, nargs="+", default=[1000],
                        help="held-out sequence counts (the largest is run; smaller ones are its prefixes)")
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 4], help="orders per sequence")
    parser.add_argument("--points", type=int, nargs="+", default=[0],
                        help="curve grid sizes (evaluation.curve_points; 0: every revealed count)")
    parser.add_argument("--statistics", nargs="+", default=["cross_entropy", "entropy"])
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--seeds", type=int, default=1, help="repetitions with other orders")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    params = json.loads(args.params)
    family = distributions.make_family(args.family, **params)
    z_true = distributions.curve(args.family, **params)
    optimum = schedules.optimal_path(z_true, args.ks)
    oracle = ModelOracle(load_model(args.checkpoint, "cpu"))
    held_out = read_dataset(args.dataset)["validation"][: max(args.sequences)]
    print(f"{args.family} n={family.n}, {len(held_out)} held-out sequences; exact optimum (nats) "
          + ", ".join(f"k={k}: {optimum[k][1]:.4f}" for k in args.ks))
    print(f"{'statistic':<14} {'seqs':>5} {'orders':>6} {'points':>6} {'seed':>4} {'oracle':<6} {'L1/TC':>6}  ratio at k = "
          + " ".join(f"{k:>6}" for k in args.ks) + "   seconds")
    for points, orders, seed in itertools.product(args.points, args.orders, range(args.seeds)):
        grid = evaluation.revealed_count_grid(family.n, points)
        for label, source in (("model", oracle), ("exact", family)):
            started = time.perf_counter()  # one pass of oracle calls serves both statistics
            x = np.repeat(held_out, orders, axis=0)
            curve = loss_curve(source, x, grid, rng=np.random.default_rng(seed))
            seconds = time.perf_counter() - started
            for statistic in args.statistics:
                values = getattr(curve, statistic).reshape(len(held_out), orders, -1).mean(axis=1)
                for m in sorted(set(min(m, len(held_out)) for m in args.sequences)):
                    z = fit_information_curve(curve.grid, values[:m], family.n, n_bootstrap=2).information_curve
                    l1 = np.abs(z - z_true).sum() / z_true.sum()
                    row = " ".join(f"{r:6.3f}" for r in ratios(z_true, z, args.ks, optimum))
                    print(f"{statistic:<14} {m:>5} {orders:>6} {len(curve.grid):>6} {seed:>4} {label:<6} {l1:6.3f}  "
                          f"{' ' * 13}{row}"
                          f"   {seconds:6.1f}", flush=True)

if __name__ == "__main__":
    main()
