"""Benchmarks of the unmasking rules (a script, not a timed test): sizes, times, ratios to the targets.

    python benchmarks/bench_unmasking.py          # about a minute on 2 cores
    python benchmarks/bench_unmasking.py --quick  # skip the sample-then-choose estimates

1. Exact law (:func:`mdmsched.unmasking_law`) of every rule for a random tabular law, n = 10, q = 2
   (3^10 partial states; target < 10 s per rule).
2. Replay Monte Carlo KL (unbiased) at n = 256 on a Markov chain with its exact oracle, 2000 samples,
   for the choose-then-sample and reference rules at k = 32 steps (target < 60 s per estimate).
3. Sequential importance KL (consistent) of the sample-then-choose rules at n = 64, 200 samples x
   2 paths (target < 60 s per estimate; O(n^2 s) per step and sample, so n = 256 takes minutes).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from mdmsched import distributions, unmasking
from timing import report, summary  # benchmarks/timing.py, beside this script

def bench_exact_law(n: int = 10, q: int = 2) -> None:
    p = distributions.random_tabular(n, q, alpha=1.0, seed=0).pmf()
    for name, rule in unmasking.RULES.items():
        sizes = [2] * (n // 2) if rule.scheduled else None
        params = {"entropy_bound": {"gamma": 0.5}, "threshold": {"tau": 0.7}}.get(name, {})
        start = time.perf_counter()
        law, steps = unmasking.unmasking_law(p, name, sizes, **params)
        seconds = time.perf_counter() - start
        report(f"exact law {name:13s} n={n} q={q}", seconds, 10.0,
               f"KL {unmasking.kl_divergence(p, law):.4f} nats, mean NFE {steps:.2f}")


def bench_monte_carlo(n: int = 256, m: int = 2000, k: int = 32, kinds=(unmasking.CHOOSE, unmasking.REFERENCE)) -> None:
    family = distributions.MarkovChain.symmetric(n, 2, 0.9)
    sizes = [n // k] * k
    for name, rule in unmasking.RULES.items():
        if rule.kind not in kinds:
            continue
        params = {"entropy_bound": {"gamma": 1.0}, "threshold": {"tau": 0.9}}.get(name, {})
        count, paths = (200, 2) if rule.kind == unmasking.SAMPLE else (m, 1)
        start = time.perf_counter()
        result = unmasking.kl_estimate(family, name, count, np.random.default_rng(0), sizes if rule.scheduled else None,
                                       paths=paths, **params)
        seconds = time.perf_counter() - start
        report(f"Monte Carlo {name:13s} n={n} samples={count} paths={paths}", seconds, 60.0,
               f"KL {result['kl']:.2f} +- {result['kl_se']:.2f} nats, NFE {result['steps']:.1f} ({result['estimator']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the sample-then-choose estimates")
    args = parser.parse_args()
    print(f"mdmsched unmasking benchmarks: numpy {np.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print("exact laws (recursion over revealed states):")
    bench_exact_law()
    print("replay Monte Carlo KL at n = 256 (Markov stay=0.9, k=32 uniform steps where scheduled):")
    bench_monte_carlo()
    if not args.quick:
        print("sequential importance KL at n = 64 (Markov stay=0.9, k=8 uniform steps for confidence):")
        bench_monte_carlo(n=64, k=8, kinds=(unmasking.SAMPLE,))
    summary()


if __name__ == "__main__":
    main()
