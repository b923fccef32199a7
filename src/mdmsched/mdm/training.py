"""Training loop for the masked-diffusion denoiser: seeded, resumable, with atomic checkpoints.

``train(config, train_data, val_data, checkpoint_path)`` optimises the NELBO of
:func:`mdmsched.mdm.model.masked_diffusion_loss` with AdamW (linear warm-up, cosine decay), shows a
tqdm bar with the loss and tokens/s, evaluates the validation NELBO (nats and bits per token)
periodically, and writes a checkpoint atomically (temporary file in the same folder, then
``os.replace``) every ``checkpoint_every`` steps, at the end, and on Ctrl-C. Calling ``train`` again
with the same config and data resumes from the checkpoint, restoring the model, the optimiser and
every random state, so an interrupted run continues exactly where it stopped. A checkpoint written
for another config or other data, or one that cannot be read, raises ValueError naming the problem.
The history (step, loss, validation loss, tokens/s, ...) is also written as CSV beside the
checkpoint (``<checkpoint stem>.history.csv``).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..io import atomic_path
from .model import MODEL_DEFAULTS, MaskedDiffusionTransformer, build_model, masked_diffusion_loss

__all__ = [
    "TRAINING_DEFAULTS",
    "RUNTIME_KEYS",
    "CHECKPOINT_FORMAT",
    "resolve_device",
    "resolve_config",
    "evaluate_nelbo",
    "train",
    "load_checkpoint",
    "load_model",
    "history_path",
    "check_checkpoint",
    "TrainingDiverged",
]

TRAINING_DEFAULTS = {
    "steps": 2000,
    "batch_size": 128,
    "lr": 2e-3,
    "min_lr_ratio": 0.05,  # cosine decay to lr * min_lr_ratio
    "warmup_steps": 100,
    "weight_decay": 0.01,
    "grad_clip": 1.0,
    "seed": 0,
    "eval_every": 250,
    "eval_sequences": 512,
    "checkpoint_every": 250,
    "log_every": 25,
    "threads": None,  # torch.set_num_threads; None leaves torch's default
}
# Keys that only change how a run is observed or scheduled; they may differ on resume.
RUNTIME_KEYS = frozenset({"eval_every", "checkpoint_every", "log_every", "threads"})
CHECKPOINT_FORMAT = "mdmsched.mdm checkpoint v1"
_HISTORY_FIELDS = ("step", "loss", "val_loss_nats", "val_loss_bits", "tokens_per_s", "lr", "elapsed_s")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` as a torch.device; None picks cuda when available, else cpu."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _check_data(name: str, data, n: int | None, q: int | None) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[0] == 0 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 2-d integer array (m, n), got "
                         f"shape {data.shape} dtype {data.dtype}")
    if n is not None and data.shape[1] != n:
        raise ValueError(f"{name} has sequence length {data.shape[1]}, expected n={n}")
    if q is not None and (data.min() < 0 or data.max() >= q):
        raise ValueError(f"{name} holds symbols outside 0..{q - 1} (q={q})")
    return data.astype(np.int64, copy=False)


def resolve_config(config: dict, train_data: np.ndarray, val_data: np.ndarray | None = None) -> dict:
    """Full config: defaults filled in, ``n`` taken from the data, ``q`` from the data if absent.

    Raises ValueError for unknown keys or a config that contradicts the data.
    """
    allowed = {"n", "q"} | set(MODEL_DEFAULTS) | set(TRAINING_DEFAULTS)
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; allowed keys are {sorted(allowed)}")
    train_data = _check_data("train_data", train_data, None, None)
    n = train_data.shape[1]
    if "n" in config and config["n"] != n:
        raise ValueError(f"config n={config['n']} does not match train_data sequence length {n}")
    q = config.get("q")
    if q is None:
        q = int(train_data.max()) + 1
        if val_data is not None:
            q = max(q, int(np.max(val_data)) + 1)
    resolved = {**MODEL_DEFAULTS, **TRAINING_DEFAULTS, **config, "n": n, "q": int(q)}
    for key in ("steps", "batch_size", "eval_sequences", "checkpoint_every", "log_every",
                "eval_every"):
        if int(resolved[key]) != resolved[key] or resolved[key] < 1:
            raise ValueError(f"{key} must be a positive integer, got {resolved[key]!r}")
    if resolved["lr"] <= 0:
        raise ValueError(f"lr must be positive, got {resolved['lr']}")
    return resolved


def _fingerprint(data: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(data, dtype=np.int64).tobytes()).hexdigest()[:16]


def _learning_rate(config: dict, step: int) -> float:
    """Linear warm-up then cosine decay to ``lr * min_lr_ratio`` at the last step."""
    base = config["lr"]
    if step < config["warmup_steps"]:
        return base * (step + 1) / config["warmup_steps"]
    span = max(1, config["steps"] - config["warmup_steps"])
    progress = min(1.0, (step - config["warmup_steps"]) / span)
    floor = base * config["min_lr_ratio"]
    return floor + 0.5 * (base - floor) * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate_nelbo(model: MaskedDiffusionTransformer, data: np.ndarray, seed: int = 0,
                   batch_size: int = 512, device: str | torch.device | None = None):
    """Masked-diffusion NELBO of ``data`` per token in nats: (mean, standard error over sequences).

    Masks come from a generator seeded with ``seed``, so repeated evaluations of one model on the
    same data agree exactly. Divide by ln 2 for bits per token. See
    :func:`mdmsched.mdm.model.masked_diffusion_loss` for why this bounds the NLL per token.
    """
    device = resolve_device(device) if device is not None else next(model.parameters()).device
    data = _check_data("data", data, model.n, model.q)
    was_training = model.training
    model.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    losses = []
    for start in range(0, len(data), batch_size):
        batch = torch.as_tensor(data[start:start + batch_size], device=device)
        losses.append(masked_diffusion_loss(model, batch, generator).double().cpu())
    model.train(was_training)
    losses = torch.cat(losses).numpy()
    se = losses.std(ddof=1) / math.sqrt(len(losses)) if len(losses) > 1 else float("nan")
    return float(losses.mean()), float(se)


def history_path(checkpoint_path: str | os.PathLike) -> Path:
    """Where the training history CSV of a checkpoint lives."""
    path = Path(checkpoint_path)
    return path.with_name(path.stem + ".history.csv")


def _write_history(path: Path, history: list[dict]) -> None:
    text = [",".join(_HISTORY_FIELDS)]
    for row in history:
        text.append(",".join("" if row.get(k) is None else repr(row[k]) for k in _HISTORY_FIELDS))
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(text) + "\n")


def load_checkpoint(checkpoint_path: str | os.PathLike, map_location="cpu") -> dict:
    """Read and validate a training checkpoint; ValueError if it is unreadable or not one of ours."""
    path = Path(checkpoint_path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for truncated or foreign files
        raise ValueError(f"checkpoint {path} is corrupt or unreadable: {error}") from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"checkpoint {path} is not a {CHECKPOINT_FORMAT!r} file")
    missing = {"config", "step", "model", "optimizer", "rng", "history", "data"} - set(state)
    if missing:
        raise ValueError(f"checkpoint {path} is incomplete: missing {sorted(missing)}")
    return state


class TrainingDiverged(FloatingPointError, ValueError):
    """Training met a non-finite loss, gradient or weight (the learning rate is usually too high)."""


def check_checkpoint(state: dict, config: dict, train_data, path, finished: bool = False) -> None:
    """Check that a checkpoint ``state`` (:func:`load_checkpoint`) was trained with ``config`` (the
    resolved config of :func:`resolve_config`; :data:`RUNTIME_KEYS` may differ) on ``train_data``,
    and with ``finished`` that it reached ``config["steps"]``. Raises ValueError naming the first
    difference."""
    _check_resume(state, config, _fingerprint(np.asarray(train_data)), Path(path))
    if finished and int(state["step"]) < int(config["steps"]):
        raise ValueError(f"checkpoint {path} is unfinished: step {state['step']} of {config['steps']}")


def _check_resume(state: dict, config: dict, fingerprint: str, path: Path) -> None:
    saved = state["config"]
    for key in sorted(set(saved) | set(config)):
        if key in RUNTIME_KEYS:
            continue
        if saved.get(key) != config.get(key):
            raise ValueError(f"checkpoint {path}: checkpoint config {key}={saved.get(key)!r} does "
                             f"not match requested {config.get(key)!r}; use another checkpoint "
                             "path or the same config")
    if state["data"]["train_fingerprint"] != fingerprint:
        raise ValueError(f"checkpoint {path} was trained on different train_data "
                         f"(fingerprint {state['data']['train_fingerprint']} != {fingerprint})")


def load_model(checkpoint_path: str | os.PathLike,
               device: str | torch.device | None = None) -> MaskedDiffusionTransformer:
    """The trained model of a checkpoint, in eval mode on ``device`` (None: cuda if available).

    The checkpoint's config, step and history are attached as ``model.config``, ``model.step``
    and ``model.history``. Raises ValueError for an unreadable checkpoint or non-finite weights.
    """
    device = resolve_device(device)
    state = load_checkpoint(checkpoint_path)
    bad = [name for name, tensor in state["model"].items()
           if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise ValueError(f"checkpoint {checkpoint_path} has non-finite weights ({', '.join(bad[:3])}); "
                         "its training diverged")
    model = build_model(state["config"])
    model.load_state_dict(state["model"])
    model.config, model.step, model.history = state["config"], state["step"], state["history"]
    return model.to(device).eval()


def _save(path: Path, config, step, model, optimizer, generator, history, fingerprint) -> None:
    rng = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {
        "format": CHECKPOINT_FORMAT,
        "config": config,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rng,
        "history": history,
        "data": {"train_fingerprint": fingerprint},
    }
    with atomic_path(path) as temporary:
        torch.save(state, temporary)
    _write_history(history_path(path), history)


def train(config: dict, train_data: np.ndarray, val_data: np.ndarray | None,
          checkpoint_path: str | os.PathLike, device: str | torch.device | None = None,
          progress: bool = True, callback=None) -> MaskedDiffusionTransformer:
    """Train (or resume training) a masked-diffusion denoiser; returns the model in eval mode.

    ``config`` holds model sizes (:data:`mdmsched.mdm.model.MODEL_DEFAULTS`), optional ``q``
    (default: largest symbol in the data + 1) and training settings (:data:`TRAINING_DEFAULTS`);
    ``n`` is the data's sequence length. ``train_data`` and ``val_data`` are integer arrays (m, n)
    (``val_data`` may be None: no validation). If ``checkpoint_path`` exists the run resumes from
    it; its config (except :data:`RUNTIME_KEYS`) and training data must match, or ValueError is
    raised. A finished checkpoint is returned as is. A non-finite loss, gradient norm or weight
    raises :class:`TrainingDiverged` (a ValueError) naming the step and the learning rate; the
    checkpoint on disk then stays the last finite one. ``callback(step, row)`` is called after every
    optimisation step with the step number and the latest history row (or None).
    """
    config = resolve_config(config, train_data, val_data)
    train_data = _check_data("train_data", train_data, config["n"], config["q"])
    if val_data is not None:
        val_data = _check_data("val_data", val_data, config["n"], config["q"])
    device = resolve_device(device)
    if config["threads"] is not None:
        torch.set_num_threads(int(config["threads"]))
    path = Path(checkpoint_path)
    fingerprint = _fingerprint(train_data)

    torch.manual_seed(config["seed"])
    model = build_model(config).to(device)
    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in name]
    no_decay = [p for name, p in model.named_parameters() if p.ndim < 2 or "embedding" in name]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}], lr=config["lr"], betas=(0.9, 0.99))
    generator = torch.Generator(device=device).manual_seed(config["seed"])
    step, history, lr = 0, [], config["lr"]
    if path.exists():
        state = load_checkpoint(path)
        _check_resume(state, config, fingerprint, path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"]["torch"])
        generator.set_state(state["rng"]["generator"])
        if "cuda" in state["rng"] and device.type == "cuda":
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        step, history = int(state["step"]), list(state["history"])

    def save():
        if not all(torch.isfinite(p).all() for p in model.parameters()):  # never keep a diverged state
            raise TrainingDiverged(f"training diverged by step {step}: non-finite weights with learning rate "
                                   f"{lr:g} (training.lr={config['lr']:g}); lower the learning rate. The last "
                                   f"finite checkpoint stays at {path}")
        _save(path, config, step, model, optimizer, generator, history, fingerprint)

    train_tensor = torch.as_tensor(train_data, device=device)
    tokens_per_step = config["batch_size"] * config["n"]
    elapsed = history[-1]["elapsed_s"] if history else 0.0
    window_losses, window_time = [], 0.0
    model.train()
    bar = tqdm(total=config["steps"], initial=step, disable=not progress, unit="step",
               desc=f"train {path.name}", dynamic_ncols=True)
    try:
        while step < config["steps"]:
            started = time.perf_counter()
            lr = _learning_rate(config, step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            rows = torch.randint(len(train_tensor), (config["batch_size"],), generator=generator,
                                 device=device)
            loss = masked_diffusion_loss(model, train_tensor[rows], generator).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # clip_grad_norm_ returns the norm before clipping; max_norm = inf only measures it
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip"] or math.inf)
            if not bool(torch.isfinite(loss.detach()) & torch.isfinite(norm)):  # one device sync
                what = "loss" if not math.isfinite(loss.item()) else "gradient norm"
                raise TrainingDiverged(
                    f"training diverged at step {step + 1}: non-finite {what} with learning rate {lr:g} "
                    f"(training.lr={config['lr']:g}); lower the learning rate. "
                    + (f"The last finite checkpoint stays at {path}" if path.exists() else "No checkpoint was written"))
            optimizer.step()
            window_losses.append(loss.item())
            seconds = time.perf_counter() - started
            window_time += seconds
            elapsed += seconds
            step += 1
            bar.update(1)

            row = None
            evaluate = val_data is not None and (step % config["eval_every"] == 0
                                                 or step == config["steps"])
            if step % config["log_every"] == 0 or evaluate or step == config["steps"]:
                row = {"step": step, "loss": float(np.mean(window_losses)), "val_loss_nats": None,
                       "val_loss_bits": None, "lr": lr, "elapsed_s": elapsed,
                       "tokens_per_s": tokens_per_step * len(window_losses) / window_time}
                if evaluate:
                    val_mean, _ = evaluate_nelbo(model, val_data[:config["eval_sequences"]],
                                                 seed=config["seed"] + 1,
                                                 batch_size=4 * config["batch_size"], device=device)
                    row["val_loss_nats"], row["val_loss_bits"] = val_mean, val_mean / math.log(2)
                history.append(row)
                postfix = {"loss": f"{row['loss']:.4f}", "tok/s": f"{row['tokens_per_s']:.0f}"}
                last_val = next((r["val_loss_nats"] for r in reversed(history)
                                 if r["val_loss_nats"] is not None), None)
                if last_val is not None:
                    postfix["val"] = f"{last_val:.4f}"
                bar.set_postfix(postfix)
                window_losses, window_time = [], 0.0
            if step % config["checkpoint_every"] == 0 or step == config["steps"]:
                save()
            if callback is not None:
                callback(step, row)
    except KeyboardInterrupt:
        save()
        raise
    finally:
        bar.close()
    if not history_path(path).exists():  # a finished checkpoint whose history was moved away or lost
        _write_history(history_path(path), history)
    model.config, model.step, model.history = config, step, history
    return model.eval()
