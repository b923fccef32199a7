"""The random (and fixed-set) parallel unmasking sampler over any oracle (CCL Defs 14-15).

An *oracle* is any object with ``n``, ``q`` and ``conditional_marginals(x, revealed)`` returning
float64 (m, n, q) conditional marginals: every family in :mod:`mdmsched.distributions` and the
trained model wrapper in :mod:`mdmsched.mdm` qualify. Sampling is done in float64 by inverse CDF.
"""

from __future__ import annotations

import numpy as np

from .distributions import categorical
from .schedules import validate_sizes

__all__ = ["random_orders", "step_of_position", "sample", "schedule_log_likelihood", "schedule_log_likelihoods"]


def random_orders(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """m independent uniform permutations of range(n), int64 (m, n): order[r, t] = t-th position revealed."""
    return np.argsort(rng.random((m, n)), axis=1)


def step_of_position(orders: np.ndarray, sizes) -> np.ndarray:
    """For each row, the step (0-based) at which each position is revealed, given an order and sizes.

    Consecutive chunks of the order form the sets S_1, ..., S_k of a uniformly random partition
    with |S_t| = s_t, exactly the random unmasking algorithm of CCL Def 15.
    """
    orders = np.asarray(orders, dtype=np.int64)
    sizes = validate_sizes(sizes, orders.shape[1])
    step_of_rank = np.repeat(np.arange(len(sizes)), sizes)
    steps = np.empty_like(orders)
    np.put_along_axis(steps, orders, np.broadcast_to(step_of_rank, orders.shape), axis=1)
    return steps


def sample(oracle, sizes, m: int, rng: np.random.Generator, orders=None) -> np.ndarray:
    """Draw m samples with the random unmasking sampler: at step t the s_t positions of S_t are drawn
    independently from the oracle's conditional marginals given everything revealed before t."""
    n = oracle.n
    orders = random_orders(m, n, rng) if orders is None else np.asarray(orders)
    steps = step_of_position(orders, sizes)
    x = np.zeros((m, n), dtype=np.int64)
    for t in range(len(validate_sizes(sizes, n))):
        revealed = steps < t
        probs = np.asarray(oracle.conditional_marginals(x, revealed), dtype=np.float64)
        draws = categorical(probs, rng)
        target = steps == t
        x[target] = draws[target]
    return x


def schedule_log_likelihood(oracle, x, sizes, rng: np.random.Generator | None = None, orders=None) -> np.ndarray:
    """log nu^{S_1..S_k}(x) for each row of x, with one random partition per row (or given ``orders``):
    sum over steps t and positions i in S_t of log p(x_i | x_{S_1 + ... + S_{t-1}}).

    Averaged over x ~ mu, log mu(x) minus this is the expected KL (CCL Def 1); with a text model it is
    the schedule's log-likelihood of held-out data. k oracle calls. Float64 (m,), nats.
    """
    return schedule_log_likelihoods(oracle, x, [sizes], rng, orders)[0]


def schedule_log_likelihoods(oracle, x, schedules, rng: np.random.Generator | None = None, orders=None) -> np.ndarray:
    """:func:`schedule_log_likelihood` of several schedules on the same x and orders, float64
    (len(schedules), m), nats.

    With a shared order, step t of every schedule conditions on a prefix ``order[:a]`` of it, a the
    step's start (a boundary ``s_1 + ... + s_{t-1}``), so the oracle is called once per distinct
    boundary of all the schedules together (at most n calls, instead of the sum of their step
    counts) and each step sums the log-probabilities of its own chunk ``order[a:b]``. Raises
    ValueError for invalid sizes or when neither ``rng`` nor ``orders`` is given.
    """
    x = np.asarray(x, dtype=np.int64)
    m, n = x.shape
    if orders is None:
        if rng is None:
            raise ValueError("pass rng or orders")
        orders = random_orders(m, n, rng)
    orders = np.asarray(orders, dtype=np.int64)
    chunks = {}  # step start a -> [(schedule index, step end b)]
    for index, sizes in enumerate(schedules):
        bounds = np.concatenate([[0], np.cumsum(validate_sizes(sizes, n))])
        for a, b in zip(bounds[:-1], bounds[1:]):
            chunks.setdefault(int(a), []).append((index, int(b)))
    total = np.zeros((len(schedules), m))
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.broadcast_to(np.arange(n), orders.shape), axis=1)
    rows = np.arange(m)[:, None]
    for a in sorted(chunks):
        probs = np.asarray(oracle.conditional_marginals(x, rank < a), dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_p = np.log(probs[rows, orders, x[rows, orders]])  # (m, n) in revealing order
        for index, b in chunks[a]:
            total[index] += log_p[:, a:b].sum(axis=1)
    return total
