"""Training and inference throughput of the masked-diffusion denoiser (tokens per second).

Runs the real training loop (:func:`mdmsched.mdm.training.train`) for a few dozen steps on random
data for the default model size and two neighbours, on CPU and, when available, on CUDA, and the
model oracle's inference. Prints tokens/s, parameter counts and ratios to the default size and to
CPU. Takes well under two minutes on two CPU cores.

    python benchmarks/bench_training.py [--steps 30] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mdmsched.mdm.model import MODEL_DEFAULTS
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
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


if __name__ == "__main__":
    main()
