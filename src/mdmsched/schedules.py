"""Unmasking schedules: positive integer step sizes s_1..s_k with sum n.

One registry, :data:`SCHEDULES`, maps a name to a :class:`Schedule` record (constructor, kind, what
it needs, plot style, paper result); :func:`schedule` builds any of them by name. The DP optimum of
CCL Eq. 1 lives here too (:func:`optimal_schedule`, :func:`optimal_path`, :func:`optimal_errors`). Grid-based schedules (cosine, log-linear, polynomial, geometric, square-root rule) place
the revealed counts N_1 < ... < N_k = n on a grid and repair collisions so every step reveals at
least one token and exactly k steps are taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import information

__all__ = [
    "dp_layer",
    "Schedule",
    "SCHEDULES",
    "names",
    "style",
    "schedule",
    "optimal_path",
    "optimal_errors",
    "validate_sizes",
    "sizes_from_counts",
    "counts_from_sizes",
    "format_sizes",
    "parse_sizes",
    "uniform",
    "balanced",
    "cosine",
    "loglinear",
    "polynomial",
    "geometric",
    "tc_schedule",
    "dtc_schedule",
    "sweep_grid",
    "optimal_schedule",
    "block_cost",
    "sqrt_rule",
    "sqrt_rule_continuum",
    "austin_cor34",
    "austin_thm10",
    "one_shot",
    "autoregressive",
]


def validate_sizes(sizes, n: int | None = None) -> np.ndarray:
    """Check a schedule: a nonempty sequence of positive integers summing to n."""
    array = np.asarray(sizes)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"schedule sizes must be a nonempty 1-d sequence, got {sizes!r}")
    if not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError(f"schedule sizes must be integers, got {list(array)}")
    array = array.astype(np.int64)
    if np.any(array < 1):
        raise ValueError(f"schedule sizes must be positive, got {list(array)}")
    if n is not None and array.sum() != n:
        raise ValueError(f"schedule sizes must sum to n={n}, got sum {int(array.sum())} for {list(array)}")
    return array


_NO_K = object()  # _check_n_k without a step count (k=None is a bad k, not a missing one)


def _check_n_k(n, k=_NO_K):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if k is not _NO_K and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n):
        raise ValueError(f"k (number of steps) must be an integer in 1..n={n}, got {k!r}")


def format_sizes(sizes) -> str:
    """A schedule as text in tables, e.g. "4-5-2-2" (the inverse of :func:`parse_sizes`)."""
    return "-".join(str(int(size)) for size in sizes)


def parse_sizes(text: str) -> np.ndarray:
    """The int64 sizes of a schedule written by :func:`format_sizes`."""
    return np.array([int(part) for part in str(text).split("-")], dtype=np.int64)


def _check_real(value, name: str, allow_zero: bool = False, allow_inf: bool = False) -> float:
    """A real parameter > 0 (>= 0 when ``allow_zero``), finite unless ``allow_inf``; else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float range
        value = math.copysign(math.inf, value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf) or value < 0 or (value == 0 and not allow_zero):
        sign = "nonnegative" if allow_zero else "positive"
        finite = "" if allow_inf else " and finite"
        raise ValueError(f"{name} must be {sign}{finite}, got {value!r}")
    return value


def counts_from_sizes(sizes) -> np.ndarray:
    """N_0 = 0, N_1, ..., N_k = n."""
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def sizes_from_counts(counts, n: int) -> np.ndarray:
    """Sizes from revealed counts N_1..N_k (N_k = n), forced strictly increasing with N_i >= i and
    N_i <= n - (k - i) so that exactly k positive steps remain."""
    counts = np.clip(np.round(np.asarray(counts, dtype=np.float64)), 0, n).astype(np.int64)
    k = len(counts)
    counts[-1] = n
    steps = np.arange(1, k + 1)
    counts = np.maximum(counts, steps)  # at least one new token per step so far
    counts = np.maximum.accumulate(counts - steps) + steps  # strictly increasing
    counts = np.minimum(counts, n - (k - steps))  # leave room for the steps still to come
    return validate_sizes(np.diff(np.concatenate([[0], counts])), n)


def uniform(n: int, k: int) -> np.ndarray:
    """Constant sizes as LLM samplers implement them: floor(n/k) each, the remainder n mod k added to
    the *first* steps (LLaDA's ``get_num_transfer_tokens``, diffusers' ``BlockRefinementScheduler``).
    When k does not divide n the larger steps all come first, e.g. uniform(64, 43) = [2] * 21 + [1] * 22;
    :func:`balanced` spreads them evenly instead."""
    _check_n_k(n, k)
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def balanced(n: int, k: int) -> np.ndarray:
    """Constant sizes as LZ's statements mean them: the revealed counts a_i = round(i n / k) nearest
    to the constant path a(t) = n t, so the sizes differ by at most one and the n mod k larger steps
    are spread evenly (ties rounded up). Equals
    :func:`uniform` when k divides n. E.g. balanced(64, 43) = [1, 2, 1, 2, ..., 1]: on the
    exchangeable Gaussian (rho = 1) it errs 0.092 nats, uniform(64, 43) 0.220 (CCL Thm 4)."""
    _check_n_k(n, k)
    i = np.arange(k + 1, dtype=np.int64)
    counts = (2 * i * n + k) // (2 * k)  # floor(i n / k + 1/2), exact in integers
    return np.diff(counts)


def cosine(n: int, k: int) -> np.ndarray:
    """MaskGIT / MD4 cosine grid: N_i = round(n (1 - cos(pi i / 2k)))."""
    _check_n_k(n, k)
    i = np.arange(1, k + 1)
    return sizes_from_counts(n * (1 - np.cos(np.pi * i / (2 * k))), n)


def polynomial(n: int, k: int, power: float = 2.0) -> np.ndarray:
    """Mask rate alpha(t) = 1 - t^p on a uniform time grid: N_i = round(n (1 - (1 - i/k)^p)).
    power = 1 is MDLM's linear schedule (uniform expected counts)."""
    _check_n_k(n, k)
    _check_real(power, "power")
    i = np.arange(1, k + 1)
    return sizes_from_counts(n * (1 - (1 - i / k) ** power), n)


def loglinear(n: int, k: int, bernoulli: bool = False, seed: int = 0) -> np.ndarray:
    """MDLM's log-linear noise (mask rate linear in time): expected counts n i / k per step.

    With ``bernoulli=True`` each masked token is revealed independently, with probability
    1 / (steps left), as in MDLM's ancestral sampler; steps revealing nothing are dropped (they
    still cost a network call in practice, so the number of sizes returned can be below k).
    """
    _check_n_k(n, k)
    if not bernoulli:
        return polynomial(n, k, 1.0)
    rng = np.random.default_rng(seed)
    masked, sizes = n, []
    for step in range(k):
        reveal = masked if step == k - 1 else rng.binomial(masked, 1.0 / (k - step))
        sizes.append(reveal)
        masked -= reveal
    return validate_sizes([s for s in sizes if s > 0], n)


def geometric(n: int, k: int) -> np.ndarray:
    """Geometric growth N_i = round((n + 1)^{i/k}) - 1: the optimum for profiles f(l) ~ c / l^2
    (LZ; exchangeable laws), e.g. N_i = 2^i - 1 when n = 2^k - 1."""
    _check_n_k(n, k)
    i = np.arange(1, k + 1)
    return sizes_from_counts((n + 1.0) ** (i / k) - 1, n)


def one_shot(n: int) -> np.ndarray:
    """All tokens in one step: error = TC (CCL Thm 4 with k = 1)."""
    _check_n_k(n)
    return np.array([n], dtype=np.int64)


def autoregressive(n: int) -> np.ndarray:
    """One token per step (random order): exact sampling, error 0."""
    _check_n_k(n)
    return np.ones(n, dtype=np.int64)


def _zeta(bound: float, eps: float, n: int, name: str) -> int:
    """zeta = 1 + ceil(bound / eps) of CCL Thm 9, capped at n + 1 (every larger value gives the
    autoregressive schedule). eps = inf (any error allowed) gives 1; bound = inf (nothing known)
    gives n + 1; both infinite is meaningless and raises ValueError."""
    eps = _check_real(eps, "eps", allow_inf=True)
    bound = _check_real(bound, name, allow_zero=True, allow_inf=True)
    if math.isinf(eps) and math.isinf(bound):
        raise ValueError(f"eps and {name} cannot both be infinite (inf / inf has no meaning)")
    ratio = bound / eps  # inf when bound = inf or the quotient overflows; 0 when eps = inf
    return n + 1 if ratio >= n else 1 + math.ceil(ratio)


def _lambda(n: int, zeta: int) -> int:
    return math.floor(math.log(n - zeta + 1) / math.log(1 / (1 - 1 / zeta))) + 2


def tc_schedule(n: int, eps: float, tc: float) -> np.ndarray:
    """CCL Thm 9 / App. D, TC case: geometrically *decreasing* sizes.

    zeta = 1 + ceil(TC/eps); N_i = floor(N_{i-1} + (n - N_{i-1}) / zeta) for i <= lambda, then unit
    steps; zero-size steps dropped. Expected KL <= eps when tc >= TC(mu), and
    k <= 2 + (1 + ln n)(1 + ceil(tc / eps)).
    """
    _check_n_k(n)
    zeta = _zeta(tc, eps, n, "tc")
    if zeta >= n + 1:
        return autoregressive(n)
    if zeta == 1:  # C = 0: a product law, one step is exact (and lambda would divide by log 1)
        return one_shot(n)
    counts = [0]
    for _ in range(_lambda(n, zeta)):
        counts.append(counts[-1] + (n - counts[-1]) // zeta)  # floor(N + (n - N) / zeta), in integers
    counts.extend(range(counts[-1] + 1, n + 1))
    sizes = np.diff(counts)
    return validate_sizes(sizes[sizes > 0], n)


def dtc_schedule(n: int, eps: float, dtc: float) -> np.ndarray:
    """CCL Thm 9 / App. D, DTC case: geometrically *increasing* sizes.

    Countdown M_0 = n, M_i = ceil(M_{i-1} (1 - 1/zeta)) for i <= lambda, then M decreases by one to
    0; the schedule is the countdown read backwards. Expected KL <= eps when dtc >= DTC(mu).
    """
    _check_n_k(n)
    zeta = _zeta(dtc, eps, n, "dtc")
    if zeta >= n + 1:
        return autoregressive(n)
    if zeta == 1:  # C = 0: a product law, one step is exact (and lambda would divide by log 1)
        return one_shot(n)
    remaining = [n]
    for _ in range(_lambda(n, zeta)):
        # ceil(M (1 - 1/zeta)) in exact integer arithmetic: the float product overshoots integers
        # (M = 1026, zeta = 171 gave 1021 instead of 1020)
        remaining.append(-(-remaining[-1] * (zeta - 1) // zeta))
    remaining.extend(range(remaining[-1] - 1, -1, -1))
    counts = n - np.array(remaining)  # revealed counts, increasing
    sizes = np.diff(counts)[::-1]
    return validate_sizes(sizes[sizes > 0], n)


def sweep_grid(n: int, q: int, eps: float) -> np.ndarray:
    """CCL App. D hyperparameter sweep: H = {2^i : eps <= 2^i <= n ln q} (the values C tried for an
    unknown TC or DTC; one of them is within a factor two above the truth). Raises ValueError
    unless n >= 1 and q >= 2 are integers and eps is a finite positive number."""
    _check_n_k(n)
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise ValueError(f"q (alphabet size) must be an integer >= 2, got {q!r}")
    eps = _check_real(eps, "eps")
    top = n * math.log(q)
    lo, hi = math.ceil(math.log2(eps)), math.floor(math.log2(top))
    grid = 2.0 ** np.arange(lo, hi + 1)
    return grid if len(grid) else np.array([top])


def block_cost(z, start: int, stop: int) -> float:
    """Cost of one step revealing positions start+1..stop (0-based counts N' -> N):
    sum_{j=N'+1}^{N} (Z_j - Z_{N'+1}) (CCL Thm 4 summand). Raises ValueError for an invalid curve
    (:func:`mdmsched.information.check_curve`) or unless 0 <= start < stop <= n."""
    z = information.check_curve(z)
    if not 0 <= start < stop <= len(z):
        raise ValueError(f"start, stop must satisfy 0 <= start < stop <= n={len(z)}, got {start}, {stop}")
    return float(np.sum(z[start:stop] - z[start]))


def dp_layer(previous: np.ndarray, prefix: np.ndarray, z: np.ndarray, steps: int, n: int):
    """One DP layer F_t(N) = min_{N' < N} F_{t-1}(N') + cost(N', N) for N = t..n, by divide and conquer.

    The block cost is Monge (quadrangle inequality holds because Z is nondecreasing), so the best
    N' is nondecreasing in N; each recursion level is evaluated in one vectorized pass.
    """
    targets = np.arange(steps, n + 1)
    best = np.full(n + 1, np.inf)
    argbest = np.zeros(n + 1, dtype=np.int64)
    # intervals of targets [lo_t, hi_t] with candidate ranges [lo_c, hi_c]
    intervals = np.array([[targets[0], targets[-1], steps - 1, n - 1]], dtype=np.int64)
    while len(intervals):
        lo_t, hi_t, lo_c, hi_c = intervals.T
        mid = (lo_t + hi_t) // 2
        top = np.minimum(hi_c, mid - 1)
        lengths = top - lo_c + 1
        owner = np.repeat(np.arange(len(mid)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        cand = lo_c[owner] + offsets
        target = mid[owner]
        values = previous[cand] + (prefix[target] - prefix[cand]) - (target - cand) * z[cand]
        starts = np.cumsum(lengths) - lengths
        minima = np.minimum.reduceat(values, starts)
        # leftmost candidate achieving each segment's minimum (segments are contiguous and sorted)
        hit = np.flatnonzero(values == minima[owner])
        chosen = cand[hit[np.unique(owner[hit], return_index=True)[1]]]
        best[mid] = minima
        argbest[mid] = chosen
        left = np.stack([lo_t, mid - 1, lo_c, chosen], axis=1)[mid - 1 >= lo_t]
        right = np.stack([mid + 1, hi_t, chosen, hi_c], axis=1)[hi_t >= mid + 1]
        intervals = np.concatenate([left, right])
    return best, argbest


def _optimal_layers(z: np.ndarray, k_max: int):
    """Yield (k, F_k(n), DP parents of layers 1..k) for k = 1..k_max: layer k of the DP of CCL Eq. 1
    holds F_k(N), the best Thm 4 error of revealing N tokens in k steps."""
    n = len(z)
    prefix = np.concatenate([[0.0], np.cumsum(z)])  # prefix[N] = Z_1 + ... + Z_N
    z_next = np.concatenate([z, [z[-1]]])  # z_next[N'] = Z_{N'+1}
    previous = np.full(n + 1, np.inf)
    previous[0] = 0.0
    parents = []
    for steps in range(1, min(int(k_max), n) + 1):
        previous, argbest = dp_layer(previous, prefix, z_next, steps, n)
        parents.append(argbest)
        yield steps, max(float(previous[n]), 0.0), parents


def _backtrack(z: np.ndarray, parents) -> tuple[np.ndarray, float]:
    """The sizes the DP parents describe, and their Thm 4 error summed directly (no prefix-sum
    cancellation: k = n gives exactly 0)."""
    n = len(z)
    counts = [n]
    for argbest in reversed(parents):
        counts.append(int(argbest[counts[-1]]))
    sizes = validate_sizes(np.diff(counts[::-1]), n)
    starts = np.repeat(np.asarray(counts[::-1][:-1]), sizes)
    return sizes, float(np.sum(z - z[starts]))


def optimal_path(z, ks) -> dict:
    """The DP-optimal schedule and its error for every k in ``ks``: {k: (sizes int64, error nats)}
    (CCL Eq. 1), from one pass of max(ks) DP layers. Ks outside 1..n raise ValueError."""
    z = information.check_curve(z)
    n = len(z)
    wanted = sorted({int(k) for k in ks})
    for k in wanted:
        _check_n_k(n, k)
    out = {}
    if not wanted:
        return out
    for steps, _, parents in _optimal_layers(z, wanted[-1]):
        if steps in wanted:
            out[steps] = _backtrack(z, parents)
    return out


def optimal_errors(z, k_max: int, stop_at: float | None = None) -> np.ndarray:
    """Optimal k-step expected KL (nats) for k = 1..k_max, float64 (fewer entries if the error falls
    to ``stop_at`` first): the DP values F_k(n) of CCL Eq. 1."""
    z = information.check_curve(z)
    values = []
    for _, value, _ in _optimal_layers(z, k_max):
        values.append(value)
        if stop_at is not None and value <= stop_at:
            break
    return np.array(values)


def optimal_schedule(z, k: int):
    """Best k-step schedule for the information curve Z (CCL Eq. 1: minimum of the Thm 4 error).

    Exact dynamic programme over revealed counts in O(k n log n) (divide and conquer on the Monge
    block cost, :func:`dp_layer`). Returns (sizes, error in nats). The optimum need not be unique;
    ties go to the smaller earlier block.
    """
    z = information.check_curve(z)
    _check_n_k(len(z), k)
    return optimal_path(z, [k])[k]


def sqrt_rule(n: int, k: int, profile) -> np.ndarray:
    """LZ square-root rule, discrete form: N_i = smallest a with sum_{l<=a} sqrt f(l) >= (i/k) total,
    then forced strictly increasing. ``profile`` is f(1..n-1) (LZ information profile); ValueError
    unless it passes :func:`mdmsched.information.check_profile` (finite, nonnegative, n - 1 entries)."""
    _check_n_k(n, k)
    f = information.check_profile(profile, n)
    weights = np.sqrt(np.maximum(f, 0.0))
    if weights.sum() <= 0:  # no dependence: every schedule is free; fall back to constant sizes
        return uniform(n, k)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])  # index a = 0..n-1
    targets = np.arange(1, k + 1) / k * cumulative[-1]
    counts = np.searchsorted(cumulative, targets - 1e-12 * cumulative[-1], side="left")
    return sizes_from_counts(counts, n)


def sqrt_rule_continuum(n: int, k: int, g: Callable[[np.ndarray], np.ndarray], grid: int = 4096) -> np.ndarray:
    """LZ continuum optimum alpha*(t) = G^{-1}(t G(1)), G(u) = int_0^u sqrt(g), N_i = n alpha*(i/k).

    ``g`` (the continuum profile on [0, 1]) is checked on the grid as a profile
    (:func:`mdmsched.information.check_profile`: finite, nonnegative); ValueError otherwise."""
    _check_n_k(n, k)
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be a positive integer, got {grid!r}")
    if not callable(g):
        raise ValueError(f"g must be a function of u in [0, 1], got {g!r}")
    u = np.linspace(0.0, 1.0, grid + 1)
    values = np.broadcast_to(np.asarray(g(u), dtype=np.float64), u.shape)
    root = np.sqrt(np.maximum(information.check_profile(values, name="g(u)"), 0.0))
    big_g = np.concatenate([[0.0], np.cumsum((root[1:] + root[:-1]) / 2 * np.diff(u))])
    if big_g[-1] <= 0:
        return uniform(n, k)
    alpha = np.interp(np.arange(1, k + 1) / k * big_g[-1], big_g, u)
    return sizes_from_counts(n * alpha, n)


def austin_cor34(n: int, eps: float, dtc: float) -> np.ndarray:
    """CCL Cor 34 (Austin): with delta^2 = eps / n, k = floor(DTC / delta^2) + 1; k - 1 unit steps then
    one step of n - k + 1, so the error is at most delta^2 (n - k + 1) <= eps."""
    _check_n_k(n)
    _zeta(dtc, eps, n, "dtc")  # checks eps > 0 and dtc >= 0 (each may be inf, not both)
    ratio = dtc / (eps / n) if eps / n > 0 else math.inf  # DTC / delta^2; inf: k = n
    k = n if ratio >= n - 1 else math.floor(ratio) + 1
    return validate_sizes(np.array([1] * (k - 1) + [n - k + 1]), n)


def austin_thm10(n: int, eps: float, dtc: float) -> np.ndarray:
    """CCL Thm 10 (Austin): delta^2 = sqrt(DTC eps / n), k = floor(DTC / delta^2) + 1; k - 1 unit
    steps, then l = ceil(delta^2 n / eps) near-equal steps over the last n - k + 1 tokens:
    O(sqrt(DTC n / eps)) steps."""
    _check_n_k(n)
    _zeta(dtc, eps, n, "dtc")
    if dtc == 0 or math.isinf(eps):  # DTC = 0 forces Z = 0; eps = inf allows any error
        return one_shot(n)
    if math.isinf(dtc):  # nothing known: only one token per step is safe
        return autoregressive(n)
    delta2 = math.sqrt(dtc * eps / n)
    if not 0 < delta2 < math.inf:  # under- or overflow: use r = DTC / delta^2 = delta^2 n / eps directly
        r = math.sqrt(dtc / eps * n)
        k = n if r >= n - 1 else math.floor(r) + 1
        tail = n - k + 1
        steps = tail if r >= tail else min(max(1, math.ceil(r)), tail)
    else:
        k = min(math.floor(dtc / delta2) + 1, n)
        tail = n - k + 1
        steps = min(max(1, math.ceil(delta2 * n / eps)), tail)
    return validate_sizes(np.concatenate([np.ones(k - 1, np.int64), uniform(tail, steps)]), n)


@dataclass(frozen=True)
class Schedule:
    """A registered schedule: its constructor and everything callers need to know about it.

    ``kind``: "steps" (built for a number of steps ``k``), "target" (built for a target error
    ``eps``) or "fixed" (neither). ``needs``: what it reads besides n: None, "curve" (the information
    curve ``z``, or the profile), "tc" / "dtc" (an upper estimate of TC / DTC, nats) or "limit" (a
    continuum profile ``g``). ``label``, ``colour``, ``marker``: how every plot draws it.
    ``reference``: the paper result it implements."""

    name: str
    build: Callable[..., np.ndarray]
    kind: str
    needs: str | None
    label: str
    colour: str
    marker: str
    reference: str


def _from_curve(builder):
    """Adapt ``builder(n, k, profile)`` to take the curve z (or the profile) by keyword."""

    def build(n, k, z=None, profile=None):
        if z is None and profile is None:
            raise ValueError("this schedule needs the information curve: pass z=Z_1..Z_n (or profile=f)")
        if profile is None:
            z = information.check_curve(z)
            if len(z) != n:
                raise ValueError(f"z must have n = {n} entries, got {len(z)}")
            profile = information.profile_from_curve(z)
        return builder(n, k, profile)

    return build


def _optimal(n: int, k: int, z=None):
    if z is None:
        raise ValueError("schedule 'optimal' needs the information curve: pass z=Z_1..Z_n")
    z = information.check_curve(z)
    if len(z) != n:
        raise ValueError(f"z must have n = {n} entries, got {len(z)}")
    return optimal_schedule(z, k)[0]


SCHEDULES: dict[str, Schedule] = {
    entry.name: entry
    for entry in (
        Schedule("uniform", uniform, "steps", None, "uniform", "tab:blue", "o", "LLaDA get_num_transfer_tokens"),
        Schedule("balanced", balanced, "steps", None, "balanced (constant sizes)", "teal", "o", "LZ constant sizes"),
        Schedule("cosine", cosine, "steps", None, "cosine", "tab:orange", "x", "MaskGIT / MD4 cosine"),
        Schedule("loglinear", loglinear, "steps", None, "log-linear", "tab:green", "+", "MDLM log-linear"),
        Schedule("polynomial", polynomial, "steps", None, "polynomial (p=2)", "tab:olive", "v", "MD4 polynomial"),
        Schedule("geometric", geometric, "steps", None, "geometric", "tab:purple", "s", "LZ geometric (f ~ 1/l^2)"),
        Schedule("sqrt", _from_curve(sqrt_rule), "steps", "curve", "LZ sqrt rule", "tab:brown", "^", "LZ square-root rule"),
        Schedule("sqrt_continuum", sqrt_rule_continuum, "steps", "limit", "LZ continuum sqrt rule", "goldenrod", "d", "LZ continuum optimum"),
        Schedule("optimal", _optimal, "steps", "curve", "DP optimum (Eq. 1)", "black", "*", "CCL Eq. 1"),
        Schedule("tc", tc_schedule, "target", "tc", "TC schedule (Thm 9)", "tab:red", "D", "CCL Thm 9 (TC)"),
        Schedule("dtc", dtc_schedule, "target", "dtc", "DTC schedule (Thm 9)", "tab:pink", "P", "CCL Thm 9 (DTC)"),
        Schedule("austin_cor34", austin_cor34, "target", "dtc", "Austin Cor 34", "tab:gray", "h", "CCL Cor 34"),
        Schedule("austin_thm10", austin_thm10, "target", "dtc", "Austin Thm 10", "tab:cyan", "p", "CCL Thm 10"),
        Schedule("one_shot", one_shot, "fixed", None, "one shot", "0.3", "o", "CCL Thm 4 (k = 1: error = TC)"),
        Schedule("autoregressive", autoregressive, "fixed", None, "one token per step", "0.6", ".", "exact sampling"),
    )
}


def names(kind: str | None = None, needs=...) -> tuple[str, ...]:
    """Registered schedule names, optionally only those of a ``kind`` and/or with given ``needs``
    (a value or a collection of values, None included)."""
    wanted = needs if isinstance(needs, (tuple, list, set, frozenset)) else (needs,)
    return tuple(
        name
        for name, entry in SCHEDULES.items()
        if (kind is None or entry.kind == kind) and (needs is ... or entry.needs in wanted)
    )


def style(name: str) -> dict:
    """Matplotlib keywords (color, marker, label) of a schedule, the same in every plot."""
    entry = SCHEDULES[name]
    return {"color": entry.colour, "marker": entry.marker, "label": entry.label}


def schedule(name: str, n: int, *, z=None, **params) -> np.ndarray:
    """Build a schedule by registry name (the one entry point), e.g. ``schedule("cosine", 256, k=16)``,
    ``schedule("tc", 1000, eps=1.0, tc=5.0)``, ``schedule("optimal", n, k=8, z=Z)``.

    ``z``, the information curve (nats), is context: schedules that need the curve read it, those
    that need TC or DTC take it from z unless given (``tc=`` / ``dtc=``, an upper estimate as CCL
    Thm 9 assumes), and the others ignore it. Returns int64 sizes summing to n. Raises ValueError for
    an unknown name, missing or unknown parameters, and values the constructor rejects (n, k,
    eps, bounds, curves: :func:`mdmsched.information.check_curve`), naming the parameter."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}")
    entry = SCHEDULES[name]
    if entry.needs == "curve" and z is not None:
        params.setdefault("z", z)
    elif entry.needs in ("tc", "dtc") and entry.needs not in params and z is not None:
        z = information.check_curve(z)
        params[entry.needs] = information.tc_from_curve(z) if entry.needs == "tc" else information.dtc_from_curve(z)
    try:
        sizes = entry.build(n, **params)
    except TypeError as error:
        raise ValueError(f"bad parameters {sorted(params)} for schedule {name!r}: {error}") from None
    return validate_sizes(sizes, n)
