"""Benchmarks of the exact core (a script, not a timed test): sizes, times, and ratios to the targets.

    python benchmarks/bench_core.py            # everything (about a minute on 2 cores)
    python benchmarks/bench_core.py --quick    # skip the 2^20-state table

1. Exact information curve of a random tabular law (CCL Def 3 via Lemma 13 and the subset lattice):
   q = 2, n = 18 (target < 10 s) and n = 20 (target < 60 s), with the peak memory allocated during
   the computation (tracemalloc, which sees numpy's buffers) relative to the pmf.
2. Exact optimal schedule (CCL Eq. 1, DP) for n = 16384, k = 128 (target < 5 s).
3. Steps to reach eps (CCL Thm 4, ``mdmsched.steps_to_reach``, an exact upward scan over k) at
   n = 16384: cosine and uniform on the Beta-Bernoulli(1,1) curve at eps = 0.1 and at 1e-3 (uniform
   then scans every k up to n: the worst case, target < 30 s), the DP optimum at eps = 0.1.
4. Monte Carlo information curve of a 1024-token Markov chain with its exact oracle, standard error
   of TC below 1% of TC (target < 60 s); checked against the closed form TC = (n - 1) I(X_t; X_t+1).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time
import tracemalloc

import numpy as np

from mdmsched import information
from mdmsched.distributions import MarkovChain, curve
from mdmsched.error import expected_kl
from mdmsched.estimation import information_curve_monte_carlo
from mdmsched import steps_to_reach
from mdmsched.schedules import optimal_schedule, schedule, uniform
from timing import report, summary  # benchmarks/timing.py, beside this script

def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Peak resident memory added by a block: Linux VmHWM after resetting it (/proc/self/clear_refs),
    minus VmRSS at the start. No allocation hooks, so timings stay honest. Falls back to tracemalloc
    (which sees numpy's buffers but doubles the run time of this allocation-heavy code)."""

    def __enter__(self):
        self.traced = False
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            self.start = _status_kib("VmRSS")
        except OSError:
            self.start = None
        if self.start is None:
            self.traced = True
            tracemalloc.start()
        return self

    def __exit__(self, *exc):
        if self.traced:
            self.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            self.peak_bytes = (_status_kib("VmHWM") - self.start) * 1024
        return False


def bench_exact_curve(n: int, target: float, workers: int | None = None) -> None:
    rng = np.random.default_rng(n)
    p = rng.dirichlet(np.ones(2**n)).reshape((2,) * n)
    mib = p.nbytes / 2**20
    with PeakMemory() as memory:
        start, cpu = time.perf_counter(), time.process_time()
        z = information.information_curve(p, workers=workers)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    tc = information.total_correlation(p)
    assert abs(z.sum() - tc) < 1e-9 * max(1.0, tc), "Lemma 8 check failed"
    marginals = 3**n  # sum_S 2^|S| marginal entries, each summed and passed through x ln x
    label = f"exact curve q=2 n={n} (2^{n} states, {mib:.0f} MiB pmf, workers={workers or information._available_cpus()})"
    report(
        label,
        seconds,
        target,
        f"cpu {cpu:.2f} s; peak extra memory {memory.peak_bytes / 2**20:.1f} MiB = {memory.peak_bytes / p.nbytes:.2f} x pmf "
        f"(the 2^n subset entropies alone are 1 x); {marginals / seconds / 1e6:.0f} M marginal entries/s; TC = {tc:.4f}",
    )


def bench_optimal_schedule(n: int = 16384, k: int = 128, target: float = 5.0) -> None:
    rng = np.random.default_rng(0)
    z = np.concatenate([[0.0], np.cumsum(rng.exponential(size=n - 1) / np.arange(1, n))])  # concave-ish curve
    start = time.perf_counter()
    sizes, error = optimal_schedule(z, k)
    seconds = time.perf_counter() - start
    assert len(sizes) == k and sizes.sum() == n
    assert abs(expected_kl(z, sizes) - error) < 1e-9 * max(1.0, error)
    baseline = expected_kl(z, uniform(n, k))
    report(
        f"optimal schedule n={n} k={k}",
        seconds,
        target,
        f"error {error:.4f} vs uniform {baseline:.4f} (ratio {error / baseline:.3f})",
    )


def bench_steps_to_reach(n: int = 16384) -> None:
    z = curve("beta_bernoulli", n)
    for name, eps, target in (("optimal", 0.1, 10.0), ("cosine", 0.1, 5.0), ("uniform", 0.1, 5.0), ("cosine", 1e-3, 15.0), ("uniform", 1e-3, 30.0)):
        start = time.perf_counter()
        k = steps_to_reach(z, eps, name)
        seconds = time.perf_counter() - start
        assert k == n or expected_kl(z, schedule(name, n, k=k, **({"z": z} if name == "optimal" else {}))) <= eps
        report(f"steps_to_reach n={n} {name} eps={eps:g}", seconds, target, f"k = {k} ({k / n:.1%} of n scanned)")


def bench_monte_carlo_curve(n: int = 1024, m: int = 48, target: float = 60.0) -> None:
    stay = 0.9
    chain = MarkovChain.symmetric(n, 2, stay)
    binary_entropy = -(stay * math.log(stay) + (1 - stay) * math.log(1 - stay))
    tc_exact = (n - 1) * (math.log(2) - binary_entropy)  # stationary chain: TC = sum_t I(X_t; X_t+1)
    start = time.perf_counter()
    result = information_curve_monte_carlo(chain, m, np.random.default_rng(0))
    seconds = time.perf_counter() - start
    relative_se = result["tc_se"] / result["tc"]
    deviation = (result["tc"] - tc_exact) / result["tc_se"]
    report(
        f"Monte Carlo curve, Markov n={n} q=2 stay={stay}, m={m} samples",
        seconds,
        target,
        f"TC = {result['tc']:.2f} +- {result['tc_se']:.2f} (SE {100 * relative_se:.2f}% of TC, target < 1%; "
        f"exact {tc_exact:.2f}, {deviation:+.2f} SE); DTC = {result['dtc']:.1f} +- {result['dtc_se']:.1f}",
    )
    assert relative_se < 0.01, "standard error above 1% of TC: raise m"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 2^20-state exact curve")
    args = parser.parse_args()
    print(f"mdmsched core benchmarks: numpy {np.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print("exact information curves (subset lattice):")
    bench_exact_curve(18, 10.0)
    bench_exact_curve(18, 10.0, workers=1)
    if not args.quick:
        bench_exact_curve(20, 60.0)
    print("optimal schedule (DP, divide and conquer on the Monge cost):")
    bench_optimal_schedule()
    print("steps to reach eps (exact scan over k):")
    bench_steps_to_reach()
    print("Monte Carlo information curve with the exact oracle:")
    bench_monte_carlo_curve()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"process peak RSS {rss:.0f} MiB")
    summary()


if __name__ == "__main__":
    main()
