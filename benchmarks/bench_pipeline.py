"""End to end time of one configured model: prepare its data, train, evaluate (one device).

Prints the wall time of each stage, the training throughput and the headline numbers of the
evaluation, so CPU and GPU runs of the same config entry can be compared.

    python benchmarks/bench_pipeline.py markov [--config config/config.yaml] [--device cuda] [--steps N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from mdmsched.mdm import pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a key of the config's models")
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when present)")
    parser.add_argument("--steps", type=int, default=None, help="override the training steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="folder for data and checkpoint (default: temporary)")
    args = parser.parse_args()
    spec = yaml.safe_load(Path(args.config).read_text())["models"][args.model]
    spec.setdefault("training", {})
    if args.steps:
        spec["training"]["steps"] = args.steps
    spec["training"]["device"] = args.device
    spec.setdefault("evaluation", {})["device"] = args.device
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.out or scratch)
        times = {}
        started = time.perf_counter()
        pipeline.prepare_dataset(spec, 0, folder / "data.npz")
        times["prepare"] = time.perf_counter() - started
        started = time.perf_counter()
        model = pipeline.train_model(spec, folder / "data.npz", folder / "model.pt", threads=args.threads,
                                     progress=False)
        times["train"] = time.perf_counter() - started
        started = time.perf_counter()
        tables = pipeline.evaluate_model(args.model, spec, folder / "data.npz", folder / "model.pt", 0,
                                         threads=args.threads)
        times["evaluate"] = time.perf_counter() - started
    device = next(model.parameters()).device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({args.threads} threads)"
    summary = tables["summary"].iloc[0]
    print(f"model {args.model} on {name}: {spec['training'].get('steps')} steps, "
          f"{int(summary.parameters):,} parameters")
    for stage, seconds in times.items():
        print(f"  {stage:<9} {seconds:8.1f} s")
    rates = [row["tokens_per_s"] for row in model.history[1:]] or [float("nan")]  # first window: warm-up
    print(f"  training throughput {float(np.median(rates)):,.0f} tokens/s (median); held-out NELBO "
          f"{summary.nelbo_bits:.4f} bits/token")
    for key in ("curve_l1_over_tc", "exact_oracle_curve_l1_over_tc", "tc_model", "tc_true", "unigram_bits"):
        if key in summary and summary[key] == summary[key]:
            print(f"  {key} = {summary[key]:.4f}")


if __name__ == "__main__":
    main()
