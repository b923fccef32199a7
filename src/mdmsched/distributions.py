"""Families of laws on Sigma^n with a common interface and an exact conditional-marginal oracle.

Every family has ``n`` (length), ``q`` (alphabet size) and

* ``sample(m, rng)`` -> int64 (m, n), float64 inverse-CDF sampling;
* ``log_prob(x)`` -> float64 (m,), natural log;
* ``conditional_marginals(x, revealed)`` -> float64 (m, n, q): mu(X_i = . | X_S = x_S) for every
  position, S the revealed set of each row (CCL Sec. 1, the oracle). Revealed rows are one-hot.
* ``information_curve()`` -> Z_1..Z_n in nats: a closed form where one exists, otherwise exact
  enumeration when q^n is small (CCL Def 3).

Families (spec section 4): product, random tabular (Dirichlet), all-equal, parity and linear
subspaces over F_q, Reed-Solomon codes with an affine shift (CCL Defs 17-19), pairs of families
(the Thm 25 lift mu* x code), mixtures of products (CCL Example 2), Markov chains, exchangeable
Beta-Bernoulli, the LZ block-copy worst case, plus curve-only objects (exchangeable Gaussian, the
CCL Appendix-E curve, the CCL Figure 1 curve).
"""

from __future__ import annotations

import abc
import math

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
]

ENUMERATION_LIMIT = 1 << 22  # largest q^n for which a pmf table is built


def all_states(n: int, q: int) -> np.ndarray:
    """Every string of Sigma^n in lexicographic order (C order of a (q,)*n array), int64 (q^n, n)."""
    grids = np.indices((q,) * n).reshape(n, -1).T
    return grids.astype(np.int64)


def _categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inverse-CDF draws from float64 probability rows (last axis)."""
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

    def __init__(self, marginals):
        marginals = np.asarray(marginals, dtype=np.float64)
        if marginals.ndim != 2 or np.any(marginals < 0) or not np.allclose(marginals.sum(1), 1):
            raise ValueError("marginals must be an (n, q) array of probability rows")
        self.marginals = marginals
        self.n, self.q = marginals.shape

    def sample(self, m, rng):
        return _categorical(np.broadcast_to(self.marginals, (m, self.n, self.q)), rng)

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

    def __init__(self, n: int, q: int, weights=None):
        self.n, self.q = int(n), int(q)
        self.weights = np.full(q, 1.0 / q) if weights is None else np.asarray(weights, dtype=np.float64)

    def sample(self, m, rng):
        return np.repeat(_categorical(np.broadcast_to(self.weights, (m, self.q)), rng)[:, None], self.n, axis=1)

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
            return np.where(np.arange(1, self.n + 1) > self.dim, math.log(self.q), 0.0)
        ranks = self.subset_ranks()
        sizes = information.popcounts(self.n)
        hbar = np.bincount(sizes, weights=ranks, minlength=self.n + 1) / np.bincount(sizes) * math.log(self.q)
        return information.information_curve_from_entropy_curve(hbar)

    def describe(self):
        return {**super().describe(), "dimension": self.dim}


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
        component = _categorical(np.broadcast_to(self.weights, (m, len(self.weights))), rng)
        return _categorical(self.marginals[component], rng)

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


class MarkovChain(Family):
    """Homogeneous Markov chain X_1 ~ init, X_{t+1} ~ P[X_t].

    Given revealed positions, a masked X_i depends only on its nearest revealed neighbours l < i < r:
    mu(x_i | x_l, x_r) is proportional to P^{i-l}[x_l, x_i] P^{r-i}[x_i, x_r], computed for a whole
    batch with precomputed matrix powers (exact forward-backward for this evidence pattern).
    """

    name = "markov"

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
        x[:, 0] = _categorical(np.broadcast_to(self.init, (m, self.q)), rng)
        for t in range(1, self.n):
            x[:, t] = _categorical(self.transition[x[:, t - 1]], rng)
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


class BetaBernoulli(Family):
    """Exchangeable binary law: theta ~ Beta(a, b), X_i iid Bernoulli(theta) (Polya urn).

    H(X_S) depends on |S| only, so the entropy curve is exact in closed form:
    Hbar_s = -sum_t C(s, t) p_s(t) ln p_s(t), p_s(t) = B(a + t, b + s - t) / B(a, b).
    """

    name = "beta_bernoulli"

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
        return information.information_curve_from_entropy_curve(self.entropy_curve())


class BlockCopy(Family):
    """LZ worst case: positions split into consecutive blocks, each block a copy of one uniform
    symbol, blocks independent. A planner that reveals each block in one step pays
    sum_b (s_b - 1) ln q = (N - K) ln q. Exact: Hbar_i = ln q sum_b (1 - C(n - s_b, i) / C(n, i))."""

    name = "block_copy"

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

    def entropy_curve(self):
        i = np.arange(self.n + 1)
        miss = np.exp(information.log_binomial(self.n - self.block_sizes[:, None], i[None, :]) - information.log_binomial(self.n, i)[None, :])
        return math.log(self.q) * (1 - miss).sum(axis=0)

    def information_curve(self):
        return information.information_curve_from_entropy_curve(self.entropy_curve())


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


def _markov(n: int, q: int = 2, stay: float = 0.9):
    return MarkovChain.symmetric(n, q, stay)


def _mixture(n: int, q: int = 2, components: int = 4, concentration: float = 0.5, seed: int = 0):
    return MixtureOfProducts.random(n, q, components, concentration, seed)


def _exchangeable_mixture(n: int, weights, thetas):
    """Mixture of i.i.d. Bernoulli(theta_c) products (exchangeable; exact curve in closed form)."""
    thetas = np.asarray(thetas, dtype=np.float64)
    rows = np.stack([1.0 - thetas, thetas], axis=-1)  # (components, 2)
    return MixtureOfProducts(weights, np.repeat(rows[:, None, :], n, axis=1))


def _product(n: int, q: int = 2, seed: int = 0):
    return Product(np.random.default_rng(seed).dirichlet(np.ones(q), size=n))


def _code_lift(n: int, k: int, q: int, stay: float = 0.9, seed: int = 0):
    """CCL Thm 25: a Markov chain on Sigma = {0,1} paired with an unknown RS code of dimension k."""
    return Paired(MarkovChain.symmetric(n, 2, stay), reed_solomon(n, k, q, seed))


FAMILIES = {
    "product": _product,
    "tabular": random_tabular,
    "all_equal": AllEqual,
    "parity": parity,
    "subspace": random_subspace,
    "reed_solomon": reed_solomon,
    "code_lift": _code_lift,
    "mixture": _mixture,
    "exchangeable_mixture": _exchangeable_mixture,
    "markov": _markov,
    "beta_bernoulli": BetaBernoulli,
    "block_copy": BlockCopy,
}


_INTEGER = {"type": "integer", "minimum": 1}
_PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
# ranges of the parameters the families share (each family's signature says which it takes)
FAMILY_PARAMETERS = {
    "n": _INTEGER, "k": _INTEGER, "d": _INTEGER, "components": _INTEGER,
    "q": {"type": "integer", "minimum": 2},
    "seed": {"type": ["integer", "null"], "minimum": 0},
    "stay": _PROBABILITY,
    "alpha": {"type": "number", "exclusiveMinimum": 0},
    "concentration": {"type": "number", "exclusiveMinimum": 0},
    "a": {"type": "number", "exclusiveMinimum": 0},
    "b": {"type": "number", "exclusiveMinimum": 0},
    "weights": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1},
    "thetas": {"type": "array", "items": _PROBABILITY, "minItems": 1},
    "block_sizes": {"type": "array", "items": _INTEGER, "minItems": 1},
}


def make_family(name: str, **params) -> Family:
    """Build a family by registry name, e.g. ``make_family("markov", n=64, stay=0.9)``.

    Raises ValueError for an unknown name, a parameter the family does not take, or a shared
    parameter out of range (:data:`FAMILY_PARAMETERS`: n >= 1, q >= 2, probabilities in [0, 1], ...),
    naming the parameter."""
    from .config import check_schema

    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; expected one of {sorted(FAMILIES)}")
    try:
        check_schema(params, {"type": "object", "properties": FAMILY_PARAMETERS})
    except ValueError as problem:
        raise ValueError(f"bad parameters for family {name!r}: {problem}") from None
    try:
        family = FAMILIES[name](**params)
    except TypeError as error:
        raise ValueError(f"bad parameters {params} for family {name!r}: {error}") from None
    return family

