"""Training and inference throughput of the masked-diffusion denoiser (tokens per second).

Runs the real training loop (:func:`mdmsched.mdm.training.train`) for a few dozen steps on random
data for the default model size and two neighbours, on CPU and, when available, on CUDA, and the
model oracle's inference. Prints tokens/s, parameter counts and ratios to the default size and to
CPU. Then compares the workflow's two model sizes (synthetic: n 64, d 64, 3 layers, batch 128; text:
n 128, d 96, 3 layers, batch 16) with a plain PyTorch reference of equal size measured in the same
process: ``torch.nn.TransformerEncoder`` (pre-norm, GELU) in a bare MDLM loop (same masks and
loss, AdamW), alternating the two so that machine contention hits both alike, and prints the
project / reference throughput ratio. Takes a few minutes on two CPU cores.

    python benchmarks/bench_training.py [--steps 30] [--threads 2] [--reference-only]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mdmsched.mdm.model import MODEL_DEFAULTS, sample_masks
from mdmsched.mdm.oracle import ModelOracle
from mdmsched.mdm.training import TRAINING_DEFAULTS, train

SIZES = {  # name -> overrides of MODEL_DEFAULTS
    "small": {"d_model": MODEL_DEFAULTS["d_model"] // 2, "n_layers": max(1, MODEL_DEFAULTS["n_layers"] - 1)},
    "default": {},
    "large": {"d_model": MODEL_DEFAULTS["d_model"] * 2},
}
SHAPES = {"synthetic n=64 q=2": (64, 2), "text n=128 q=75": (128, 75)}


def training_throughput(config: dict, data: np.ndarray, device: str, steps: int):
    """(tokens/s of training after warm-up, parameter count) for one config on one device."""
    log_every = max(1, steps // 3)
    run = {**config, "steps": steps, "log_every": log_every, "eval_every": 10 * steps,
           "checkpoint_every": 10 * steps, "warmup_steps": 1}
    with tempfile.TemporaryDirectory() as folder:
        model = train(run, data, None, Path(folder) / "bench.pt", device=device, progress=False)
    rates = [row["tokens_per_s"] for row in model.history[1:]]  # the first window holds warm-up
    return float(np.median(rates)), sum(p.numel() for p in model.parameters()), model


def inference_throughput(model, data: np.ndarray, repeats: int = 3) -> float:
    """Tokens/s of ModelOracle.conditional_marginals on half-revealed sequences."""
    oracle = ModelOracle(model, batch_size=512)
    revealed = np.random.default_rng(0).random(data.shape) < 0.5
    oracle.conditional_marginals(data[:64], revealed[:64])
    started = time.perf_counter()
    for _ in range(repeats):
        oracle.conditional_marginals(data, revealed)
    return repeats * data.size / (time.perf_counter() - started)


REFERENCE_SHAPES = {  # the workflow's default model sizes (config/config.yaml)
    "synthetic": {"n": 64, "q": 2, "d_model": 64, "n_layers": 3, "n_heads": 4, "batch_size": 128},
    "text": {"n": 128, "q": 75, "d_model": 96, "n_layers": 3, "n_heads": 4, "batch_size": 16},
}


class _Reference(torch.nn.Module):
    """Plain torch.nn.TransformerEncoder denoiser of the same width, depth and MLP size."""

    def __init__(self, n, q, d_model, n_layers, n_heads):
        super().__init__()
        self.mask_id = q
        self.embedding = torch.nn.Embedding(q + 1, d_model)
        self.position = torch.nn.Parameter(torch.randn(n, d_model) * 0.02)
        layer = torch.nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout=0.0, activation="gelu",
                                                 batch_first=True, norm_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, q)

    def forward(self, tokens):
        return self.head(self.norm(self.encoder(self.embedding(tokens) + self.position)))


def reference_throughput(shape: dict, data: np.ndarray, steps: int) -> float:
    """Tokens/s of a bare MDLM training loop on the reference encoder (after 3 warm-up steps)."""
    torch.manual_seed(0)
    model = _Reference(shape["n"], shape["q"], shape["d_model"], shape["n_layers"], shape["n_heads"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    train_tensor = torch.as_tensor(data)
    batch = shape["batch_size"]
    for step in range(steps + 3):
        if step == 3:
            started = time.perf_counter()
        x = train_tensor[torch.randint(len(train_tensor), (batch,), generator=generator)]
        masked, k = sample_masks(batch, shape["n"], generator)
        logits = model(torch.where(masked, torch.full_like(x, shape["q"]), x))
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x, reduction="none")
        loss = ((nll * masked).sum(dim=1) / k).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return steps * batch * shape["n"] / (time.perf_counter() - started)


def compare_with_reference(steps: int, rounds: int = 3) -> None:
    """Project / reference training throughput at the workflow's sizes, alternating runs (CPU)."""
    print(f"\nproject vs plain torch.nn.TransformerEncoder MDLM loop (cpu, {torch.get_num_threads()} threads, "
          f"{rounds} alternating rounds of {steps} steps; median tokens/s)")
    for name, shape in REFERENCE_SHAPES.items():
        data = np.random.default_rng(0).integers(0, shape["q"], size=(4096, shape["n"]))
        config = {key: shape[key] for key in ("q", "d_model", "n_layers", "n_heads", "batch_size")}
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(training_throughput({**config, "seed": 0}, data, "cpu", steps)[0])
            theirs.append(reference_throughput(shape, data, steps))
        mine, ref = float(np.median(ours)), float(np.median(theirs))
        print(f"  {name:<10} project {mine:>9,.0f}  reference {ref:>9,.0f}  ratio {mine / ref:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--reference-only", action="store_true",
                        help="only the project / plain-PyTorch comparison at the workflow's sizes")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.reference_only:
        compare_with_reference(args.steps)
        return
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    batch = TRAINING_DEFAULTS["batch_size"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices {devices}, "
          f"batch {batch}, default model {MODEL_DEFAULTS}")
    results = {}  # (shape, size, device) -> (params, train tok/s, inference tok/s)
    for shape_name, (n, q) in SHAPES.items():
        data = np.random.default_rng(0).integers(0, q, size=(4096, n))
        for size_name, overrides in SIZES.items():
            for device in devices:
                config = {**overrides, "q": q, "batch_size": batch, "seed": 0}
                rate, params, model = training_throughput(config, data, device, args.steps)
                results[shape_name, size_name, device] = (params, rate,
                                                          inference_throughput(model, data[:1024]))
    header = (f"{'shape':<20} {'size':<8} {'device':<6} {'params':>9} {'train tok/s':>12} "
              f"{'vs default':>10} {'vs cpu':>7} {'infer tok/s':>12}")
    print(header)
    print("-" * len(header))
    for (shape_name, size_name, device), (params, rate, infer) in results.items():
        vs_default = rate / results[shape_name, "default", device][1]
        vs_cpu = f"{rate / results[shape_name, size_name, 'cpu'][1]:.1f}x" if device != "cpu" else ""
        print(f"{shape_name:<20} {size_name:<8} {device:<6} {params:>9,} {rate:>12,.0f} "
              f"{vs_default:>9.2f}x {vs_cpu:>7} {infer:>12,.0f}")
    compare_with_reference(args.steps)


if __name__ == "__main__":
    main()
