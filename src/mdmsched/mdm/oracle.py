"""A trained denoiser exposed as a conditional-marginal oracle (CCL Sec 2), in float64.

The exact families of :mod:`mdmsched.distributions` and a trained model then plug into the same
sampler, the same expected-KL estimate and the same curve estimates; the difference between the two
is the learning error of CCL Lemma 35 (LZ's E_learn).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import MaskedDiffusionTransformer
from .training import resolve_device

__all__ = ["ModelOracle", "check_oracle_input"]


def check_oracle_input(x, revealed, n: int, q: int):
    """Validate oracle arguments: x int (m, n) with symbols in 0..q-1 where revealed, revealed bool
    (m, n). Returns them as int64 / bool arrays. Values of x at unrevealed positions are ignored."""
    x = np.asarray(x)
    revealed = np.asarray(revealed)
    if x.ndim != 2 or x.shape[1] != n or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"x must be an integer array of shape (m, n={n}), got {x.shape} {x.dtype}")
    if revealed.shape != x.shape or revealed.dtype != np.bool_:
        raise ValueError(f"revealed must be a bool array of shape {x.shape}, got "
                         f"{revealed.shape} {revealed.dtype}")
    shown = x[revealed]
    if shown.size and (shown.min() < 0 or shown.max() >= q):
        raise ValueError(f"revealed symbols of x must lie in 0..{q - 1} (q={q})")
    return x.astype(np.int64, copy=False), revealed


class ModelOracle:
    """Conditional marginals p_theta(X_i = . | X_revealed = x_revealed) of a trained denoiser.

    ``conditional_marginals(x, revealed)`` returns float64 (m, n, q) probabilities for every
    position (rows at revealed positions are the model's outputs there and carry no meaning). The
    network runs in batches of ``batch_size`` sequences without gradients; its logits (over the q
    symbols only: the mask is never a possible output) are turned into log-probabilities in float64,
    exponentiated and renormalised, so every row sums to 1 to float64 precision.
    """

    def __init__(self, model: MaskedDiffusionTransformer, batch_size: int = 1024,
                 device: str | torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = (resolve_device(device) if device is not None
                       else next(model.parameters()).device)
        self.model = model.to(self.device).eval()
        self.n, self.q = model.n, model.q
        self.batch_size = int(batch_size)

    def log_conditional_marginals(self, x, revealed) -> np.ndarray:
        """Natural-log conditional marginals, float64 (m, n, q); ValueError if the network's outputs
        are not finite (log-probabilities of -inf, a zero probability, are allowed)."""
        x, revealed = check_oracle_input(x, revealed, self.n, self.q)
        tokens = np.where(revealed, x, self.model.mask_id)
        out = np.empty((len(x), self.n, self.q), dtype=np.float64)
        with torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                batch = torch.as_tensor(tokens[start:start + self.batch_size], device=self.device)
                logits = self.model(batch).double()
                out[start:start + len(batch)] = torch.log_softmax(logits, dim=-1).cpu().numpy()
        if np.isnan(out).any() or np.isposinf(out).any():
            raise ValueError("the model returned non-finite outputs (NaN or inf logits); its weights or "
                             "training diverged")
        return out

    def conditional_marginals(self, x, revealed) -> np.ndarray:
        """Conditional marginals, float64 (m, n, q), rows summing to 1."""
        probabilities = np.exp(self.log_conditional_marginals(x, revealed))
        return probabilities / probabilities.sum(axis=-1, keepdims=True)
