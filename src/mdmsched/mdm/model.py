"""A small bidirectional transformer denoiser and the masked-diffusion objective (MDLM / LLaDA).

The denoiser sees a sequence in which some positions hold the mask token ``q`` and returns, at every
position, logits over the q real symbols (never the mask). It has no time input: the number of
masked tokens is visible in the input, and the exact conditional mu(x_j | x_revealed) it approximates
does not depend on a time either. Trained with :func:`masked_diffusion_loss`, its softmax is an
approximation of the conditional-marginal oracle of CCL Sec 2, and its errors are the "learning
error" of CCL Lemma 35 / LZ's E_learn.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MODEL_DEFAULTS",
    "POSITIONAL_ENCODINGS",
    "MaskedDiffusionTransformer",
    "build_model",
    "sample_masks",
    "masked_diffusion_loss",
]

MODEL_DEFAULTS = {
    "d_model": 128,
    "n_layers": 3,
    "n_heads": 4,
    "d_ff": None,  # None: 4 * d_model
    "dropout": 0.0,
    "positional": "learned+rope",
}
POSITIONAL_ENCODINGS = ("learned", "rope", "learned+rope")


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding (RoFormer) on the last axis, split-half convention."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class _Block(nn.Module):
    """Pre-norm transformer block with full (bidirectional) self-attention."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.attention_norm = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.attention_out = nn.Linear(d_model, d_model)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model),
                                 nn.Dropout(dropout))
        self.residual_dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None):
        batch, length, width = h.shape
        qkv = self.qkv(self.attention_norm(h)).view(batch, length, 3, self.n_heads, -1)
        query_key = qkv[:, :, :2]  # (batch, length, 2, heads, head_dim)
        if rotary is not None:  # query and key at once, in the projection's contiguous layout
            cos, sin = rotary
            query_key = _rotate(query_key, cos[:, None, None, :], sin[:, None, None, :])
        query, key = query_key.permute(2, 0, 3, 1, 4)  # each (batch, heads, length, head_dim)
        value = qkv[:, :, 2].transpose(1, 2)
        attended = F.scaled_dot_product_attention(
            query, key, value, dropout_p=self.dropout if self.training else 0.0)
        attended = attended.transpose(1, 2).reshape(batch, length, width)
        h = h + self.residual_dropout(self.attention_out(attended))
        return h + self.mlp(self.mlp_norm(h))


class MaskedDiffusionTransformer(nn.Module):
    """Bidirectional transformer p_theta(x_j | x_revealed) over sequences of length n, alphabet q.

    Token ids 0..q-1 are symbols and id q is the mask. ``forward`` maps (batch, n) int64 tokens to
    (batch, n, q) float logits; the mask token is never predicted.
    """

    def __init__(self, n: int, q: int, d_model: int = 128, n_layers: int = 3, n_heads: int = 4,
                 d_ff: int | None = None, dropout: float = 0.0, positional: str = "learned+rope"):
        super().__init__()
        for name, value, low in (("n", n, 1), ("q", q, 2), ("d_model", d_model, 1),
                                 ("n_layers", n_layers, 1), ("n_heads", n_heads, 1)):
            if int(value) != value or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if d_model % n_heads or (d_model // n_heads) % 2:
            raise ValueError(f"d_model={d_model} must be n_heads={n_heads} times an even head size")
        if positional not in POSITIONAL_ENCODINGS:
            raise ValueError(f"positional must be one of {POSITIONAL_ENCODINGS}, got {positional!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.n, self.q, self.mask_id = n, q, q
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.token_embedding = nn.Embedding(q + 1, d_model)
        self.position_embedding = (nn.Parameter(torch.zeros(n, d_model))
                                   if "learned" in positional else None)
        if "rope" in positional:
            head_dim = d_model // n_heads
            frequencies = 10000.0 ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
            angles = torch.arange(n, dtype=torch.float64)[:, None] * frequencies[None, :]
            self.register_buffer("rope_cos", angles.cos().float(), persistent=False)
            self.register_buffer("rope_sin", angles.sin().float(), persistent=False)
        self.use_rope = "rope" in positional
        self.embedding_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(d_model, n_heads, d_ff, dropout) for _ in range(n_layers))
        self.final_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, q)
        self.apply(self._init_weights)
        if self.position_embedding is not None:
            nn.init.normal_(self.position_embedding, std=0.02)
        for block in self.blocks:  # GPT-2 scaling of residual projections
            for layer in (block.attention_out, block.mlp[2]):
                nn.init.normal_(layer.weight, std=0.02 / math.sqrt(2 * n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or tokens.shape[1] != self.n:
            raise ValueError(f"tokens must have shape (batch, n={self.n}), got {tuple(tokens.shape)}")
        h = self.token_embedding(tokens)
        if self.position_embedding is not None:
            h = h + self.position_embedding
        h = self.embedding_dropout(h)
        rotary = (self.rope_cos, self.rope_sin) if self.use_rope else None
        for block in self.blocks:
            h = block(h, rotary)
        return self.head(self.final_norm(h))


def build_model(config: dict) -> MaskedDiffusionTransformer:
    """Model from a config dict holding ``n``, ``q`` and any of :data:`MODEL_DEFAULTS`."""
    for key in ("n", "q"):
        if key not in config:
            raise ValueError(f"model config needs {key!r}")
    sizes = {key: config.get(key, default) for key, default in MODEL_DEFAULTS.items()}
    return MaskedDiffusionTransformer(n=int(config["n"]), q=int(config["q"]), **sizes)


def sample_masks(batch: int, n: int, generator: torch.Generator, stratified: bool = True):
    """Random masks with the number of masked tokens k uniform on 1..n (MDLM / LLaDA forward process).

    Returns ``(masked, k)``: a bool (batch, n) tensor and the int64 (batch,) counts. With
    ``stratified`` the batch's k values come from one uniform offset plus an even grid (the
    low-discrepancy sampler of MDLM / VDM), which lowers the variance of the loss; each row's k is
    still uniform on 1..n. Masked sets are uniform given k. Tensors live on the generator's device.
    """
    device = generator.device
    if stratified:
        u = (torch.rand(1, generator=generator, device=device)
             + torch.arange(batch, device=device) / batch) % 1.0
        u = u[torch.randperm(batch, generator=generator, device=device)]
    else:
        u = torch.rand(batch, generator=generator, device=device)
    k = torch.clamp((u * n).long() + 1, 1, n)
    ranks = torch.rand(batch, n, generator=generator, device=device).argsort(dim=1).argsort(dim=1)
    return ranks < k[:, None], k


def masked_diffusion_loss(model: MaskedDiffusionTransformer, x: torch.Tensor,
                          generator: torch.Generator, stratified: bool = True) -> torch.Tensor:
    """Per-sequence masked-diffusion NELBO per token, in nats, shape (batch,).

    With k ~ Uniform{1..n} masked tokens (a uniform random set given k), the loss of a sequence is
    ``(1/k) sum_{j masked} -log p_theta(x_j | x_revealed)``, the cross-entropy on the masked tokens
    weighted by 1/mask-rate = n/k and divided by n. Its expectation is

        (1/n) sum_{a=0}^{n-1} E_{|A|=a} E_{j not in A} -log p_theta(x_j | x_A),

    the per-token negative log-likelihood of x under the random-order one-token-at-a-time sampler
    driven by p_theta (the k = n schedule of CCL Sec 2), so it upper-bounds -log p(x)/n under the
    model's own mixture over orders and equals H(X)/n on average for the exact oracle
    (CCL Lemma 13: sum_a H_a = H(X)). This is the MDLM / LLaDA NELBO in its discrete-count form.

    Drawing k uniformly (not the mask rate of a fixed schedule) gives every revealed-set size
    a = n - k the same weight, which is exactly how the curve estimates use the model later
    (L(a) for every a = 0..n-1, then Z and the LZ profile): the model is trained on the same
    distribution of revealed sets on which its conditionals are read off.
    """
    masked, k = sample_masks(x.shape[0], x.shape[1], generator, stratified)
    tokens = torch.where(masked, torch.full_like(x, model.mask_id), x)
    logits = model(tokens)
    nll = F.cross_entropy(logits.transpose(1, 2), x, reduction="none")  # (batch, n)
    return (nll * masked).sum(dim=1) / k
