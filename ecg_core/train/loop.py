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
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn as nn

from ..atomic import atomic_write_text
from ..checkpoints import atomic_save

__all__ = ["TrainConfig", "Task", "TensorBatches", "fit", "train_one_epoch", "evaluate", "seed_everything",
           "pick_device", "FitResult", "atomic_save", "autocast", "Callback"]

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
    # with a time limit: the cosine follows whichever is further along, steps or the clock, so a run the clock
    # stops still ends near a zero learning rate (not bit-for-bit reproducible: the schedule reads the clock)
    anneal_to_time: bool = False
    amp: str = "auto"  # mixed precision: "auto" (bfloat16 autocast on CUDA only), "bf16" (any device), "off"


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

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["gen"])

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        return self.iter_part(0, 1)

    def iter_part(self, rank: int, world: int) -> Iterator[dict[str, torch.Tensor]]:
        """Batches ``rank``, ``rank + world``, ... of this epoch's order (every rank draws the same order),
        the same count on every rank; only those batches are built."""
        if self.weights is not None:
            order = torch.multinomial(self.weights, self.n, replacement=True, generator=self.gen)
        elif self.shuffle:
            order = torch.randperm(self.n, generator=self.gen)
        else:
            order = torch.arange(self.n)
        limit = len(self) // world * world
        for j in range(rank, limit, world):
            idx = order[j * self.batch_size:(j + 1) * self.batch_size]
            yield {k: v[idx] for k, v in self.tensors.items()}


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def distributed() -> tuple[int, int]:
    """(rank, world size) of this process. Under ``torchrun`` (``WORLD_SIZE`` > 1) the process group is set
    up on first use: NCCL on CUDA, gloo on CPU; otherwise (0, 1)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


class _Shard:
    """Every ``world``-th batch of ``batches`` from ``rank`` on, the same count on every rank (the tail
    that cannot be shared evenly is left out), so ranks that shuffle alike split each epoch."""

    def __init__(self, batches, rank: int, world: int):
        self.batches, self.rank, self.world = batches, rank, world

    def __len__(self) -> int:
        return len(self.batches) // self.world

    def __iter__(self):
        if hasattr(self.batches, "iter_part"):  # builds only this rank's batches
            yield from self.batches.iter_part(self.rank, self.world)
            return
        limit = len(self) * self.world
        for i, b in enumerate(self.batches):
            if i < limit and i % self.world == self.rank:
                yield b

    def state_dict(self):
        return self.batches.state_dict() if hasattr(self.batches, "state_dict") else None

    def load_state_dict(self, state) -> None:
        if state is not None and hasattr(self.batches, "load_state_dict"):
            self.batches.load_state_dict(state)


def autocast(device: torch.device, amp: str = "auto"):
    """The mixed-precision context for ``amp`` (see :class:`TrainConfig`): bfloat16 autocast, which needs
    no loss scaling (its exponent range is float32's); disabled where not asked for."""
    if amp not in ("auto", "bf16", "off"):
        raise ValueError(f"amp must be auto, bf16 or off, not {amp!r}")
    on = amp == "bf16" or (amp == "auto" and device.type == "cuda")
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=on)


def _train_mode(model: nn.Module) -> None:
    """Training mode, except batch-norm layers whose own weights are all frozen (``requires_grad`` off, as
    ``fit`` leaves them out of the optimizer): they keep the running statistics they were trained with."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            own = list(m.parameters(recurse=False))
            if own and not any(p.requires_grad for p in own):
                m.eval()


def train_one_epoch(model: nn.Module, task: Task, batches: TensorBatches, optimizer: torch.optim.Optimizer,
                    scheduler: Callable[[int], None] | None, device: torch.device, grad_clip: float = 0.0,
                    on_batch: Callable[[int, int], None] | None = None, amp: str = "off") -> float:
    """One pass over ``batches``; returns the mean training loss (over all ranks when distributed).
    ``on_batch(i, n)`` is called after batch ``i`` of ``n``; ``amp`` as in :class:`TrainConfig`."""
    _train_mode(model)
    total, n = 0.0, 0
    n_batches = len(batches)
    for i, batch in enumerate(batches):
        batch = _to(batch, device)
        if scheduler is not None:
            scheduler(1)
        with autocast(device, amp):
            out = task.step(model, batch)
        optimizer.zero_grad(set_to_none=True)
        out["loss"].backward()
        if grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        k = len(next(iter(batch.values())))
        total += float(out["loss"].detach()) * k
        n += k
        if on_batch is not None:
            on_batch(i + 1, n_batches)
    if distributed()[1] > 1:
        import torch.distributed as dist

        t = torch.tensor([total, float(n)], dtype=torch.float64)
        dist.all_reduce(t)
        total, n = float(t[0]), int(t[1])
    return total / max(n, 1)


def evaluate(model: nn.Module, task: Task, batches: TensorBatches, device: torch.device, amp: str = "off") -> dict:
    """Loss and the task's metrics over ``batches`` (no gradient, eval mode)."""
    model.eval()
    logits, targets, total, n = [], [], 0.0, 0
    with torch.inference_mode():
        for batch in batches:
            batch = _to(batch, device)
            with autocast(device, amp):
                out = task.step(model, batch)
            k = len(out["logits"])
            total += float(out["loss"]) * k
            n += k
            logits.append(out["logits"].float().cpu())
            targets.append(batch["y"].cpu())
    metrics = task.metrics(torch.cat(logits), torch.cat(targets))
    metrics["loss"] = total / max(n, 1)
    return metrics


def cosine_with_warmup(optimizer: torch.optim.Optimizer, base_lr: float, total_steps: int,
                        warmup_steps: int, clock: Callable[[], float] | None = None) -> Callable[[int], None]:
    """A pure schedule: each call advances one step and sets the learning rate. With ``clock`` (the share
    of a time budget spent, 0 to 1) the cosine is as far along as the larger of the step share and it."""
    state = {"step": 0}

    def advance(k: int = 1) -> None:
        state["step"] += k
        s = state["step"]
        frac = (s - warmup_steps) / max(total_steps - warmup_steps, 1)
        if clock is not None:
            frac = max(frac, clock())
        lr = base_lr * s / max(warmup_steps, 1) if s < warmup_steps else \
            base_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        for g in optimizer.param_groups:
            g["lr"] = lr

    advance.state = state  # saved with a run, so a resumed run goes on from the same step
    return advance


@dataclass
class FitResult:
    best_epoch: int
    best_metrics: dict
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _rng_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"torch": torch.random.get_rng_state(), "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos,
                                                             has_gauss, cached],
            "python": random.getstate(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng_state(st: dict) -> None:
    torch.random.set_rng_state(st["torch"])
    name, keys, pos, has_gauss, cached = st["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(tuple(tuple(x) if isinstance(x, list) else x for x in st["python"]))
    if st["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def _event_writer(run_dir: Path):
    """A TensorBoard event writer in ``run_dir/tb`` when the ``tensorboard`` package is installed (an
    optional dependency), else None. Earlier event files are removed: the caller writes the finished
    epochs again, so a killed run's events past its checkpoint never show."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    for old in (run_dir / "tb").glob("events.out.tfevents.*"):
        old.unlink()
    return SummaryWriter(log_dir=str(run_dir / "tb"))


def _scalars(events, row: dict) -> None:
    if events is None:
        return
    for k, v in row.items():
        if k != "epoch" and isinstance(v, (int, float)):
            events.add_scalar(k, v, row["epoch"])
    events.flush()


class _ProgressFile:
    """``run_dir/progress.json``: where a run stands (epoch, batch, seconds), rewritten atomically at most
    once a second while an epoch runs and after each epoch, for a page that watches the run."""

    def __init__(self, path: Path, epochs: int, t0: float):
        self.path, self.epochs, self.t0, self.last = path, epochs, t0, 0.0

    def write(self, epoch: int, batch: int, batches: int, finished: bool = False, force: bool = False) -> None:
        now = time.perf_counter()
        if not (force or finished) and now - self.last < 1.0:
            return
        self.last = now
        atomic_write_text(self.path, json.dumps({"epoch": epoch, "epochs": self.epochs, "batch": batch,
                                                 "batches": batches, "seconds": round(now - self.t0, 1),
                                                 "finished": finished, "time": time.time()}))


class Callback(Protocol):
    """Hooks into :func:`fit` (every method optional): ``on_epoch_end(epoch, row, model)`` after each
    finished epoch's metrics are written; returning True stops training after that epoch (like early
    stopping: the best weights so far are kept)."""

    def on_epoch_end(self, epoch: int, row: dict, model: nn.Module) -> bool | None: ...


def fit(model: nn.Module, task: Task, train: TensorBatches, val: TensorBatches, cfg: TrainConfig,
        run_dir: str | Path | None = None, progress: Callable[[dict], None] | None = None,
        resume: bool = False, callbacks: list | tuple = ()) -> FitResult:
    """Train ``model`` with AdamW and a cosine schedule, stop early when ``task.monitor`` has not improved
    on ``val`` for ``cfg.patience`` epochs, and load the best weights back into ``model``.

    With ``run_dir``, metrics go to ``run_dir/metrics.jsonl`` and, when ``tensorboard`` is installed, to
    TensorBoard event files in ``run_dir/tb``; every finished epoch is saved atomically to
    ``run_dir/last.pt`` (weights, optimizer, schedule, best weights so far, history, random states, the
    batches' shuffling state); with ``resume``
    a run killed at any moment goes on from its last finished epoch and ends as the uninterrupted run
    would (bit for bit on the same machine and device; tested)."""
    seed_everything(cfg.seed)
    rank, world = distributed()
    device = pick_device(cfg.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    model.to(device)
    net = model  # what trains: the model, or its DistributedDataParallel wrapper under torchrun
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        train = _Shard(train, rank, world)
    trained = [p for p in model.parameters() if p.requires_grad]  # frozen parts (e.g. --train-only) left out
    opt = torch.optim.AdamW(trained, lr=cfg.lr, weight_decay=cfg.weight_decay)
    clock = None
    if cfg.anneal_to_time and cfg.time_limit_s:
        def clock() -> float:  # t0 is set below, before the first step
            return (time.perf_counter() - t0) / cfg.time_limit_s
    sched = cosine_with_warmup(opt, cfg.lr, cfg.epochs * len(train), cfg.warmup_epochs * len(train), clock)
    best_state, best, best_epoch, history, best_metrics = None, -math.inf, -1, [], {}
    start_epoch, elapsed = 0, 0.0
    log_file = events = None
    writer = run_dir is not None and rank == 0  # one writer: rank 0 (every rank holds the same weights)
    if run_dir is not None:
        run_dir = Path(run_dir)
        if writer:
            run_dir.mkdir(parents=True, exist_ok=True)
        last = run_dir / "last.pt"
        if resume and last.exists():
            st = torch.load(last, map_location=device, weights_only=True)
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            sched.state["step"] = st["sched_step"]
            best, best_epoch = st["best"], st["best_epoch"]
            best_state, best_metrics = st["best_state"], st["best_metrics"]
            history, start_epoch, elapsed = st["history"], st["epoch"] + 1, st["elapsed"]
            if st.get("done"):  # the run had stopped early (no progress for `patience` epochs): nothing to train
                start_epoch = cfg.epochs
            for obj, key in ((train, "train_state"), (val, "val_state"), (task, "task_state")):
                if st.get(key) is not None and hasattr(obj, "load_state_dict"):
                    obj.load_state_dict(st[key])
            _set_rng_state(st["rng"])
            log.info("resumed %s after epoch %d", run_dir, st["epoch"])
    if writer:
        atomic_write_text(run_dir / "config.json", json.dumps(asdict(cfg), indent=2))
        # the metrics file holds exactly the finished epochs (a killed run may have written past its checkpoint)
        atomic_write_text(run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history))
        log_file = open(run_dir / "metrics.jsonl", "a")
        # like the metrics file, the event files are rewritten to hold exactly the finished epochs
        events = _event_writer(run_dir)
        for r in history:
            _scalars(events, r)
    t0 = time.perf_counter() - elapsed
    prog = _ProgressFile(run_dir / "progress.json", cfg.epochs, t0) if writer else None
    try:
        for epoch in range(start_epoch, cfg.epochs):
            if hasattr(task, "on_epoch_start"):
                task.on_epoch_start(epoch)
            on_batch = (lambda i, n, e=epoch: prog.write(e, i, n)) if prog else None
            train_loss = train_one_epoch(net, task, train, opt, sched, device, cfg.grad_clip, on_batch, cfg.amp)
            metrics = evaluate(model, task, val, device, cfg.amp)
            row = {"epoch": epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in metrics.items()
                                                                   if not isinstance(v, (dict, list))},
                   "seconds": round(time.perf_counter() - t0, 1)}
            history.append(row)
            score = metrics[task.monitor]
            stop = early = False
            if score > best:
                best, best_epoch = score, epoch
                best_state = copy.deepcopy(model.state_dict())
                best_metrics = metrics
            elif epoch - best_epoch >= cfg.patience:
                log.info("early stop at epoch %d (best %d: %.4f)", epoch, best_epoch, best)
                stop = early = True
            if cfg.time_limit_s and time.perf_counter() - t0 > cfg.time_limit_s:
                log.info("time limit reached after epoch %d (best %d: %.4f)", epoch, best_epoch, best)
                stop = True
            if world > 1:  # clocks differ between ranks: rank 0 decides, or one rank would wait forever
                import torch.distributed as dist

                flag = torch.tensor([int(stop), int(early)])
                dist.broadcast(flag, 0)
                stop, early = bool(flag[0]), bool(flag[1])
            if writer:
                atomic_save({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "sched_step": sched.state["step"], "best": best, "best_epoch": best_epoch,
                             "best_state": best_state, "best_metrics": best_metrics, "history": history,
                             "done": early,  # a time limit is an interruption: a resumed run goes on
                             "elapsed": time.perf_counter() - t0, "rng": _rng_state(),
                             "train_state": train.state_dict() if hasattr(train, "state_dict") else None,
                             "val_state": val.state_dict() if hasattr(val, "state_dict") else None,
                             "task_state": task.state_dict() if hasattr(task, "state_dict") else None},
                            run_dir / "last.pt")
                log_file.write(json.dumps(row) + "\n")
                log_file.flush()
                _scalars(events, row)
                prog.write(epoch + 1, 0, len(train), force=True)
            if progress:
                progress(row)
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end") and cb.on_epoch_end(epoch, row, model):
                    log.info("stopped by %s after epoch %d", type(cb).__name__, epoch)
                    stop = True
            if stop:
                break
    finally:
        if log_file:
            log_file.close()
        if events is not None:
            events.close()
    if prog:
        prog.write(len(history), 0, len(train), finished=True)
    model.load_state_dict(best_state)
    return FitResult(best_epoch, best_metrics, history, time.perf_counter() - t0)
