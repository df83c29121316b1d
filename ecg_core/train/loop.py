"""The one training loop. Each task supplies ``step(model, batch) -> {"loss", "logits"}`` and
``metrics(logits, batch_targets) -> dict``; the loop never branches on the model.

``train_one_epoch`` and ``evaluate`` are separate (``evaluate`` runs under ``torch.inference_mode``);
``fit`` wires them with early stopping on the task's monitored validation metric, keeping the best
weights, and writes one JSON line of metrics per epoch when given a run folder.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn as nn

__all__ = ["TrainConfig", "Task", "TensorBatches", "fit", "train_one_epoch", "evaluate", "seed_everything",
           "pick_device", "FitResult"]

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 6
    seed: int = 0
    device: str = "auto"
    balanced_sampling: bool = False
    warmup_epochs: int = 1
    grad_clip: float = 0.0  # max gradient norm; 0: no clipping
    time_limit_s: float = 0.0  # stop after the epoch that passes this wall time; 0: no limit


class Task(Protocol):
    monitor: str  # a key of metrics(); larger is better

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict: ...


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU for ``"auto"``; otherwise the named device."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class TensorBatches:
    """Mini-batches of a dict of equal-length tensors held in memory (cheaper than a DataLoader for
    small samples). ``weights`` turns on sampling with replacement in proportion to them."""

    def __init__(self, tensors: dict[str, torch.Tensor], batch_size: int, shuffle: bool = False,
                 weights: torch.Tensor | None = None, seed: int = 0):
        self.tensors = tensors
        self.n = len(next(iter(tensors.values())))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.weights = weights
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        if self.weights is not None:
            order = torch.multinomial(self.weights, self.n, replacement=True, generator=self.gen)
        elif self.shuffle:
            order = torch.randperm(self.n, generator=self.gen)
        else:
            order = torch.arange(self.n)
        for i in range(0, self.n, self.batch_size):
            idx = order[i:i + self.batch_size]
            yield {k: v[idx] for k, v in self.tensors.items()}


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def train_one_epoch(model: nn.Module, task: Task, batches: TensorBatches, optimizer: torch.optim.Optimizer,
                    scheduler: Callable[[int], None] | None, device: torch.device, grad_clip: float = 0.0) -> float:
    """One pass over ``batches``; returns the mean training loss."""
    model.train()
    total, n = 0.0, 0
    for batch in batches:
        batch = _to(batch, device)
        if scheduler is not None:
            scheduler(1)
        out = task.step(model, batch)
        optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        if grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        k = len(next(iter(batch.values())))
        total += float(out["loss"].detach()) * k
        n += k
    return total / max(n, 1)


def evaluate(model: nn.Module, task: Task, batches: TensorBatches, device: torch.device) -> dict:
    """Loss and the task's metrics over ``batches`` (no gradient, eval mode)."""
    model.eval()
    logits, targets, total, n = [], [], 0.0, 0
    with torch.inference_mode():
        for batch in batches:
            batch = _to(batch, device)
            out = task.step(model, batch)
            k = len(out["logits"])
            total += float(out["loss"]) * k
            n += k
            logits.append(out["logits"].float().cpu())
            targets.append(batch["y"].cpu())
    metrics = task.metrics(torch.cat(logits), torch.cat(targets))
    metrics["loss"] = total / max(n, 1)
    return metrics


def _cosine_with_warmup(optimizer: torch.optim.Optimizer, base_lr: float, total_steps: int,
                        warmup_steps: int) -> Callable[[int], None]:
    """A pure schedule: each call advances one step and sets the learning rate."""
    state = {"step": 0}

    def advance(k: int = 1) -> None:
        state["step"] += k
        s = state["step"]
        lr = base_lr * s / max(warmup_steps, 1) if s < warmup_steps else \
            base_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warmup_steps) / max(total_steps - warmup_steps, 1))))
        for g in optimizer.param_groups:
            g["lr"] = lr

    return advance


@dataclass
class FitResult:
    best_epoch: int
    best_metrics: dict
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def fit(model: nn.Module, task: Task, train: TensorBatches, val: TensorBatches, cfg: TrainConfig,
        run_dir: str | Path | None = None, progress: Callable[[dict], None] | None = None) -> FitResult:
    """Train ``model`` with AdamW and a cosine schedule, stop early when ``task.monitor`` has not improved
    on ``val`` for ``cfg.patience`` epochs, and load the best weights back into ``model``."""
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _cosine_with_warmup(opt, cfg.lr, cfg.epochs * len(train), cfg.warmup_epochs * len(train))
    best_state, best, best_epoch, history = None, -math.inf, -1, []
    log_file = None
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
        log_file = open(run_dir / "metrics.jsonl", "a")
    t0 = time.perf_counter()
    try:
        for epoch in range(cfg.epochs):
            if hasattr(task, "on_epoch_start"):
                task.on_epoch_start(epoch)
            train_loss = train_one_epoch(model, task, train, opt, sched, device, cfg.grad_clip)
            metrics = evaluate(model, task, val, device)
            row = {"epoch": epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in metrics.items()
                                                                   if not isinstance(v, (dict, list))},
                   "seconds": round(time.perf_counter() - t0, 1)}
            history.append(row)
            if log_file:
                log_file.write(json.dumps(row) + "\n")
                log_file.flush()
            if progress:
                progress(row)
            score = metrics[task.monitor]
            if score > best:
                best, best_epoch = score, epoch
                best_state = copy.deepcopy(model.state_dict())
                best_metrics = metrics
            elif epoch - best_epoch >= cfg.patience:
                log.info("early stop at epoch %d (best %d: %.4f)", epoch, best_epoch, best)
                break
            if cfg.time_limit_s and time.perf_counter() - t0 > cfg.time_limit_s:
                log.info("time limit reached after epoch %d (best %d: %.4f)", epoch, best_epoch, best)
                break
    finally:
        if log_file:
            log_file.close()
    model.load_state_dict(best_state)
    return FitResult(best_epoch, best_metrics, history, time.perf_counter() - t0)
