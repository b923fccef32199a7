"""Scoring many schedules through a trained-size model: shared orders versus one pass per schedule.

The learned evaluation measures every schedule of the default config (5 k-step schedules at
k = 2..32 plus the TC / DTC schedules; 22 distinct step-size vectors at n = 64) on the same samples.
:func:`mdmsched.sampler.schedule_log_likelihoods` calls the model once per distinct step start (at
most n), the reference (:func:`mdmsched.sampler.schedule_log_likelihood` per schedule, as before)
once per step of every schedule. Prints model calls, seconds and their ratio, and checks that both
give the same log-likelihoods (float64, up to summation order). Random-weight model of the default
synthetic size (d 64, 3 layers; the weights do not change the cost).

    python benchmarks/bench_schedule_scoring.py [--samples 400] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mdmsched import schedules
from mdmsched.distributions import make_family
from mdmsched.mdm.model import build_model
from mdmsched.mdm.oracle import ModelOracle
from mdmsched.sampler import random_orders, schedule_log_likelihood, schedule_log_likelihoods


class CountingOracle:
    """Wraps an oracle and counts its calls."""

    def __init__(self, oracle):
        self.oracle, self.n, self.q, self.calls = oracle, oracle.n, oracle.q, 0

    def conditional_marginals(self, x, revealed):
        self.calls += 1
        return self.oracle.conditional_marginals(x, revealed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = 64
    family = make_family("markov", n=n, stay=0.9)
    z = family.information_curve()
    built = {tuple(schedules.schedule(name, n, k=k, z=z)) for k in (2, 4, 8, 16, 32)
             for name in ("uniform", "cosine", "loglinear", "sqrt", "optimal")}
    built |= {tuple(schedules.schedule(name, n, eps=eps, **{name: value}))
              for name, value in (("tc", float(z.sum())), ("dtc", float(n * z[-1] - z.sum()))) for eps in (1.0, 2.0)}
    built = sorted(built)
    rng = np.random.default_rng(0)
    x = family.sample(args.samples, rng)
    orders = random_orders(args.samples, n, rng)
    oracle = CountingOracle(ModelOracle(build_model({"n": n, "q": 2, "d_model": 64, "n_layers": 3, "n_heads": 4})))
    print(f"n = {n}, {len(built)} schedules ({sum(map(len, built))} steps in all), {args.samples} samples, "
          f"{args.threads} thread(s)")
    started = time.perf_counter()
    shared = schedule_log_likelihoods(oracle, x, built, orders=orders)
    shared_s, shared_calls = time.perf_counter() - started, oracle.calls
    oracle.calls = 0
    started = time.perf_counter()
    reference = np.stack([schedule_log_likelihood(oracle, x, sizes, orders=orders) for sizes in built])
    reference_s, reference_calls = time.perf_counter() - started, oracle.calls
    print(f"  shared orders:      {shared_calls:4d} model calls, {shared_s:6.2f} s")
    print(f"  one per schedule:   {reference_calls:4d} model calls, {reference_s:6.2f} s (reference)")
    print(f"  speed-up {reference_s / shared_s:.2f}x; max |difference| {np.abs(shared - reference).max():.1e} nats")


if __name__ == "__main__":
    main()
