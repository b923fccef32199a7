"""Adaptive unmasking rules: which masked positions a sampler reveals next, measured exactly.

Both papers analyse random-order unmasking with a fixed schedule. The samplers run in practice pick
the positions from the oracle's own outputs. This module is a registry of such rules over the oracle
protocol of :mod:`mdmsched.sampler` (any object with ``n``, ``q`` and
``conditional_marginals(x, revealed) -> float64 (m, n, q)``), with

* :func:`sample`: the generative sampler of a rule (any oracle);
* :func:`unmasking_law`: the exact law a rule samples from a pmf table (small n) and its mean
  number of oracle calls (NFE), by a recursion over revealed states;
* :func:`replay_log_likelihood` / :func:`kl_monte_carlo`: for choose-then-sample rules the revealed
  sets are a function of the sequence, so log nu(x) is the sum of the oracle's log-probabilities
  along the replayed trajectory, and KL(mu || nu) has an unbiased Monte Carlo estimate from samples
  of mu (any n);
* :func:`importance_log_likelihood`: for sample-then-choose rules log nu(x) is a log-sum over
  trajectories; sequential importance sampling with exactly computed step marginals gives an
  unbiased estimate of nu(x) and a consistent (upward-biased at finite paths) KL estimate;
  :func:`rule_log_likelihood` / :func:`kl_estimate` pick the right estimator for a rule;
* :func:`kl_divergence`, :func:`total_variation`.

Kinds of rules (``Rule.kind``):

* ``"choose-then-sample"``: the positions A revealed at a step depend only on the revealed state
  (S, x_S); then x_A is drawn from the product of the oracle's conditional marginals. ``max_prob``
  (MaskGIT, Chang et al. 2022: largest max_v p(v | x_S)), ``margin`` (top-1 minus top-2
  probability, largest first; Kim et al. 2025), ``entropy`` (smallest entropy first; Dream, Ye et
  al. 2025), each with a schedule of step sizes, and ``entropy_bound`` (EB-sampler, Ben-Hamu et
  al. 2025: positions sorted by entropy, the longest prefix whose entropies sum minus their maximum
  is <= gamma nats, at least one).
* ``"sample-then-choose"``: a candidate c_i ~ p(. | x_S) is drawn for every masked position and the
  positions kept depend on the candidates: ``confidence`` (LLaDA low-confidence remasking, Nie et
  al. 2025, temperature 1: keep the s_t candidates of highest probability p_i(c_i | x_S)) and
  ``threshold`` (Fast-dLLM, Wu et al. 2025: keep every candidate with p_i(c_i | x_S) > tau, at least
  the most probable one; candidates drawn at temperature 1).
* ``"reference"``: ``random`` (CCL Defs 14-15: a uniformly random s_t-subset of the masked
  positions; its law is the mixture of CCL Thm 16) and ``left_to_right`` (the s_t lowest masked
  indices).

Ties: scores are compared after rounding to 12 decimals (so that oracles computing the same number
in different ways agree), and equal scores are broken by the lowest position index, for every rule.
Scheduled rules take ``sizes`` (positive integers summing to n; default all ones); ``entropy_bound``
and ``threshold`` choose how many positions to reveal themselves and take no sizes. All quantities
are float64; KL and entropies are in nats.

Where a parallel step produced an assignment x_S of probability 0 under mu, the conditional is
undefined; like the library's exact oracles, it is taken uniform (KL(mu || nu) reads nu only on the
support of mu and does not depend on that choice).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from . import information
from .error import _mean_se
from .schedules import uniform, validate_sizes

__all__ = [
    "Rule",
    "RULES",
    "CHOOSE",
    "SAMPLE",
    "REFERENCE",
    "get_rule",
    "rule_settings",
    "select",
    "sample",
    "unmasking_law",
    "replay_log_likelihood",
    "kl_monte_carlo",
    "importance_log_likelihood",
    "rule_log_likelihood",
    "kl_estimate",
    "kl_divergence",
    "total_variation",
]

CHOOSE, SAMPLE, REFERENCE = "choose-then-sample", "sample-then-choose", "reference"
DECIMALS = 12  # scores equal to this many decimals are ties (broken by the lowest position index)


@dataclass(frozen=True)
class Rule:
    """One unmasking rule: ``name``, ``kind`` (:data:`CHOOSE`, :data:`SAMPLE` or :data:`REFERENCE`),
    the ``paper`` it comes from, its ``params`` (name -> default), whether it follows a schedule of
    step sizes (``scheduled``) and a one-line ``description``."""

    name: str
    kind: str
    paper: str
    description: str
    scheduled: bool = True
    params: dict = field(default_factory=dict)

    @property
    def deterministic(self) -> bool:
        """True when the positions chosen are a function of the revealed state (and candidates)."""
        return self.name != "random"


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("max_prob", CHOOSE, "MaskGIT (Chang et al. 2022)", "largest max_v p_i(v | x_S) first"),
        Rule("margin", CHOOSE, "Kim et al. 2025 (top-2 margin)", "largest top-1 minus top-2 probability first"),
        Rule("entropy", CHOOSE, "Dream (Ye et al. 2025)", "smallest entropy of p_i(. | x_S) first"),
        Rule("entropy_bound", CHOOSE, "EB-sampler (Ben-Hamu et al. 2025)",
             "by entropy, longest prefix with sum(H) - max(H) <= gamma (nats), at least one",
             scheduled=False, params={"gamma": 0.1}),
        Rule("confidence", SAMPLE, "LLaDA low-confidence remasking (Nie et al. 2025)",
             "candidates at temperature 1; keep the s_t of highest p_i(c_i | x_S)"),
        Rule("threshold", SAMPLE, "Fast-dLLM (Wu et al. 2025)",
             "candidates at temperature 1; keep every p_i(c_i | x_S) > tau, at least the best one",
             scheduled=False, params={"tau": 0.9}),
        Rule("random", REFERENCE, "CCL Defs 14-15, Thm 16", "uniformly random s_t-subset of the masked positions"),
        Rule("left_to_right", REFERENCE, "autoregressive order", "the s_t lowest masked indices"),
    )
}


def get_rule(rule) -> Rule:
    """The :class:`Rule` named ``rule`` (or ``rule`` itself); ValueError naming the rule otherwise."""
    if isinstance(rule, Rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"unknown unmasking rule {rule!r}; expected one of {sorted(RULES)}")
    return RULES[rule]


def _check_params(rule: Rule, params: dict) -> dict:
    unknown = set(params) - set(rule.params)
    if unknown:
        raise ValueError(f"rule {rule.name!r} takes parameters {sorted(rule.params)}, got unknown {sorted(unknown)}")
    values = {**rule.params, **params}
    if "gamma" in values:
        gamma = values["gamma"]
        if not isinstance(gamma, (int, float, np.integer, np.floating)) or not math.isfinite(gamma) or gamma < 0:
            raise ValueError(f"gamma must be a finite number >= 0 (nats), got {gamma!r}")
        values["gamma"] = float(gamma)
    if "tau" in values:
        tau = values["tau"]
        if not isinstance(tau, (int, float, np.integer, np.floating)) or not 0 < tau <= 1:
            raise ValueError(f"tau must be a probability in (0, 1], got {tau!r}")
        values["tau"] = float(tau)
    return values


def _check_sizes(rule: Rule, sizes, n: int):
    if not rule.scheduled:
        if sizes is not None:
            raise ValueError(f"rule {rule.name!r} chooses its own step sizes; sizes must be None, got {sizes!r}")
        return None
    if sizes is None:
        return np.ones(n, dtype=np.int64)
    return validate_sizes(sizes, n)


def rule_settings(n: int, rules, ks=(), gammas=(), taus=()) -> list[tuple]:
    """(rule, setting label, k, sizes, params) for every rule of ``rules`` (names, in order): a
    scheduled rule once per k of ``ks`` with constant sizes (:func:`mdmsched.schedules.uniform`,
    setting ``"k=K"``), ``entropy_bound`` once per gamma of ``gammas`` (nats, ``"gamma=G"``),
    ``threshold`` once per tau of ``taus`` (``"tau=T"``); k is NaN for the last two (they choose
    their own number of steps). ValueError naming the parameter for an unknown rule, a k outside
    1..n, a gamma < 0 or a tau outside (0, 1]."""
    out = []
    for name in rules:
        rule = get_rule(name)
        if rule.scheduled:
            for k in ks:
                if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
                    raise ValueError(f"step counts k must be integers in 1..n={n}, got {k!r}")
                out.append((rule.name, f"k={int(k)}", int(k), uniform(n, int(k)), {}))
        elif rule.name == "entropy_bound":
            out += [(rule.name, f"gamma={gamma:g}", math.nan, None, _check_params(rule, {"gamma": gamma}))
                    for gamma in gammas]
        else:
            out += [(rule.name, f"tau={tau:g}", math.nan, None, _check_params(rule, {"tau": tau})) for tau in taus]
    return out


# --- scores and selections (vectorized over a batch of states) -----------------------------------


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row of the last axis."""
    return information.entropy_last_axis(probs)


def _snap(score: np.ndarray) -> np.ndarray:
    return np.round(score, DECIMALS)


def _top(score: np.ndarray, revealed: np.ndarray, size) -> np.ndarray:
    """bool (m, n): the ``size`` masked positions of largest score per row, ties to the lowest index.
    ``size`` is an int or an int array (m,)."""
    score = np.where(revealed, -np.inf, _snap(score))
    order = np.argsort(-score, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(score.shape[1])[None, :].repeat(len(score), 0), axis=1)
    size = np.asarray(size).reshape(-1, 1) if np.ndim(size) else size
    return (rank < size) & ~revealed


def select(rule, probs, revealed, size=None, candidates=None, rng=None, **params) -> np.ndarray:
    """The positions ``rule`` reveals at one step, bool (m, n), from a batch of states.

    ``probs``: float64 (m, n, q) conditional marginals given the revealed entries; ``revealed``: bool
    (m, n); ``size``: the step size s_t (scheduled rules; int or int array (m,)); ``candidates``:
    int (m, n) candidate symbols (sample-then-choose rules); ``rng``: the generator of the
    ``random`` rule. Rows with nothing masked get an empty selection.
    """
    rule = get_rule(rule)
    values = _check_params(rule, params)
    probs = np.asarray(probs, dtype=np.float64)
    revealed = np.asarray(revealed, dtype=bool)
    name = rule.name
    if name == "max_prob":
        return _top(probs.max(axis=-1), revealed, size)
    if name == "margin":
        ordered = np.sort(probs, axis=-1)
        second = ordered[..., -2] if probs.shape[-1] > 1 else 0.0
        return _top(ordered[..., -1] - second, revealed, size)
    if name == "entropy":
        return _top(-_entropy(probs), revealed, size)
    if name == "left_to_right":
        return _top(np.broadcast_to(-np.arange(revealed.shape[1], dtype=np.float64), revealed.shape), revealed, size)
    if name == "random":
        if rng is None:
            raise ValueError("the random rule needs rng")
        return _top(rng.random(revealed.shape), revealed, size)
    if name == "entropy_bound":
        h = np.where(revealed, np.inf, _snap(_entropy(probs)))
        order = np.argsort(h, axis=1, kind="stable")
        sorted_h = np.take_along_axis(h, order, axis=1)
        finite = np.isfinite(sorted_h)
        before = np.cumsum(np.where(finite, sorted_h, 0.0), axis=1) - np.where(finite, sorted_h, 0.0)
        # sorted ascending: sum of the prefix minus its maximum = sum of the entries before the last
        accept = finite & (_snap(before) <= values["gamma"])
        chosen = np.zeros_like(revealed)
        np.put_along_axis(chosen, order, accept, axis=1)
        return chosen
    if candidates is None:
        raise ValueError(f"rule {name!r} draws candidates first; pass candidates")
    candidates = np.asarray(candidates, dtype=np.int64)
    confidence = np.take_along_axis(probs, candidates[..., None], axis=-1)[..., 0]
    if name == "confidence":
        return _top(confidence, revealed, size)
    if name == "threshold":
        keep = (_snap(confidence) > values["tau"]) & ~revealed
        best = _top(confidence, revealed, 1)
        return np.where(keep.any(axis=1, keepdims=True), keep, best)
    raise AssertionError(name)


def _draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[:-1] + (1,)) * cdf[..., -1:]
    return np.minimum((u >= cdf).sum(axis=-1), probs.shape[-1] - 1)


def _step_size(sizes, counts, revealed_count):
    """The scheduled size of the step starting with ``revealed_count`` tokens revealed (int array)."""
    if sizes is None:
        return None
    index = np.searchsorted(counts, revealed_count)
    return sizes[np.minimum(index, len(sizes) - 1)]


def sample(oracle, rule, m: int, rng: np.random.Generator, sizes=None, **params):
    """Draw m sequences with ``rule`` over ``oracle``: returns (x int64 (m, n), steps int64 (m,)), the
    number of oracle calls each sequence took. Candidates and tokens are drawn by inverse CDF."""
    rule = get_rule(rule)
    _check_params(rule, params)
    n = oracle.n
    sizes = _check_sizes(rule, sizes, n)
    counts = None if sizes is None else np.cumsum(np.concatenate([[0], sizes]))
    x = np.zeros((m, n), dtype=np.int64)
    revealed = np.zeros((m, n), dtype=bool)
    steps = np.zeros(m, dtype=np.int64)
    while not revealed.all():
        active = ~revealed.all(axis=1)
        probs = np.asarray(oracle.conditional_marginals(x, revealed), dtype=np.float64)
        draws = _draw(probs, rng)
        size = _step_size(sizes, counts, revealed.sum(axis=1))
        chosen = select(rule, probs, revealed, size, candidates=draws, rng=rng, **params) & active[:, None]
        x[chosen] = draws[chosen]
        revealed |= chosen
        steps += active
    return x, steps


# --- the exact law (small n) ---------------------------------------------------------------------


class _PartialTable:
    """Marginal probabilities of every partial assignment of a pmf, indexed in base q + 1 (digit q =
    masked; position 0 is the most significant digit): ``table[t]`` = mu(X_S = x_S)."""

    def __init__(self, p: np.ndarray):
        self.n, self.q = p.ndim, p.shape[0]
        n, q = self.n, self.q
        table = np.zeros((q + 1,) * n)
        table[(slice(0, q),) * n] = p
        for axis in range(n):
            index = [slice(None)] * n
            index[axis] = q
            source = [slice(None)] * n
            source[axis] = slice(0, q)
            table[tuple(index)] = table[tuple(source)].sum(axis=axis)
        self.flat = table.reshape(-1)
        self.powers = (q + 1) ** np.arange(n - 1, -1, -1, dtype=np.int64)

    def index(self, digits: np.ndarray) -> np.ndarray:
        return digits @ self.powers

    def conditionals(self, digits: np.ndarray, index: np.ndarray) -> np.ndarray:
        """float64 (m, n, q): mu(X_i = v | x_S) for states given by base-(q+1) digits (m, n); revealed
        rows one-hot; uniform where mu(x_S) = 0."""
        q = self.q
        masked = digits == q
        values = np.arange(q)
        neighbour = index[:, None, None] - ((q - values)[None, None, :] * self.powers[None, :, None]) * masked[..., None]
        joint = self.flat[neighbour]
        base = self.flat[index][:, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(base > 0, joint / np.where(base > 0, base, 1.0), 1.0 / q)
        revealed_rows = ~masked
        one_hot = (digits[..., None] == values[None, None, :]).astype(np.float64)
        return np.where(revealed_rows[..., None], one_hot, out)


def unmasking_law(p, rule, sizes=None, **params):
    """Exact law of the sequences ``rule`` samples with the exact oracle of the pmf ``p``.

    ``p``: pmf table of shape (q,)*n (float64, sums to 1). Returns ``(law, mean_steps)``: ``law``
    float64 of the shape of p, and the mean number of oracle calls (NFE) under that law. Recursion
    over revealed states (S, x_S) in order of |S| (every step reveals at least one token): the
    probability of visiting each state is pushed forward over the candidate draws y (the sampled
    values of every masked position, drawn independently from the conditional marginals) and, for
    the ``random`` rule, over the C(m, s) equally likely subsets. Cost ~ 2^n q^n (n = 10, q = 2:
    about a second). ValueError for an unknown rule, bad sizes or parameters, or p too large.
    """
    rule = get_rule(rule)
    values = _check_params(rule, params)
    p = information.check_pmf(p)
    n, q = p.ndim, p.shape[0]
    if (q + 1) ** n > 1 << 24:
        raise ValueError(f"exact unmasking law needs (q+1)^n <= 2^24 partial states, got ({q}+1)^{n}")
    sizes = _check_sizes(rule, sizes, n)
    counts = None if sizes is None else np.cumsum(np.concatenate([[0], sizes]))
    table = _PartialTable(p)
    visit = np.zeros((q + 1) ** n)
    visit[table.index(np.full(n, q))] = 1.0
    # digits and level of every partial state
    digits_all = ((np.arange((q + 1) ** n)[:, None] // table.powers[None, :]) % (q + 1)).astype(np.int64)
    level = (digits_all != q).sum(axis=1)
    mean_steps = 0.0
    for r in range(n):
        states = np.nonzero((level == r) & (visit > 0))[0]
        if len(states) == 0:
            continue
        mean_steps += float(visit[states].sum())
        masked_count = n - r
        completions = np.indices((q,) * masked_count).reshape(masked_count, -1).T  # (q^m, m)
        for chunk in np.array_split(states, max(1, len(states) * len(completions) // 200_000)):
            _push(table, visit, digits_all[chunk], chunk, completions, rule, values, sizes, counts, r)
    full = np.nonzero(level == n)[0]
    law = np.zeros(q**n)
    # full states in base q+1 digit order = lexicographic order of Sigma^n
    law[:] = visit[full]
    law = law.reshape((q,) * n)
    return law, mean_steps


def _push(table, visit, digits, index, completions, rule, values, sizes, counts, r):
    """Push the visit probability of the states ``index`` (digits (K, n)) one step forward."""
    q, n = table.q, table.n
    probs = table.conditionals(digits, index)  # (K, n, q)
    masked = digits == q
    positions = np.argsort(~masked, axis=1, kind="stable")[:, : n - r]  # masked positions (K, m)
    count = len(completions)
    y = np.repeat(digits, count, axis=0)
    np.put_along_axis(y, np.repeat(positions, count, axis=0), np.tile(completions, (len(digits), 1)), axis=1)
    state = np.repeat(np.arange(len(digits)), count)
    row_probs = probs[state]  # (R, n, q)
    picked = np.take_along_axis(row_probs, y[..., None], axis=-1)[..., 0]
    weight = visit[index][state] * np.prod(np.where(masked[state], picked, 1.0), axis=1)
    keep = weight > 0
    y, state, row_probs, weight = y[keep], state[keep], row_probs[keep], weight[keep]
    revealed = ~masked[state]
    size = None if sizes is None else int(_step_size(sizes, counts, np.array([r]))[0])
    if rule.name == "random":
        m = n - r
        options = list(itertools.combinations(range(m), size))
        ranks = np.argsort(revealed, axis=1, kind="stable")[:, :m]  # masked positions per row
        share = weight / len(options)
        for option in options:
            chosen = np.zeros_like(revealed)
            np.put_along_axis(chosen, ranks[:, list(option)], True, axis=1)
            _deposit(table, visit, y, revealed | chosen, share)
        return
    chosen = select(rule, row_probs, revealed, size, candidates=y, **values)
    _deposit(table, visit, y, revealed | chosen, weight)


def _deposit(table, visit, y, now_revealed, weight):
    target = table.index(np.where(now_revealed, y, table.q))
    visit += np.bincount(target, weights=weight, minlength=len(visit))


# --- divergences -----------------------------------------------------------------------------------


def kl_divergence(p, r) -> float:
    """KL(p || r) in nats of two tables of the same shape (0 ln 0 = 0; +inf where r = 0 < p)."""
    p, r = np.asarray(p, dtype=np.float64), np.asarray(r, dtype=np.float64)
    support = p > 0
    if np.any(r[support] <= 0):
        return math.inf
    return float(np.sum(p[support] * (np.log(p[support]) - np.log(r[support]))))


def total_variation(p, r) -> float:
    """Total variation distance (half the L1 distance) of two tables of the same shape."""
    return 0.5 * float(np.abs(np.asarray(p, dtype=np.float64) - np.asarray(r, dtype=np.float64)).sum())


# --- Monte Carlo (any n) ---------------------------------------------------------------------------


def replay_log_likelihood(oracle, x, rule, sizes=None, rng: np.random.Generator | None = None, **params):
    """log nu(x) of a choose-then-sample rule (or a reference rule) for each row of x, by replaying
    the rule along x: returns (log_nu float64 (m,), steps int64 (m,)).

    The set revealed at each step is a function of the revealed state, so the trajectory that
    produces x is unique and log nu(x) = sum_t sum_{i in A_t} log p(x_i | x_{S_<t}). For ``random``
    one uniformly random partition is drawn per row (``rng`` needed), which gives log nu^S(x) for a
    random S: its mean under mu is CCL Thm 4's expected KL, an upper bound on the KL of the mixture
    (CCL Thm 16). ValueError for sample-then-choose rules (their trajectory is not a function of x).
    """
    rule = get_rule(rule)
    if rule.kind == SAMPLE:
        raise ValueError(f"rule {rule.name!r} chooses after sampling: log nu(x) is a sum over trajectories")
    _check_params(rule, params)
    x = np.asarray(x, dtype=np.int64)
    m, n = x.shape
    sizes = _check_sizes(rule, sizes, n)
    counts = None if sizes is None else np.cumsum(np.concatenate([[0], sizes]))
    revealed = np.zeros((m, n), dtype=bool)
    total = np.zeros(m)
    steps = np.zeros(m, dtype=np.int64)
    while not revealed.all():
        active = ~revealed.all(axis=1)
        probs = np.asarray(oracle.conditional_marginals(x, revealed), dtype=np.float64)
        size = _step_size(sizes, counts, revealed.sum(axis=1))
        chosen = select(rule, probs, revealed, size, rng=rng, **params) & active[:, None]
        picked = np.take_along_axis(probs, x[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore"):
            total += np.where(chosen, np.log(picked), 0.0).sum(axis=1)
        revealed |= chosen
        steps += active
    return total, steps


def kl_monte_carlo(family, rule, m: int, rng: np.random.Generator, sizes=None, oracle=None, batch: int = 1024, **params) -> dict:
    """Unbiased Monte Carlo KL(mu || nu) of a choose-then-sample / reference rule: x ~ mu (``family``),
    log mu(x) - log nu(x) by :func:`replay_log_likelihood` with ``oracle`` (default the family's own
    exact conditionals). Returns {"kl", "kl_se" (standard error), "steps" (mean oracle calls along
    the replayed trajectories, i.e. under mu), "m"}."""
    rule = get_rule(rule)
    if rule.kind == SAMPLE:
        raise ValueError(f"rule {rule.name!r} chooses after sampling: log nu(x) is a sum over trajectories")
    return {key: value for key, value in _kl_over_samples(family, rule, m, rng, sizes, oracle, 1, batch, params).items()
            if key != "estimator"}


def _kl_over_samples(family, rule, m, rng, sizes, oracle, paths, batch, params) -> dict:
    """Mean and standard error of log mu(x) - log nu(x) over ``m`` draws x ~ mu, ``batch`` at a time,
    log nu by :func:`rule_log_likelihood`."""
    oracle = family if oracle is None else oracle
    values, steps = [], []
    for start in range(0, m, batch):
        count = min(batch, m - start)
        x = family.sample(count, rng)
        log_nu, used, estimator = rule_log_likelihood(oracle, x, rule, rng, sizes, paths=paths, **params)
        values.append(family.log_prob(x) - log_nu)
        steps.append(used)
    return {**_mean_se("kl", np.concatenate(values)), "steps": float(np.nanmean(np.concatenate(steps))), "m": int(m),
            "estimator": estimator}


def _loses(probs, theta, rank_position, positions):
    """L[r, k, i] = P_{c ~ p_i}(candidate of slot i ranks after (theta[r, k], rank_position[r, k])):
    its snapped probability is below theta, or equal with a larger position index. ``probs`` (R, J, q)
    and ``positions`` (R, J) of the slots; ``theta`` (R, K) snapped; returns float64 (R, K, J).

    By sorting instead of comparing every symbol with every threshold: the snapped probabilities
    as integers (round(p 10^DECIMALS): the same order and ties as :func:`_snap`), sorted per slot
    with their cumulative mass, and each threshold located by one binary search over all slots at
    once (each slot's keys shifted into its own range). O(R J q log q + R K J log(R J q)) instead
    of O(R K J q)."""
    r_count, j_count, q = probs.shape
    scale = 10.0**DECIMALS
    keys = np.rint(probs * scale).astype(np.int64)
    order = np.argsort(keys, axis=-1, kind="stable")
    keys = np.take_along_axis(keys, order, axis=-1)
    mass = np.zeros((r_count, j_count, q + 1))
    np.cumsum(np.take_along_axis(probs, order, axis=-1), axis=-1, out=mass[..., 1:])
    stride = 2 * int(scale)  # > every key (probabilities are at most 1 up to rounding)
    start = np.arange(r_count * j_count, dtype=np.int64).reshape(r_count, j_count)
    flat = (keys + (start * stride)[..., None]).ravel()
    query = np.rint(theta * scale).astype(np.int64)[:, :, None] + (start * stride)[:, None, :]  # (R, K, J)
    first = (start * q)[:, None, :]
    below = np.searchsorted(flat, query, side="left") - first
    upto = np.searchsorted(flat, query, side="right") - first
    rows, slots = np.arange(r_count)[:, None, None], np.arange(j_count)[None, None, :]
    lower = mass[rows, slots, below]
    later = positions[:, None, :] > rank_position[:, :, None]
    return lower + np.where(later, mass[rows, slots, upto] - lower, 0.0)


def _masked_slots(probs, revealed, x, key=None):
    """Gather the masked positions of each row into slots 0..m_max-1 (sorted by ``key`` descending,
    ties by index; by index when key is None): (order (R, m), slot mask (R, m), probs (R, m, q),
    x-probabilities (R, m))."""
    n = revealed.shape[1]
    score = np.where(revealed, -np.inf, 0.0 if key is None else _snap(key))
    order = np.argsort(-score, axis=1, kind="stable")
    m = int((~revealed).sum(axis=1).max())
    order = order[:, :m]
    slot = ~np.take_along_axis(revealed, order, axis=1)
    rows = np.arange(len(order))[:, None]
    slot_probs = probs[rows, order]
    a = np.take_along_axis(slot_probs, x[rows, order][..., None], axis=-1)[..., 0]
    return order, slot, slot_probs, np.where(slot, a, 0.0), n


def _confidence_step(probs, revealed, x, size, rng):
    """One exact step of the confidence rule restricted to the trajectories producing x: returns
    (Z, chosen) with Z = sum_A P(kept set A, c_A = x_A) (float64 (R,)) and A drawn with probability
    P(A, c_A = x_A) / Z (bool (R, n)). Decomposition by the weakest kept position a* (slot k in the
    order of x-confidence): the other kept positions rank before it, every position not kept ranks
    after it, independently across positions; a dynamic programme over the slots before k sums the
    ways to pick the other s - 1. O(R m^2 s)."""
    a_full = np.take_along_axis(probs, x[..., None], axis=-1)[..., 0]
    order, slot, ps, a, n = _masked_slots(probs, revealed, x, key=a_full)
    r_count, m = slot.shape
    s = int(size)
    theta = _snap(a)
    lose = _loses(ps, theta, order, order)  # (R, k, i)
    lose = np.where(slot[:, None, :], lose, 1.0)
    idx = np.arange(m)
    after = idx[None, :] > idx[:, None]  # (k, i)
    p_after = np.prod(np.where(after[None], lose, 1.0), axis=2)  # (R, k)
    forward = np.zeros((r_count, m, s))
    forward[:, :, 0] = 1.0
    for i in range(m):
        updated = forward * lose[:, :, i, None]
        updated[:, :, 1:] += forward[:, :, :-1] * a[:, i, None, None]
        forward = np.where((idx > i)[None, :, None], updated, forward)
    weights = np.where((idx[None, :] >= s - 1) & slot, a * p_after * forward[:, :, s - 1], 0.0)
    total = weights.sum(axis=1)
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(r_count) * total
    k = np.minimum((u[:, None] >= cdf).sum(axis=1), m - 1)
    every = np.arange(r_count)
    chosen_slots = np.zeros((r_count, m), dtype=bool)
    chosen_slots[every, k] = True
    lose_k = lose[every, k]  # (R, i)
    table = np.zeros((r_count, m + 1, s))
    table[:, 0, 0] = 1.0
    for i in range(m):
        table[:, i + 1] = table[:, i] * lose_k[:, i, None]
        table[:, i + 1, 1:] += table[:, i, :-1] * a[:, i, None]
    need = np.full(r_count, s - 1)
    for i in range(m - 1, -1, -1):
        live = (i < k) & (need > 0)
        if not live.any():
            continue
        t = np.maximum(need, 1)
        numerator = table[every, i, t - 1] * a[:, i]
        denominator = table[every, i + 1, t]
        include = live & (rng.random(r_count) * denominator < numerator)
        chosen_slots[include, i] = True
        need -= include
    chosen = np.zeros((r_count, n), dtype=bool)
    np.put_along_axis(chosen, order, chosen_slots & slot, axis=1)
    chosen &= (total > 0)[:, None]
    return total, chosen


def _threshold_step(probs, revealed, x, tau, rng):
    """As :func:`_confidence_step` for the threshold rule: the kept set is every candidate above tau
    (all must equal x there, every other candidate at most tau), or, when none is, the single best
    candidate (every other ranks after it)."""
    order, slot, ps, a, n = _masked_slots(probs, revealed, x)
    r_count, m = slot.shape
    a_snap = _snap(a)
    below = np.where(slot, (ps * (_snap(ps) <= tau)).sum(axis=-1), 1.0)
    high = slot & (a_snap > tau)
    with_high = np.prod(below + np.where(high, a, 0.0), axis=1)
    without = np.prod(below, axis=1)
    term_set = np.maximum(with_high - without, 0.0)
    lose = np.where(slot[:, None, :], _loses(ps, a_snap, order, order), 1.0)  # (R, a, j)
    lose = np.where(np.eye(m, dtype=bool)[None], 1.0, lose)
    term_single = np.where(slot & ~high, a * np.prod(lose, axis=2), 0.0)
    total = term_set + term_single.sum(axis=1)
    u = rng.random(r_count) * total
    use_set = u < term_set
    every = np.arange(r_count)
    cdf = np.cumsum(term_single, axis=1)
    single = np.minimum(((u - term_set)[:, None] >= cdf).sum(axis=1), m - 1)
    chosen_slots = np.zeros((r_count, m), dtype=bool)
    chosen_slots[every, single] = True
    # a nonempty subset of the high slots, each in with rho = a / (a + below), given nonempty
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(high, a / (a + below), 0.0)
    out_before = np.cumprod(np.concatenate([np.ones((r_count, 1)), 1 - rho[:, :-1]], axis=1), axis=1)
    first_cdf = np.cumsum(rho * out_before, axis=1)
    v = rng.random(r_count) * first_cdf[:, -1]
    first = np.minimum((v[:, None] >= first_cdf).sum(axis=1), m - 1)
    subset = (rng.random((r_count, m)) < rho) & (np.arange(m)[None, :] > first[:, None])
    subset[every, first] = True
    chosen_slots = np.where(use_set[:, None], subset & high, chosen_slots)
    chosen = np.zeros((r_count, n), dtype=bool)
    np.put_along_axis(chosen, order, chosen_slots & slot, axis=1)
    chosen &= (total > 0)[:, None]
    return total, chosen


def importance_log_likelihood(oracle, x, rule, rng: np.random.Generator, sizes=None, paths: int = 8, **params):
    """Estimate of log nu(x) of a sample-then-choose rule for each row of x: returns
    (log_nu_hat float64 (m,), steps float64 (m,)).

    Sequential importance sampling over the trajectories that produce x, with the locally exact
    proposal: at each step the total probability Z_t = sum_A P(kept set A, kept candidates = x_A)
    is computed exactly (candidates are independent given the state, so the event factorizes over
    positions once the weakest kept position, or the threshold case, is fixed: an O(n^2 s) dynamic
    programme for ``confidence``, closed form for ``threshold``) and A_t is drawn proportionally to
    its term. prod_t Z_t is then an unbiased estimate of nu(x); the log-mean-exp over ``paths``
    independent trajectories is a consistent estimate of log nu(x) (exact when the trajectory is
    unique; biased downward by Jensen at finite ``paths`` otherwise, so the KL built from it is
    biased upward). ``steps``: mean oracle calls over the trajectories.
    """
    rule = get_rule(rule)
    values = _check_params(rule, params)
    if rule.kind != SAMPLE:
        raise ValueError(f"rule {rule.name!r} is not sample-then-choose; use replay_log_likelihood")
    if paths < 1:
        raise ValueError(f"paths must be >= 1, got {paths!r}")
    x = np.asarray(x, dtype=np.int64)
    m, n = x.shape
    sizes = _check_sizes(rule, sizes, n)
    counts = None if sizes is None else np.cumsum(np.concatenate([[0], sizes]))
    xs = np.repeat(x, paths, axis=0)
    revealed = np.zeros(xs.shape, dtype=bool)
    log_w = np.zeros(len(xs))
    steps = np.zeros(len(xs))
    while not revealed.all():
        active = ~revealed.all(axis=1)
        rows = np.nonzero(active)[0]
        probs = np.asarray(oracle.conditional_marginals(xs[rows], revealed[rows]), dtype=np.float64)
        if rule.name == "confidence":
            done = revealed[rows].sum(axis=1)
            size = _step_size(sizes, counts, done)
            total, chosen = np.zeros(len(rows)), np.zeros((len(rows), n), dtype=bool)
            for value in np.unique(done):
                part = done == value
                total[part], chosen[part] = _confidence_step(probs[part], revealed[rows][part], xs[rows][part],
                                                             size[part][0], rng)
        else:
            total, chosen = _threshold_step(probs, revealed[rows], xs[rows], values["tau"], rng)
        with np.errstate(divide="ignore"):
            log_w[rows] += np.log(total)
        dead = total <= 0
        chosen[dead] = ~revealed[rows][dead]  # a zero-probability path: finish it (weight is 0)
        revealed[rows] |= chosen
        steps[rows] += 1
    log_w = log_w.reshape(m, paths)
    top = log_w.max(axis=1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        log_nu = safe[:, 0] + np.log(np.exp(log_w - safe).mean(axis=1))
    return log_nu, steps.reshape(m, paths).mean(axis=1)


def rule_log_likelihood(oracle, x, rule, rng: np.random.Generator, sizes=None, paths: int = 8, **params):
    """log nu(x) of ``rule`` driven by ``oracle`` for each row of x (int (m, n)), by the right
    estimator: returns (log_nu float64 (m,) in nats, steps float64 (m,) oracle calls, estimator str).

    Choose-then-sample and reference rules: :func:`replay_log_likelihood` (exact for one x; for
    ``random`` one random partition per row, whose mean over x ~ mu is CCL Thm 4's expected KL).
    Sample-then-choose rules: :func:`importance_log_likelihood` with ``paths`` trajectories per row
    (consistent; the KL built from it is biased upward at finite ``paths``). Raises what those raise
    (an unknown rule, bad sizes or parameters, ``paths`` < 1)."""
    rule = get_rule(rule)
    if rule.kind == SAMPLE:
        log_nu, steps = importance_log_likelihood(oracle, x, rule, rng, sizes, paths=paths, **params)
        return log_nu, steps, f"sequential importance sampling, exact step marginals, {paths} paths (consistent)"
    log_nu, steps = replay_log_likelihood(oracle, x, rule, sizes, rng=rng, **params)
    return log_nu, steps.astype(np.float64), "replay (unbiased)"


def kl_estimate(family, rule, m: int, rng: np.random.Generator, sizes=None, oracle=None, paths: int = 8, batch: int = 128, **params) -> dict:
    """KL(mu || nu) of any rule by Monte Carlo over x ~ mu (``family``): the unbiased replay estimate
    (:func:`kl_monte_carlo`) for choose-then-sample and reference rules, the consistent importance
    estimate (:func:`importance_log_likelihood`, ``paths`` runs per sample) for sample-then-choose
    rules. Returns {"kl", "kl_se", "steps", "m", "estimator"}; ``kl_se`` is the standard error over x
    only (the finite-``paths`` bias of the importance estimate is not in it)."""
    rule = get_rule(rule)
    if rule.kind != SAMPLE:
        return {**kl_monte_carlo(family, rule, m, rng, sizes, oracle, **params), "estimator": "replay (unbiased)"}
    return _kl_over_samples(family, rule, m, rng, sizes, oracle, paths, batch, params)
