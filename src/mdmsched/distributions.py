"""Families of laws on Sigma^n with a common interface and an exact conditional-marginal oracle.

Every family has ``n`` (length), ``q`` (alphabet size) and

* ``sample(m, rng)`` -> int64 (m, n), float64 inverse-CDF sampling;
* ``log_prob(x)`` -> float64 (m,), natural log;
* ``conditional_marginals(x, revealed)`` -> float64 (m, n, q): mu(X_i = . | X_S = x_S) for every
  position, S the revealed set of each row (CCL Sec. 1, the oracle). Revealed rows are one-hot.
* ``information_curve()`` -> Z_1..Z_n in nats: a closed form where one exists, otherwise exact
  enumeration when q^n is small (CCL Def 3).

Families: product, random tabular (Dirichlet), all-equal, parity and linear
subspaces over F_q, Reed-Solomon codes with an affine shift (CCL Defs 17-19), pairs of families
(the Thm 25 lift mu* x code), mixtures of products (CCL Example 2), Markov chains, exchangeable
Beta-Bernoulli, the LZ block-copy worst case, plus curve-only objects (exchangeable Gaussian, the
CCL Appendix-E curve, the CCL Figure 1 curve).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import betaln, logsumexp

from . import information
from .finite_field import check_prime, nullspace_mod_p, rank_mod_p, rref_mod_p

__all__ = [
    "Family",
    "Tabular",
    "Product",
    "AllEqual",
    "AffineCode",
    "Paired",
    "MixtureOfProducts",
    "MarkovChain",
    "BetaBernoulli",
    "BlockCopy",
    "ExchangeableGaussian",
    "parity",
    "random_subspace",
    "reed_solomon",
    "random_tabular",
    "appendix_e_curve",
    "FIGURE1_CURVE",
    "FIGURE1_SIZES",
    "FAMILIES",
    "make_family",
    "all_states",
    "categorical",
    "ExchangeableMixture",
    "FamilyEntry",
    "curve",
    "mds_curve",
]

ENUMERATION_LIMIT = 1 << 22  # largest q^n for which a pmf table is built


def all_states(n: int, q: int) -> np.ndarray:
    """Every string of Sigma^n in lexicographic order (C order of a (q,)*n array), int64 (q^n, n)."""
    grids = np.indices((q,) * n).reshape(n, -1).T
    return grids.astype(np.int64)


def categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inverse-CDF draws from float64 probability rows (last axis; rows need not be normalized):
    int64 array of shape ``probs.shape[:-1]``."""
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[:-1] + (1,)) * cdf[..., -1:]
    return np.minimum((u >= cdf).sum(axis=-1), probs.shape[-1] - 1).astype(np.int64)


def _sum_last(a: np.ndarray) -> np.ndarray:
    """Sum over the last axis; for small q by adding slices (numpy's reduce is slow on short rows)."""
    if a.shape[-1] > 8:
        return a.sum(axis=-1)
    out = a[..., 0].copy()
    for value in range(1, a.shape[-1]):
        out += a[..., value]
    return out


def _one_hot(x: np.ndarray, q: int) -> np.ndarray:
    return np.eye(q, dtype=np.float64)[x]


def _check_batch(family, x, revealed):
    x = np.asarray(x, dtype=np.int64)
    revealed = np.asarray(revealed, dtype=bool)
    if x.ndim != 2 or x.shape[1] != family.n or revealed.shape != x.shape:
        raise ValueError(f"x and revealed must both have shape (m, {family.n}), got {x.shape} and {revealed.shape}")
    return x, revealed


class Family(abc.ABC):
    """Common interface; subclasses set ``n``, ``q`` and implement the three primitives."""

    n: int
    q: int
    name: str = "family"

    @abc.abstractmethod
    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """m independent draws, int64 (m, n)."""

    @abc.abstractmethod
    def log_prob(self, x) -> np.ndarray:
        """Natural log-probability of each row of x."""

    @abc.abstractmethod
    def conditional_marginals(self, x, revealed) -> np.ndarray:
        """The oracle: float64 (m, n, q) conditional marginals given the revealed entries."""

    def pmf(self) -> np.ndarray:
        """The full pmf table of shape (q,)*n, by enumerating log_prob (small laws only)."""
        if self.q**self.n > ENUMERATION_LIMIT:
            raise ValueError(f"pmf of {self.name} needs q^n = {self.q}^{self.n} states; limit is {ENUMERATION_LIMIT}")
        with np.errstate(divide="ignore"):
            return np.exp(self.log_prob(all_states(self.n, self.q))).reshape((self.q,) * self.n)

    #: True when ``information_curve()`` is a closed form (cheap at any n); otherwise it enumerates
    #: the pmf (q^n <= ENUMERATION_LIMIT).
    closed_form = False

    def information_curve(self) -> np.ndarray:
        """Exact Z_1..Z_n (CCL Def 3) by enumeration of the pmf unless a subclass has a closed form."""
        return information.information_curve(self.pmf())

    def describe(self) -> dict:
        return {"family": self.name, "n": self.n, "q": self.q}


class Tabular(Family):
    """Any law given by its full pmf table; the oracle marginalizes the table (small n only)."""

    name = "tabular"

    def __init__(self, pmf):
        pmf = information.check_pmf(pmf)
        self.n, self.q = pmf.ndim, pmf.shape[0]
        self.table = pmf
        self.flat = pmf.reshape(-1)
        self.states = all_states(self.n, self.q)
        self._cdf = np.cumsum(self.flat)

    def pmf(self):
        return self.table

    def sample(self, m, rng):
        index = np.searchsorted(self._cdf, rng.random(m) * self._cdf[-1], side="right")
        return self.states[np.minimum(index, len(self.flat) - 1)]

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        index = np.ravel_multi_index(tuple(x.T), self.table.shape)
        with np.errstate(divide="ignore"):
            return np.log(self.flat[index])

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        out = np.empty(x.shape + (self.q,), dtype=np.float64)
        one_hot = _one_hot(self.states, self.q).reshape(len(self.flat), -1)  # (Q, n q)
        for start in range(0, len(x), 256):
            xs, rs = x[start : start + 256], revealed[start : start + 256]
            agree = (self.states[None, :, :] == xs[:, None, :]) | ~rs[:, None, :]
            weights = agree.all(axis=2) * self.flat[None, :]
            marg = (weights @ one_hot).reshape(len(xs), self.n, self.q)
            total = marg.sum(axis=2, keepdims=True)
            # an impossible revealed assignment: the oracle may answer anything; answer uniform
            out[start : start + 256] = np.where(total > 0, marg / np.where(total > 0, total, 1), 1.0 / self.q)
        return out


def random_tabular(n: int, q: int, alpha: float = 1.0, seed: int = 0) -> Tabular:
    """A random law on Sigma^n drawn from Dirichlet(alpha, ..., alpha) over the q^n states."""
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(q**n, float(alpha))).reshape((q,) * n)
    law = Tabular(table)
    law.name = "tabular"
    return law


class Product(Family):
    """Independent coordinates with marginals (n, q): Z = 0, TC = DTC = 0."""

    name = "product"
    closed_form = True

    def __init__(self, marginals):
        marginals = np.asarray(marginals, dtype=np.float64)
        if marginals.ndim != 2 or np.any(marginals < 0) or not np.allclose(marginals.sum(1), 1):
            raise ValueError("marginals must be an (n, q) array of probability rows")
        self.marginals = marginals
        self.n, self.q = marginals.shape

    def sample(self, m, rng):
        return categorical(np.broadcast_to(self.marginals, (m, self.n, self.q)), rng)

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        with np.errstate(divide="ignore"):
            return np.log(self.marginals[np.arange(self.n), x]).sum(axis=1)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        out = np.broadcast_to(self.marginals, x.shape + (self.q,)).copy()
        out[revealed] = _one_hot(x[revealed], self.q)
        return out

    def information_curve(self):
        return np.zeros(self.n)


class AllEqual(Family):
    """X_1 ~ w and X_i = X_1 for all i: Z = (0, H(w), ..., H(w)); TC = (n-1) H(w), DTC = H(w)."""

    name = "all_equal"
    closed_form = True

    def __init__(self, n: int, q: int, weights=None):
        self.n, self.q = int(n), int(q)
        self.weights = np.full(q, 1.0 / q) if weights is None else np.asarray(weights, dtype=np.float64)

    def sample(self, m, rng):
        return np.repeat(categorical(np.broadcast_to(self.weights, (m, self.q)), rng)[:, None], self.n, axis=1)

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        equal = (x == x[:, :1]).all(axis=1)
        with np.errstate(divide="ignore"):
            return np.where(equal, np.log(self.weights[x[:, 0]]), -np.inf)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        any_revealed = revealed.any(axis=1)
        first = np.argmax(revealed, axis=1)
        row = np.where(any_revealed[:, None], _one_hot(x[np.arange(len(x)), first], self.q), self.weights)
        return np.repeat(row[:, None, :], self.n, axis=1)

    def information_curve(self):
        z = np.full(self.n, information.entropy(self.weights))
        z[0] = 0.0
        return z


class AffineCode(Family):
    """Uniform law on an affine subspace {u G + b : u in F_q^d} of F_q^n (CCL Example 1, Def 17).

    The oracle row-reduces the parity checks restricted to the masked coordinates: a masked
    coordinate is determined when it is alone in its reduced row, otherwise it is uniform. On an
    assignment outside the code the oracle answers uniform, as CCL Sec. 4 prescribes.
    """

    name = "code"

    def __init__(self, generator, q: int, shift=None, mds: bool = False):
        self.q = check_prime(q)
        generator = np.asarray(generator, dtype=np.int64) % self.q
        self.dim = int(rank_mod_p(generator[None], self.q)[0])
        if self.dim != generator.shape[0]:
            raise ValueError(f"generator rows must be independent over F_{q}: rank {self.dim} < {generator.shape[0]}")
        self.generator = generator
        self.n = generator.shape[1]
        self.shift = np.zeros(self.n, np.int64) if shift is None else np.asarray(shift, dtype=np.int64) % self.q
        self.checks = nullspace_mod_p(generator, self.q)  # rows h with G h = 0: H x = H b on the code
        self.mds = mds

    def sample(self, m, rng):
        u = rng.integers(0, self.q, size=(m, self.dim))
        return (u @ self.generator + self.shift) % self.q

    def contains(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        return ~(((x - self.shift) @ self.checks.T) % self.q).any(axis=1)

    def log_prob(self, x):
        return np.where(self.contains(x), -self.dim * math.log(self.q), -np.inf)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        m, q = len(x), self.q
        out = np.full((m, self.n, q), 1.0 / q)
        if len(self.checks):
            coeffs = self.checks[None, :, :] * ~revealed[:, None, :]
            rhs = (self.checks @ self.shift)[None, :] - ((self.checks[None] * (revealed * x)[:, None, :]).sum(2))
            reduced, pivot_col, _ = rref_mod_p(np.concatenate([coeffs, rhs[:, :, None]], axis=2), q, self.n)
            nonzero = (reduced[:, :, : self.n] != 0).sum(axis=2)
            inconsistent = ((nonzero == 0) & (reduced[:, :, self.n] != 0)).any(axis=1)
            rows, cols = np.nonzero((nonzero == 1) & ~inconsistent[:, None])
            determined_at = pivot_col[rows, cols]
            out[rows, determined_at] = _one_hot(reduced[rows, cols, self.n], q)
        out[revealed] = _one_hot(x[revealed], q)
        return out

    @property
    def closed_form(self) -> bool:
        return self.mds

    def subset_ranks(self) -> np.ndarray:
        """rank of G restricted to the columns of S, for every subset bitmask S (n <= 20)."""
        if self.n > 20:
            raise ValueError(f"exact subset ranks need n <= 20, got n = {self.n}")
        masks = np.arange(1 << self.n)
        columns = (masks[:, None] >> np.arange(self.n)[None, :]) & 1
        ranks = np.empty(len(masks), np.int64)
        for start in range(0, len(masks), 4096):
            block = self.generator[None, :, :] * columns[start : start + 4096, None, :]
            ranks[start : start + 4096] = rank_mod_p(block, self.q)
        return ranks

    def information_curve(self):
        """H(X_S) = rank(G_S) ln q; MDS codes: Z_j = ln q 1[j > d] (CCL Prop 20)."""
        if self.mds:
            return mds_curve(self.n, self.dim, self.q)
        ranks = self.subset_ranks()
        sizes = information.popcounts(self.n)
        hbar = np.bincount(sizes, weights=ranks, minlength=self.n + 1) / np.bincount(sizes) * math.log(self.q)
        return information.information_curve_from_entropy_curve(hbar)

    def describe(self):
        return {**super().describe(), "dimension": self.dim}


def mds_curve(n: int, dim: int, q: int) -> np.ndarray:
    """Z of the uniform law on any dim-dimensional MDS code of length n over F_q (Reed-Solomon;
    parity has dim = n - 1): Z_j = ln q 1[j > dim] in nats (CCL Prop 20), without a generator."""
    if not 0 <= dim <= n:
        raise ValueError(f"code dimension dim must be in 0..n={n}, got {dim}")
    return np.where(np.arange(1, n + 1) > dim, math.log(q), 0.0)


def parity(n: int, q: int = 2, seed: int | None = None) -> AffineCode:
    """Uniform law on {x : sum x_i = c mod q} (codimension 1); c random when a seed is given."""
    generator = np.zeros((n - 1, n), np.int64)
    generator[np.arange(n - 1), np.arange(n - 1)] = 1
    generator[:, -1] = q - 1
    shift = None
    if seed is not None:
        shift = np.zeros(n, np.int64)
        shift[-1] = np.random.default_rng(seed).integers(q)
    code = AffineCode(generator, q, shift, mds=True)
    code.name = "parity"
    return code


def random_subspace(n: int, d: int, q: int, seed: int = 0) -> AffineCode:
    """Uniform law on a random d-dimensional subspace of F_q^n plus a random shift."""
    if not 1 <= d <= n:
        raise ValueError(f"dimension d must be in 1..n={n}, got {d}")
    rng = np.random.default_rng(seed)
    while True:
        generator = rng.integers(0, q, size=(d, n))
        if rank_mod_p(generator[None], q)[0] == d:
            break
    code = AffineCode(generator, q, rng.integers(0, q, size=n))
    code.name = "subspace"
    return code


def reed_solomon(n: int, k: int, q: int, seed: int = 0) -> AffineCode:
    """A k-dimensional Reed-Solomon code over F_q (q prime > n) at random distinct evaluation
    points, with a uniformly random affine shift (CCL Def 19); an MDS code (Prop 20)."""
    q = check_prime(q)
    if q <= n:
        raise ValueError(f"Reed-Solomon codes need a prime q > n; got q={q}, n={n}")
    if not 1 <= k <= n - 1:
        raise ValueError(f"code dimension k must be in 1..n-1={n - 1}, got {k}")
    rng = np.random.default_rng(seed)
    points = rng.choice(q, size=n, replace=False).astype(np.int64)
    generator = np.ones((k, n), np.int64)
    for row in range(1, k):
        generator[row] = generator[row - 1] * points % q
    code = AffineCode(generator, q, rng.integers(0, q, size=n), mds=True)
    code.name = "reed_solomon"
    return code


class Paired(Family):
    """Independent pair of laws on the same positions, token = a * q_b + b (CCL Thm 25's mu* x code).

    Entropies add, so the information curve is the sum of the two curves: a code of dimension k
    lifts any curve Z to Z^{up k} (Z + ln q after k).
    """

    name = "paired"

    def __init__(self, first: Family, second: Family):
        if first.n != second.n:
            raise ValueError(f"paired families need equal lengths, got {first.n} and {second.n}")
        self.first, self.second = first, second
        self.n, self.q = first.n, first.q * second.q

    @property
    def closed_form(self) -> bool:
        return self.first.closed_form and self.second.closed_form

    def split(self, x):
        x = np.asarray(x, dtype=np.int64)
        return x // self.second.q, x % self.second.q

    def sample(self, m, rng):
        return self.first.sample(m, rng) * self.second.q + self.second.sample(m, rng)

    def log_prob(self, x):
        a, b = self.split(x)
        return self.first.log_prob(a) + self.second.log_prob(b)

    def conditional_marginals(self, x, revealed):
        a, b = self.split(x)
        pa = self.first.conditional_marginals(a, revealed)
        pb = self.second.conditional_marginals(b, revealed)
        return (pa[..., :, None] * pb[..., None, :]).reshape(pa.shape[:2] + (self.q,))

    def information_curve(self):
        return self.first.information_curve() + self.second.information_curve()

    def describe(self):
        return {**super().describe(), "first": self.first.describe(), "second": self.second.describe()}


class MixtureOfProducts(Family):
    """sum_c w_c prod_i M[c, i, .]; DTC <= ln(#components) (CCL Example 2, Austin 2020)."""

    name = "mixture"

    def __init__(self, weights, marginals):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.marginals = np.asarray(marginals, dtype=np.float64)
        if self.marginals.ndim != 3 or self.marginals.shape[0] != len(self.weights):
            raise ValueError("marginals must have shape (components, n, q) matching weights")
        if not np.isclose(self.weights.sum(), 1) or not np.allclose(self.marginals.sum(2), 1):
            raise ValueError("weights and marginal rows must be probability vectors")
        _, self.n, self.q = self.marginals.shape
        self._log_marginals = np.log(np.maximum(self.marginals, 1e-300))

    @classmethod
    def random(cls, n: int, q: int, components: int, concentration: float = 0.5, seed: int = 0):
        rng = np.random.default_rng(seed)
        marginals = rng.dirichlet(np.full(q, concentration), size=(components, n))
        return cls(np.full(components, 1.0 / components), marginals)

    def sample(self, m, rng):
        component = categorical(np.broadcast_to(self.weights, (m, len(self.weights))), rng)
        return categorical(self.marginals[component], rng)

    def _component_log_likelihood(self, x, revealed):
        per_site = self._log_marginals[:, np.arange(self.n)[None, :], x]  # (c, m, n)
        return np.log(self.weights)[:, None] + (per_site * revealed[None]).sum(axis=2)

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        return logsumexp(self._component_log_likelihood(x, np.ones_like(x, dtype=bool)), axis=0)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        log_post = self._component_log_likelihood(x, revealed)
        post = np.exp(log_post - logsumexp(log_post, axis=0, keepdims=True))  # (c, m)
        out = np.einsum("cm,cnq->mnq", post, self.marginals)
        out[revealed] = _one_hot(x[revealed], self.q)
        return out


class ExchangeableMixture(MixtureOfProducts):
    """Mixture of i.i.d. Bernoulli(theta_c) products with weights w_c: exchangeable, DTC <= ln m for
    m components (CCL Example 2). Its curve is exact in closed form at any n (see
    :meth:`information_curve`)."""

    name = "exchangeable_mixture"
    closed_form = True

    def __init__(self, n: int, weights, thetas):
        weights = np.asarray(weights, dtype=np.float64)
        thetas = np.asarray(thetas, dtype=np.float64)
        if weights.shape != thetas.shape or weights.ndim != 1:
            raise ValueError(f"weights and thetas need one entry per component, got shapes {weights.shape} and {thetas.shape}")
        if not np.isclose(weights.sum(), 1) or np.any(weights < 0):
            raise ValueError(f"weights must be a probability vector, got {weights.tolist()}")
        if np.any((thetas <= 0) | (thetas >= 1)):
            raise ValueError(f"thetas must lie in (0, 1), got {thetas.tolist()}")
        self.thetas = thetas
        rows = np.stack([1.0 - thetas, thetas], axis=-1)  # (components, 2)
        super().__init__(weights, np.repeat(rows[:, None, :], int(n), axis=1))

    def information_curve(self, width: float = 10.0):
        """Exact Z_1..Z_n (nats) through conditional entropies: with t ones among r revealed,
        H_r = sum_c w_c E_{t ~ Bin(r, theta_c)} h(P(X_j = 1 | t ones among r)), Z_{r+1} = H_0 - H_r
        (CCL Lemma 13). Each binomial expectation is summed over ``width`` standard deviations around
        r theta_c (the mass left out is below 2 exp(-width^2 / 2)), vectorized over blocks of r:
        O(n^1.5) work, so n in the tens of thousands is cheap."""
        w, th, n = self.weights, self.thetas, self.n
        log_w, log_t, log_1t = np.log(w), np.log(th), np.log1p(-th)
        h = np.zeros(n)
        for begin in range(0, n, 256):
            r = np.arange(begin, min(begin + 256, n), dtype=np.float64)[:, None]  # (R, 1)
            for theta in th:
                half = math.ceil(width * math.sqrt(r[-1, 0] * theta * (1 - theta)) + width)
                t = np.round(r * theta) + np.arange(-half, half + 1)[None, :]  # (R, T)
                valid = (t >= 0) & (t <= r)
                t = np.clip(t, 0, r)
                log_joint = log_w[:, None, None] + t[None] * log_t[:, None, None] + (r - t)[None] * log_1t[:, None, None]
                log_count = logsumexp(log_joint, axis=0)  # log P(t ones | r), up to C(r, t)
                predictive = np.einsum("crt,c->rt", np.exp(log_joint - log_count), th)
                pmf = np.exp(information.log_binomial(r, t) + t * np.log(theta) + (r - t) * np.log1p(-theta))
                component = w[th == theta].sum() / np.count_nonzero(th == theta)
                entropy = information.entropy_last_axis(np.stack([predictive, 1.0 - predictive], axis=-1))
                h[begin : begin + len(r)] += component * np.sum(np.where(valid, pmf * entropy, 0.0), axis=1)
        return h[0] - h


class MarkovChain(Family):
    """Homogeneous Markov chain X_1 ~ init, X_{t+1} ~ P[X_t].

    Given revealed positions, a masked X_i depends only on its nearest revealed neighbours l < i < r:
    mu(x_i | x_l, x_r) is proportional to P^{i-l}[x_l, x_i] P^{r-i}[x_i, x_r], computed for a whole
    batch with precomputed matrix powers (exact forward-backward for this evidence pattern).
    """

    name = "markov"
    closed_form = True

    def __init__(self, n: int, transition, init=None):
        self.transition = np.asarray(transition, dtype=np.float64)
        self.q = self.transition.shape[0]
        if self.transition.shape != (self.q, self.q) or not np.allclose(self.transition.sum(1), 1):
            raise ValueError("transition must be a (q, q) stochastic matrix")
        self.n = int(n)
        self.init = self.stationary() if init is None else np.asarray(init, dtype=np.float64)
        powers = [np.eye(self.q)]
        for _ in range(self.n):
            powers.append(powers[-1] @ self.transition)
        self.powers = np.array(powers)  # (n + 1, q, q)
        self.site_marginals = np.array([self.init @ self.powers[i] for i in range(self.n)])
        # gather tables for the oracle: row d q + a is P^d[a, .] (then the site marginals), and
        # row d q + b of the second is P^d[., b] (then a row of ones for "no revealed right neighbour")
        q = self.q
        self._forward_rows = np.concatenate([self.powers.reshape(-1, q), self.site_marginals])
        self._backward_rows = np.concatenate([self.powers.transpose(0, 2, 1).reshape(-1, q), np.ones((1, q))])

    @classmethod
    def symmetric(cls, n: int, q: int, stay: float, init=None):
        """Stay with probability ``stay``, else jump uniformly to one of the q - 1 other symbols."""
        if not 0 <= stay <= 1:
            raise ValueError(f"stay must be a probability, got {stay}")
        transition = np.full((q, q), (1 - stay) / (q - 1))
        np.fill_diagonal(transition, stay)
        return cls(n, transition, init)

    def stationary(self):
        values, vectors = np.linalg.eig(self.transition.T)
        v = np.real(vectors[:, np.argmin(abs(values - 1))])
        return v / v.sum()

    def sample(self, m, rng):
        x = np.empty((m, self.n), np.int64)
        x[:, 0] = categorical(np.broadcast_to(self.init, (m, self.q)), rng)
        for t in range(1, self.n):
            x[:, t] = categorical(self.transition[x[:, t - 1]], rng)
        return x

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        with np.errstate(divide="ignore"):
            return np.log(self.init[x[:, 0]]) + np.log(self.transition[x[:, :-1], x[:, 1:]]).sum(axis=1)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        n = x.shape[1]
        position = np.arange(n)
        left = np.maximum.accumulate(np.where(revealed, position, -1), axis=1)
        right = np.minimum.accumulate(np.where(revealed, position, n)[:, ::-1], axis=1)[:, ::-1]
        has_left, has_right = left >= 0, right < n
        x_left = np.take_along_axis(x, np.maximum(left, 0), axis=1)
        x_right = np.take_along_axis(x, np.minimum(right, n - 1), axis=1)
        q, no_left = self.q, (n + 1) * self.q
        # one gather each (take is much faster than fancy indexing) instead of np.where over (m, n, q)
        forward = self._forward_rows.take(np.where(has_left, (position - left) * q + x_left, no_left + position), axis=0)
        backward = self._backward_rows.take(np.where(has_right, (right - position) * q + x_right, no_left), axis=0)
        out = np.multiply(forward, backward, out=forward)
        total = _sum_last(out)
        # evidence of probability 0 (possible after a parallel step when P has zeros): the
        # conditional is undefined; answer uniform, as the tabular and code oracles do
        impossible = total <= 0
        if impossible.any():
            out[impossible] = 1.0
            total[impossible] = q
        out /= total[..., None]
        return out

    def is_stationary(self, atol: float = 1e-12) -> bool:
        return bool(np.allclose(self.init, self.stationary(), atol=atol))

    def lag_mutual_information(self, max_lag: int, tol: float = 1e-18) -> np.ndarray:
        """I(X_0; X_d) in nats for d = 0..L of the stationary chain, stopped at the first lag where it
        falls below ``tol`` (it decays geometrically)."""
        pi = self.init if self.is_stationary() else self.stationary()
        h_pi = information.entropy(pi)
        values = [h_pi]
        power = np.eye(self.q)
        for _ in range(max_lag):
            power = power @ self.transition
            conditional = float(np.dot(pi, -information.xlogx(power).sum(axis=1)))  # H(X_d | X_0)
            values.append(max(h_pi - conditional, 0.0))
            if values[-1] < tol:
                break
        return np.array(values)

    def information_curve(self, tol: float = 1e-18):
        """Exact Z_1..Z_n in nats (CCL Def 3) at any n.

        Stationary chain, O(n L): for a revealed set A (|A| = a) and a masked j with nearest revealed
        neighbours at distances L (left) and R (right), H(X_j | X_A) = H(pi) - I(L) - I(R) + I(L + R),
        I(d) the lag mutual information (I(none) = 0). Averaging over j and A,
        Z_{a+1} = (1/n) [2 sum_l (n - l) p_a(l) I(l) - sum_m (m - 1)(n - m) q_a(m) I(m)], p_a(l) the
        probability that j - l is revealed and j - l + 1..j - 1 are not, q_a(m) its two-sided analogue;
        the sums stop at the lag L where I < ``tol``. Z is computed directly (no difference of
        entropies, no cancellation).

        Any initial law, O(n^2): H(X_S) = H(X_{s_1}) + sum_j H(X_{s_{j+1}} | X_{s_j}) (Markov
        property), averaged over |S| = i with P(min S = a) = C(n-1-a, i-1) / C(n, i) and
        P(a, b consecutive in S) = C(n-1-(b-a), i-2) / C(n, i), gives Hbar_i (CCL Def 12), and Z by
        Lemma 13.
        """
        if self.is_stationary():
            return self._stationary_curve(tol)
        return self._general_curve()

    def _stationary_curve(self, tol: float) -> np.ndarray:
        n = self.n
        lag_mi = self.lag_mutual_information(n - 1, tol)
        lags = len(lag_mi) - 1  # I(d) used for d = 1..lags
        if lags < 1:
            return np.zeros(n)
        d = np.arange(1, lags + 1)
        z = np.zeros(n)
        for start in range(1, n, 2048):
            a = np.arange(start, min(start + 2048, n), dtype=np.float64)[:, None]
            # survival[t] = P(t given positions are all outside A), t = 0..lags
            t = np.arange(lags + 1, dtype=np.float64)[None, :]
            factors = np.clip((n - 1 - a - t) / np.maximum(n - 1 - t, 1.0), 0.0, None)
            survival = np.concatenate([np.ones((len(a), 1)), np.cumprod(factors, axis=1)[:, :-1]], axis=1)
            one_sided = survival[:, d - 1] * a / np.maximum(n - d, 1)  # p_a(l), l = d
            weight_one = np.where(d < n, (n - d) * lag_mi[d], 0.0)
            m = d[d >= 2]
            two_sided = survival[:, m - 2] * a * (a - 1) / np.maximum((n - m + 1) * (n - m), 1)
            weight_two = np.where(m < n, (m - 1) * (n - m) * lag_mi[m], 0.0)
            z[start : start + len(a)] = (2 * one_sided @ weight_one - two_sided @ weight_two) / n
        return np.maximum(z, 0.0)  # z[a] holds Z_{a+1}; Z_1 = 0

    def _general_curve(self) -> np.ndarray:
        n = self.n
        site_entropy = information.entropy_last_axis(self.site_marginals)  # H(X_a)
        row_entropy = information.entropy_last_axis(self.powers[1:n])  # (n - 1, q): H(P^d[x, .])
        cumulative = np.cumsum(self.site_marginals, axis=0)
        d = np.arange(1, n)
        pair_total = np.einsum("dq,dq->d", cumulative[n - 1 - d], row_entropy)  # sum_a H(X_{a+d} | X_a)
        i = np.arange(n + 1)[:, None]
        log_total = information.log_binomial(n, i)
        first = np.exp(information.log_binomial(n - 1 - np.arange(n)[None, :], i - 1) - log_total)  # (n+1, n)
        pairs = np.exp(information.log_binomial(n - 1 - d[None, :], i - 2) - log_total)  # (n+1, n-1)
        hbar = first @ site_entropy + pairs @ pair_total
        hbar[0] = 0.0
        return information.information_curve_from_entropy_curve(hbar)

    def limit_profile(self, u, tol: float = 1e-18) -> np.ndarray:
        """LZ continuum limit g(u) = lim_n n f(un) of the stationary chain (any n of ``self``): with
        revealed density u the gaps L, R are independent Geometric(u), so Z(u) = 2 E I(L) - E I(L + R)
        and g = Z'(u) = sum_l [2 (1-u)^{l-2} (1 - l u)] I(l) - sum_m (m-1) u (1-u)^{m-3} (2 - m u) I(m).
        ``u``: float array in [0, 1]; returns g(u), same shape (1-d)."""
        if not self.is_stationary():
            raise ValueError("the continuum limit profile is defined for a stationary chain (init = stationary law)")
        u = np.atleast_1d(np.asarray(u, dtype=np.float64))
        lag_mi = self.lag_mutual_information(100_000, tol)
        lags = len(lag_mi) - 1
        g = np.zeros(len(u))
        for start in range(0, len(u), 8192):
            v = u[start : start + 8192, None]
            # powers[:, j] = (1 - u)^j, j = 0..lags, by cumulative products (cheaper than pow)
            powers = np.concatenate([np.ones_like(v), np.cumprod(np.broadcast_to(1.0 - v, (len(v), lags)), axis=1)], axis=1)
            d = np.arange(1, lags + 1)
            mi = lag_mi[1:]
            one = powers[:, d - 1] - (d - 1) * v * powers[:, np.maximum(d - 2, 0)]  # d/du u (1-u)^{d-1}
            two = 2 * v * powers[:, np.maximum(d - 2, 0)] - (d - 2) * v**2 * powers[:, np.maximum(d - 3, 0)]  # d/du u^2 (1-u)^{d-2}
            two = np.where(d >= 2, (d - 1) * two, 0.0)
            g[start : start + len(v)] = (2 * one - two) @ mi
        return g


class BetaBernoulli(Family):
    """Exchangeable binary law: theta ~ Beta(a, b), X_i iid Bernoulli(theta) (Polya urn).

    H(X_S) depends on |S| only, so the entropy curve is exact in closed form:
    Hbar_s = -sum_t C(s, t) p_s(t) ln p_s(t), p_s(t) = B(a + t, b + s - t) / B(a, b).
    """

    name = "beta_bernoulli"
    closed_form = True

    def __init__(self, n: int, a: float = 1.0, b: float = 1.0):
        if a <= 0 or b <= 0:
            raise ValueError(f"Beta parameters a, b must be positive, got a={a}, b={b}")
        self.n, self.q, self.a, self.b = int(n), 2, float(a), float(b)

    def sample(self, m, rng):
        theta = rng.beta(self.a, self.b, size=(m, 1))
        return (rng.random((m, self.n)) < theta).astype(np.int64)

    def log_prob(self, x):
        ones = np.asarray(x).sum(axis=1)
        return betaln(self.a + ones, self.b + self.n - ones) - betaln(self.a, self.b)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        ones = (x * revealed).sum(axis=1)
        p_one = (self.a + ones) / (self.a + self.b + revealed.sum(axis=1))
        out = np.repeat(np.stack([1 - p_one, p_one], axis=1)[:, None, :], self.n, axis=1)
        out[revealed] = _one_hot(x[revealed], 2)
        return out

    def entropy_curve(self):
        hbar = np.zeros(self.n + 1)
        for s in range(1, self.n + 1):
            t = np.arange(s + 1)
            log_p = betaln(self.a + t, self.b + s - t) - betaln(self.a, self.b)
            hbar[s] = -np.sum(np.exp(information.log_binomial(s, t) + log_p) * log_p)
        return hbar

    def information_curve(self):
        """Exact Z_1..Z_n in nats through conditional entropies: H_r = E h(P(X_j = 1 | r revealed)),
        Z_{r+1} = H_0 - H_r (CCL Lemma 13). For a = b = 1 (Polya urn, t ones among r uniform) the sum
        has a closed form in prefix sums of u ln u, O(n):
        H_r = ((N - 1) ln N - (2 / N) sum_{u<N} u ln u) / (r + 1), N = r + 2. Other (a, b): the O(n^2)
        entropy curve."""
        if self.a == 1.0 and self.b == 1.0:
            u = np.arange(1, self.n + 2, dtype=np.float64)
            prefix = np.concatenate([[0.0], np.cumsum(u * np.log(u))])  # prefix[m] = sum_{u<=m} u ln u
            r = np.arange(self.n, dtype=np.float64)
            big_n = r + 2
            h = ((big_n - 1) * np.log(big_n) - 2.0 / big_n * prefix[(big_n - 1).astype(int)]) / (r + 1)
            return h[0] - h
        return information.information_curve_from_entropy_curve(self.entropy_curve())


class BlockCopy(Family):
    """LZ worst case: positions split into consecutive blocks, each block a copy of one uniform
    symbol, blocks independent. A planner that reveals each block in one step pays
    sum_b (s_b - 1) ln q = (N - K) ln q. Exact: Hbar_i = ln q sum_b (1 - C(n - s_b, i) / C(n, i))."""

    name = "block_copy"
    closed_form = True

    def __init__(self, block_sizes, q: int):
        self.block_sizes = np.asarray(block_sizes, dtype=np.int64)
        if np.any(self.block_sizes < 1):
            raise ValueError(f"block_sizes must be positive integers, got {list(block_sizes)}")
        self.q, self.n = int(q), int(self.block_sizes.sum())
        self.block_of = np.repeat(np.arange(len(self.block_sizes)), self.block_sizes)
        self.first_of_block = np.concatenate([[0], np.cumsum(self.block_sizes)[:-1]])

    def sample(self, m, rng):
        symbols = rng.integers(0, self.q, size=(m, len(self.block_sizes)))
        return symbols[:, self.block_of]

    def log_prob(self, x):
        x = np.asarray(x, dtype=np.int64)
        consistent = (x == x[:, self.first_of_block][:, self.block_of]).all(axis=1)
        return np.where(consistent, -len(self.block_sizes) * math.log(self.q), -np.inf)

    def conditional_marginals(self, x, revealed):
        x, revealed = _check_batch(self, x, revealed)
        out = np.full(x.shape + (self.q,), 1.0 / self.q)
        for block in range(len(self.block_sizes)):
            columns = np.nonzero(self.block_of == block)[0]
            seen = revealed[:, columns]
            rows = np.nonzero(seen.any(axis=1))[0]
            value = x[rows, columns[np.argmax(seen[rows], axis=1)]]
            out[rows[:, None], columns[None, :]] = _one_hot(value, self.q)[:, None, :]
        return out

    def information_curve(self):
        """Exact Z_1..Z_n in nats, O(n * distinct block sizes * largest block), any n: a token's
        conditional entropy given a random set A (|A| = a among the n - 1 other positions) is ln q
        unless one of its s - 1 block mates is in A, so
        Z_{a+1} = ln q [1 - (1/n) sum_blocks s C(n - s, a) / C(n - 1, a)], the ratio of binomials
        taken as a product of a-dependent factors (no large intermediate)."""
        sizes, counts = np.unique(self.block_sizes, return_counts=True)
        n = self.n
        a = np.arange(n, dtype=np.float64)
        untouched = np.zeros(n)
        for s, count in zip(sizes, counts):
            ratio = np.ones(n)
            for i in range(int(s) - 1):  # P(the s - 1 block mates all avoid A)
                ratio *= np.clip((n - 1 - a - i) / (n - 1 - i), 0.0, None)
            untouched += s * count * ratio
        return math.log(self.q) * np.maximum(1.0 - untouched / n, 0.0)

    @staticmethod
    def limit_profile(block: int, q: int):
        """LZ continuum limit g(u) = (b - 1)(1 - u)^{b - 2} ln q of block-copy laws with all blocks of
        size b: a token's conditional entropy is ln q while none of its b - 1 block mates is revealed,
        so H(u) = ln q (1 - u)^{b-1} and g = -H'. Returns the function u -> g(u)."""
        return lambda u: (block - 1) * (1 - np.asarray(u, dtype=np.float64)) ** (block - 2) * math.log(q)


class ExchangeableGaussian:
    """x_i = m + e_i, m ~ N(0, rho), e_i ~ N(0, 1) (LZ's worked example; closed forms only).

    Given a revealed coordinates, the posterior variance of m is c_a = rho / (1 + a rho) and a new
    coordinate has variance v_a = 1 + c_a, so H_a = ln(2 pi e v_a) / 2, Z_{a+1} = ln(v_0 / v_a) / 2 and
    f(l) = ln(v_{l-1} / v_l) / 2. A block of s tokens revealed after a tokens pays its conditional TC:
    (s/2) ln(1 + c_a) - ln(1 + s c_a) / 2.
    """

    name = "exchangeable_gaussian"

    def __init__(self, n: int, rho: float = 1.0):
        if rho <= 0:
            raise ValueError(f"rho must be positive, got {rho}")
        self.n, self.rho = int(n), float(rho)

    def posterior_variance(self, a):
        return self.rho / (1 + np.asarray(a, dtype=np.float64) * self.rho)

    def information_curve(self):
        v = 1 + self.posterior_variance(np.arange(self.n))
        return 0.5 * np.log(v[0] / v)

    def profile(self):
        return information.profile_from_curve(self.information_curve())

    def block_error(self, a, s):
        c = self.posterior_variance(a)
        s = np.asarray(s, dtype=np.float64)
        return 0.5 * s * np.log1p(c) - 0.5 * np.log1p(s * c)

    def schedule_error(self, sizes) -> float:
        sizes = np.asarray(sizes)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return float(self.block_error(starts, sizes).sum())


def appendix_e_curve(n: int, eps: float) -> np.ndarray:
    """The CCL Appendix-E (Lemma 28) hard curve, made nondecreasing by reflection.

    Geometric blocks B_i = [floor((1+eps)^i), floor((1+eps)^{i+1}) - 1] carry the value
    (1+eps)^{-i} / (4 log n); the curve is that function read right to left, Z_j = f(n + 1 - j) - f(n).
    Step functions with k <= c log n / eps pieces have L1 error Omega(eps) against it.
    """
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    f = np.zeros(n + 1)
    i = 0
    while math.floor((1 + eps) ** i) <= n:
        lo = math.floor((1 + eps) ** i)
        hi = min(math.floor((1 + eps) ** (i + 1)) - 1, n)
        f[lo : hi + 1] = (1 + eps) ** (-i) / (4 * math.log(n))
        i += 1
    curve = f[1:][::-1]
    return curve - curve[0]  # shift so Z_1 = 0; step-approximation errors are unchanged by a constant


# CCL Figure 1 (n = 13, schedule (4, 5, 2, 2)); values read off the figure's vector drawing.
FIGURE1_CURVE = np.array([0.0, 0.9, 1.9, 2.8, 3.4, 3.8, 4.3, 4.7, 5.2, 5.7, 6.1, 6.4, 6.7])
FIGURE1_SIZES = (4, 5, 2, 2)


@dataclass(frozen=True)
class FamilyEntry:
    """A law in the registry :data:`FAMILIES`.

    ``build(n=..., **params)`` returns the :class:`Family` (sampling and the exact oracle), None for
    curve-only laws; ``closed_curve(n, **params)`` gives its exact curve without building the law
    (cheap at large n, e.g. a code without its generator), None when the family's own
    ``information_curve()`` is the way."""

    name: str
    build: Callable[..., Family] | None
    closed_curve: Callable[..., np.ndarray] | None = None


def _markov(n: int, q: int = 2, stay: float = 0.9):
    return MarkovChain.symmetric(n, q, stay)


def _mixture(n: int, q: int = 2, components: int = 4, concentration: float = 0.5, seed: int = 0):
    return MixtureOfProducts.random(n, q, components, concentration, seed)


def _product(n: int, q: int = 2, seed: int = 0):
    return Product(np.random.default_rng(seed).dirichlet(np.ones(q), size=n))


def _code_lift(n: int, k: int, q: int, stay: float = 0.9, seed: int = 0):
    """CCL Thm 25: a Markov chain on Sigma = {0,1} paired with an unknown RS code of dimension k."""
    return Paired(MarkovChain.symmetric(n, 2, stay), reed_solomon(n, k, q, seed))


def _code_lift_curve(n: int, k: int, q: int, stay: float = 0.9, seed: int = 0):
    """CCL Thm 25: Z(mu* x code_k) = Z(mu*) + ln q 1[j > k], independently of the code's points."""
    return MarkovChain.symmetric(n, 2, stay).information_curve() + mds_curve(n, k, q)


def _block_copy_curve(n: int, block_sizes, q: int):
    law = BlockCopy(block_sizes, q)
    if law.n != n:
        raise ValueError(f"block_sizes must add up to n = {n}, got {law.n}")
    return law.information_curve()


FAMILIES: dict[str, FamilyEntry] = {
    entry.name: entry
    for entry in (
        FamilyEntry("product", _product),
        FamilyEntry("tabular", random_tabular),
        FamilyEntry("all_equal", AllEqual),
        FamilyEntry("parity", parity, lambda n, q=2, seed=None: mds_curve(n, n - 1, q)),
        FamilyEntry("subspace", random_subspace),
        FamilyEntry("reed_solomon", reed_solomon, lambda n, k, q, seed=0: mds_curve(n, k, q)),
        FamilyEntry("mds_code", None, mds_curve),
        FamilyEntry("code_lift", _code_lift, _code_lift_curve),
        FamilyEntry("mixture", _mixture),
        FamilyEntry("exchangeable_mixture", ExchangeableMixture),
        FamilyEntry("markov", _markov),
        FamilyEntry("beta_bernoulli", BetaBernoulli),
        FamilyEntry("block_copy", BlockCopy, _block_copy_curve),
        FamilyEntry("exchangeable_gaussian", None, lambda n, rho=1.0: ExchangeableGaussian(n, rho).information_curve()),
        FamilyEntry("appendix_e", None, appendix_e_curve),
    )
}


_INTEGER = {"type": "integer", "minimum": 1}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
# ranges of the parameters the families share (each family's signature says which it takes)
FAMILY_PARAMETERS = {
    "n": _INTEGER, "k": _INTEGER, "d": _INTEGER, "dim": {"type": "integer", "minimum": 0}, "components": _INTEGER,
    "q": {"type": "integer", "minimum": 2},
    "seed": {"type": ["integer", "null"], "minimum": 0},
    "stay": _PROBABILITY,
    "alpha": {"type": "number", "exclusiveMinimum": 0},
    "concentration": {"type": "number", "exclusiveMinimum": 0},
    "a": {"type": "number", "exclusiveMinimum": 0},
    "b": {"type": "number", "exclusiveMinimum": 0},
    "rho": {"type": "number", "exclusiveMinimum": 0},
    "weights": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1},
    "thetas": {"type": "array", "items": _PROBABILITY, "minItems": 1},
    "block_sizes": {"type": "array", "items": _INTEGER, "minItems": 1},
}


def _entry(name: str, params: dict) -> FamilyEntry:
    """The registry entry of ``name`` after checking the shared parameters' ranges."""
    from .config import check_schema

    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; expected one of {sorted(FAMILIES)}")
    try:
        check_schema(params, {"type": "object", "properties": FAMILY_PARAMETERS})
    except ValueError as problem:
        raise ValueError(f"bad parameters for family {name!r}: {problem}") from None
    return FAMILIES[name]


def make_family(name: str, **params) -> Family:
    """Build a family by registry name, e.g. ``make_family("markov", n=64, stay=0.9)``.

    Raises ValueError for an unknown name, a parameter the family does not take, a shared parameter
    out of range (:data:`FAMILY_PARAMETERS`: n >= 1, q >= 2, probabilities in [0, 1], ...), naming
    the parameter, or a curve-only law (``mds_code``, ``exchangeable_gaussian``, ``appendix_e``: no
    sampler or oracle)."""
    entry = _entry(name, params)
    if entry.build is None:
        raise ValueError(f"family {name!r} is a curve-only law (no sampler or oracle); use distributions.curve")
    try:
        return entry.build(**params)
    except TypeError as error:
        raise ValueError(f"bad parameters {params} for family {name!r}: {error}") from None


def curve(name: str, n: int, **params) -> np.ndarray:
    """Exact information curve Z_1..Z_n (float64, nats; CCL Def 3) of the law ``name`` of length n:
    its closed form when the registry has one (no law built), else the family's own
    ``information_curve()`` (a closed form of its class, or enumeration for small q^n).
    Raises ValueError for an unknown name or bad parameters."""
    entry = _entry(name, {"n": n, **params})
    if entry.closed_curve is None:
        return np.asarray(make_family(name, n=n, **params).information_curve(), dtype=np.float64)
    try:
        return np.asarray(entry.closed_curve(n, **params), dtype=np.float64)
    except TypeError as error:
        raise ValueError(f"bad parameters {params} for the curve of {name!r}: {error}") from None
