"""Expected KL error of parallel unmasking: the theorem, brute force, Monte Carlo, and the bounds.

* :func:`expected_kl`: CCL Thm 4 / Thm 16, E_S KL(mu || nu^S) = sum_i sum_{j<=s_i} (Z_{N_{i-1}+j} -
  Z_{N_{i-1}+1}), the L1 error of the left Riemann step approximation of Z.
* :func:`factorization_error`: LZ's form of the same number from the profile f.
* :func:`expected_kl_bruteforce` / :func:`mixture_kl`: explicit fixed-set laws nu^S over every ordered
  partition (small n), and the KL of their mixture (CCL Thm 16: mixture KL <= expected KL).
* :func:`expected_kl_monte_carlo`: samples of mu scored under random partitions with any oracle; with
  a learned oracle it splits into factorization + learning error (LZ; CCL Lemma 35).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import information
from .sampler import random_orders, schedule_log_likelihoods
from .schedules import counts_from_sizes, validate_sizes

__all__ = [
    "expected_kl",
    "block_errors",
    "factorization_error",
    "ordered_partitions",
    "fixed_set_law",
    "LogMarginals",
    "kl_divergence",
    "bruteforce_kls",
    "expected_kl_bruteforce",
    "mixture_kl",
    "expected_kl_monte_carlo",
    "expected_kls_monte_carlo",
    "li_cai_bound",
    "li_cai_tc_dtc_bound",
    "thm9_step_bound",
    "lz_bound",
    "lz_worst_case",
]


def block_errors(z, sizes) -> np.ndarray:
    """Per-step terms of CCL Thm 4: sum_{j=1}^{s_i} (Z_{N_{i-1}+j} - Z_{N_{i-1}+1}).

    Raises ValueError for an invalid curve (:func:`mdmsched.information.check_curve`) or sizes that
    are not positive integers summing to n = len(z)."""
    z = information.check_curve(z)
    sizes = validate_sizes(sizes, len(z))
    starts = counts_from_sizes(sizes)[:-1]
    block = np.repeat(np.arange(len(sizes)), sizes)
    return np.bincount(block, weights=z - z[starts][block], minlength=len(sizes))


def expected_kl(z, sizes) -> float:
    """Exact expected KL of the random unmasking sampler (CCL Thm 4 / Thm 16), in the units of Z.

    Raises ValueError as :func:`block_errors` does (invalid curve or sizes)."""
    return float(block_errors(z, sizes).sum())


def factorization_error(profile, sizes) -> float:
    """LZ factorization error under random order: sum_k sum_{l=a_{k-1}+1}^{a_k-1} (a_k - l) f(l),
    with f(l) = H_{l-1} - H_l the information profile (equal to CCL Thm 4). Raises ValueError for
    an invalid profile (:func:`mdmsched.information.check_profile`) or sizes."""
    f = information.check_profile(profile)
    n = len(f) + 1
    counts = counts_from_sizes(validate_sizes(sizes, n))
    l = np.arange(1, n)
    block_end = counts[np.searchsorted(counts, l, side="right")]  # a_k for the block holding l+1
    starts = counts[np.searchsorted(counts, l, side="right") - 1]
    inside = l > starts  # l in a_{k-1}+1 .. a_k-1
    return float(np.sum(np.where(inside, (block_end - l) * f, 0.0)))


def ordered_partitions(n: int, sizes):
    """Every ordered partition (S_1, ..., S_k) of range(n) with |S_t| = sizes[t]."""
    sizes = validate_sizes(sizes, n)

    def extend(remaining, rest):
        if not rest:
            yield ()
            return
        for chosen in itertools.combinations(remaining, rest[0]):
            left = tuple(i for i in remaining if i not in chosen)
            for tail in extend(left, rest[1:]):
                yield (chosen,) + tail

    yield from extend(tuple(range(n)), tuple(int(s) for s in sizes))


class LogMarginals:
    """Log-marginal tables of a pmf, broadcastable to the full shape, cached by subset."""

    def __init__(self, p):
        self.p = p
        self.n = p.ndim
        self.cache = {(): np.zeros((1,) * self.n)}
        self.blocks = {}

    def __call__(self, subset):
        return self.log(subset)

    def log(self, subset):
        subset = tuple(sorted(subset))
        if subset not in self.cache:
            others = tuple(i for i in range(self.n) if i not in subset)
            with np.errstate(divide="ignore"):
                self.cache[subset] = np.log(self.p.sum(axis=others, keepdims=True))
        return self.cache[subset]

    def block(self, before, block):
        """log prod_{i in block} mu(x_i | x_before), uniform where mu(x_before) = 0 (broadcastable;
        cached by (before as a set, block as a set): partitions of one law share most blocks)."""
        key = (frozenset(before), frozenset(block))
        if key not in self.blocks:
            base = self.log(before)
            impossible = np.isneginf(base)
            log_uniform = -math.log(self.p.shape[0])
            total = np.zeros((1,) * self.n)
            for i in block:
                with np.errstate(invalid="ignore"):
                    total = total + np.where(impossible, log_uniform, self.log(tuple(before) + (i,)) - base)
            self.blocks[key] = total
        return self.blocks[key]


def fixed_set_law(p, sets, marginals=None) -> np.ndarray:
    """The table of nu^{S_1..S_k} (CCL Def 14): prod_t prod_{i in S_t} mu(x_i | x_{S_<t}).

    Where an earlier parallel step produced an assignment x_{S_<t} that mu gives probability 0, the
    conditional is undefined; like the tabular and code oracles, it is taken uniform, so nu^S is a
    probability table and equals the law of the sampler run with ``Tabular(p)`` on these sets.
    (KL(mu || nu^S) does not depend on that choice: it only reads nu^S on the support of mu.)
    """
    p = information.check_pmf(p)
    return _fixed_set_law(p, sets, marginals or LogMarginals(p))


def _fixed_set_law(p, sets, marginals) -> np.ndarray:
    """:func:`fixed_set_law` of a checked pmf; each block's log factor is cached in ``marginals``."""
    log_nu = np.zeros(p.shape)
    before: tuple = ()
    for block in sets:
        log_nu = log_nu + marginals.block(before, tuple(block))
        before = before + tuple(block)
    return np.exp(log_nu)


def kl_divergence(p, r) -> float:
    """KL(p || r) in nats of two tables of the same shape (0 ln 0 = 0)."""
    support = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[support] * (np.log(p[support]) - np.log(r[support]))))


def bruteforce_kls(p, sizes) -> tuple[float, float]:
    """(E_S KL(mu || nu^S), KL(mu || E_S nu^S)) from one pass over every ordered partition (small n):
    the expected KL of CCL Def 1 and the KL of the random sampler's mixture law."""
    p = information.check_pmf(p)
    marginals = LogMarginals(p)
    kls, mixture, count = [], np.zeros(p.shape), 0
    for sets in ordered_partitions(p.ndim, sizes):
        law = _fixed_set_law(p, sets, marginals)
        kls.append(kl_divergence(p, law))
        mixture += law
        count += 1
    return float(np.mean(kls)), kl_divergence(p, mixture / count)


def expected_kl_bruteforce(p, sizes) -> float:
    """E_S KL(mu || nu^S) by building nu^S for every ordered partition with these sizes (small n)."""
    return bruteforce_kls(p, sizes)[0]


def mixture_kl(p, sizes) -> float:
    """KL(mu || nu) for nu the law of the random sampler, the mixture of all nu^S (small n)."""
    return bruteforce_kls(p, sizes)[1]


def expected_kl_monte_carlo(family, oracle, sizes, m: int, rng: np.random.Generator, exact_oracle=None, batch: int = 512):
    """Monte Carlo expected KL of the random sampler driven by ``oracle`` against the law ``family``.

    Draws x ~ mu and one random partition per sample; the estimate is the mean of
    log mu(x) - log nu^S(x) (nats). Returns a dict with ``kl`` and ``kl_se``; when ``exact_oracle`` is
    given (the law's own conditionals), the same samples and partitions also give the factorization
    error (exact oracle) and the learning error (the rest, CCL Lemma 35 / LZ decomposition).
    Raises ValueError unless m and batch are positive integers and sizes fit the family.
    """
    return expected_kls_monte_carlo(family, oracle, [sizes], m, rng, exact_oracle, batch)[0]


def expected_kls_monte_carlo(family, oracle, schedules, m: int, rng: np.random.Generator, exact_oracle=None,
                             batch: int = 512) -> list[dict]:
    """:func:`expected_kl_monte_carlo` of several schedules with common random numbers: the same
    samples x ~ mu and random orders score every schedule (one oracle call per distinct step start,
    :func:`mdmsched.sampler.schedule_log_likelihoods`), so differences between schedules carry less
    noise and the cost is at most n oracle calls per batch whatever the number of schedules. One
    dict per schedule, in order. Raises ValueError like :func:`expected_kl_monte_carlo`."""
    for name, value in (("m", m), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    schedules = [validate_sizes(sizes, family.n) for sizes in schedules]
    total, factorization = [], []
    for start in range(0, m, batch):
        count = min(batch, m - start)
        x = family.sample(count, rng)
        orders = random_orders(count, family.n, rng)
        log_mu = family.log_prob(x)
        total.append(log_mu - schedule_log_likelihoods(oracle, x, schedules, orders=orders))
        if exact_oracle is not None:
            factorization.append(log_mu - schedule_log_likelihoods(exact_oracle, x, schedules, orders=orders))
    total = np.concatenate(total, axis=1)
    results = [_mean_se("kl", values) for values in total]
    if exact_oracle is not None:
        for result, values, fact in zip(results, total, np.concatenate(factorization, axis=1)):
            result.update(_mean_se("factorization", fact))
            result.update(_mean_se("learning", values - fact))
    return results


def _mean_se(name, values):
    values = np.asarray(values, dtype=np.float64)
    se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
    return {name: float(values.mean()), f"{name}_se": se}


def li_cai_bound(z, sizes) -> float:
    """Li-Cai via CCL Thm 31: expected KL <= (s_max - 1) Z_n. Raises ValueError for an invalid
    curve or sizes."""
    z = information.check_curve(z)
    return float((validate_sizes(sizes, len(z)).max() - 1) * z[-1])


def li_cai_tc_dtc_bound(tc: float, dtc: float, n: int, s_max: int) -> float:
    """Li-Cai's original form (CCL Thm 31): ((2^ceil(log2 s_max) - 1) / n)(TC + DTC)."""
    return float((2 ** math.ceil(math.log2(s_max)) - 1) / n * (tc + dtc))


def thm9_step_bound(n: int, eps: float, c: float) -> float:
    """CCL Thm 9: number of steps k <= 2 + (1 + ln n)(1 + ceil(C / eps))."""
    return 2 + (1 + math.log(n)) * (1 + math.ceil(c / eps))


def lz_bound(d: float, sizes) -> float:
    """LZ dimension-free bound under random order: E_fact <= (s_max - 1) D, D = (TC + DTC) / n."""
    return float((max(sizes) - 1) * d)


def lz_worst_case(n: int, k: int, q: int) -> float:
    """LZ worst case over laws and planners: E_fact <= (N - K) ln q."""
    return float((n - k) * math.log(q))
