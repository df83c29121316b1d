"""Wave segmentation (P / QRS / T / background per sample and lead) on LUDB with the shared loop.

Protocol: LUDB's fixed patient-wise 5-fold split (:func:`ecg_core.data.ludb.ludb_folds`). The model for
fold k is trained on the other four folds and early-stopped on an inner validation set carved from
them (every 8th training record); fold k itself is only read by the evaluation. The shipped checkpoint
holds the five fold models: evaluation scores each record with the model that never saw it, the app
averages all five.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..checkpoints import atomic_save, half_state
from ..data import augment as aug
from ..data.ludb import (
    WAVES,
    label_mask,
    load_ludb,
    ludb_fold_split,
    ludb_folds,
)
from ..models.ensemble import MeanEnsemble
from ..predict.delineation import (
    FS,
    build_delineation_model,
    load_delineation_ensemble,
    model_input,
    predict_probs,
    save_delineation_ensemble,
)
from ..recipes import loop_defaults
from ..record import STANDARD_12_LEADS
from .loop import TensorBatches, TrainConfig, fit

__all__ = ["DelineationSpec", "DelineationTask", "train_delineation", "save_delineation_model",
           "load_delineation_model", "assemble_folds", "model_input", "predict_probs", "ludb_arrays", "CropBatches"]

log = logging.getLogger(__name__)


@dataclass
class DelineationSpec:
    model: str = "delineation_unet"
    model_kwargs: dict = field(default_factory=dict)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("delineation"), weight_decay=1e-4))
    crop: int = 3072
    augment: bool = True
    invert: bool = False  # also flip leads upside down while training (robust to reversed electrodes)
    augment_ops: tuple[str, ...] = ()  # names in ecg_core.data.augment.AUGMENTATIONS: replace the default set


def ludb_arrays(names: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs ``(n, 12, 5000)`` and labels ``(n, 12, 5000)`` (-1 outside each lead's marked span) of
    LUDB records ``names``."""
    xs, ys = [], []
    for name in names:
        rec, waves = load_ludb(name)
        x, _ = model_input(rec)
        y = np.full(x.shape, -1, dtype=np.int64)
        for i, lead in enumerate(rec.lead_names):
            y[STANDARD_12_LEADS.index(lead)] = label_mask(waves[i], rec.n_samples)
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


class CropBatches:
    """Random crops of training records with augmentation: gain, one kind of noise (muscle, electrode
    motion, mains, white) at 12-30 dB, tachycardia-like time compression, optionally inverted leads
    (some or all), and lead dropout (missing leads become zeros with no labels, so the model serves 1- and
    2-lead records too); named transforms (``ops``) replace that default set."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, crop: int, augment: bool, seed: int = 0,
                 invert: bool = False, ops: tuple[str, ...] = ()):
        self.x, self.y, self.batch_size, self.crop, self.augment, self.invert = x, y, batch_size, crop, augment, invert
        self.index = np.arange(len(x))
        self.rng = np.random.default_rng(seed)
        # named transforms (each with probability 0.5, labels kept on their waves) instead of the default set
        self.ops = aug.SignalAugmenter(ops) if ops else None

    def __len__(self) -> int:
        return int(np.ceil(len(self.index) / self.batch_size))

    def _sample(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        x, y, rng = self.x[i], self.y[i], self.rng
        if self.ops is not None:
            x, _, y = self.ops(x, FS, rng, labels=y)
        elif self.augment and rng.random() < 0.3:
            x, _, y = aug.time_scale(x, FS, float(rng.uniform(1.0, 1.6)), labels=y)
        n = x.shape[-1]
        if n > self.crop:
            labelled = np.flatnonzero((y >= 0).any(axis=0))
            lo = max(0, min(labelled.min() - self.crop // 4, n - self.crop)) if len(labelled) else 0
            hi = max(lo, min(labelled.max() - 3 * self.crop // 4, n - self.crop)) if len(labelled) else n - self.crop
            s = int(rng.integers(lo, hi + 1))
            x, y = x[:, s:s + self.crop], y[:, s:s + self.crop]
        elif n < self.crop:
            x = np.pad(x, ((0, 0), (0, self.crop - n)))
            y = np.pad(y, ((0, 0), (0, self.crop - n)), constant_values=-1)
        if self.augment and self.ops is None:
            x = aug.amplitude_scale(x, FS, rng, 0.5, 2.0)
            if rng.random() < 0.5:
                kind = str(rng.choice(["muscle", "electrode_motion", "powerline", "gaussian"]))
                x = aug.NOISE_KINDS[kind](x, FS, rng, snr_db=float(rng.uniform(12, 30)))
            if self.invert and rng.random() < 0.25:  # reversed electrodes: some leads or all of them upside down
                flip = rng.random(x.shape[0]) < 0.5 if rng.random() < 0.5 else np.ones(x.shape[0], dtype=bool)
                x = np.where(flip[:, None], -x, x).astype(np.float32)
            if rng.random() < 0.2:
                keep = rng.random(x.shape[0]) < rng.uniform(0.1, 0.9)
                keep[rng.integers(x.shape[0])] = True
                x = np.where(keep[:, None], x, 0.0).astype(np.float32)
                y = aug.drop_lead_labels(y, keep)
        return np.ascontiguousarray(x, dtype=np.float32), np.ascontiguousarray(y)

    def __iter__(self):
        order = self.rng.permutation(self.index)
        for k in range(0, len(order), self.batch_size):
            pairs = [self._sample(i) for i in order[k:k + self.batch_size]]
            yield {"x": torch.from_numpy(np.stack([p[0] for p in pairs])),
                   "y": torch.from_numpy(np.stack([p[1] for p in pairs]))}


def sample_f1(pred: np.ndarray, y: np.ndarray) -> dict:
    """Sample-wise F1 of each wave class over labelled samples, and their mean (``macro_f1_waves``)."""
    keep = y >= 0
    p, t = pred[keep], y[keep]
    out = {}
    for k, name in enumerate(WAVES, start=1):
        tp = np.sum((p == k) & (t == k))
        denom = np.sum(p == k) + np.sum(t == k)
        out[f"f1_{name}"] = float(2 * tp / denom) if denom else 0.0
    out["macro_f1_waves"] = float(np.mean([out[f"f1_{n}"] for n in WAVES]))
    return out


class DelineationTask:
    """Cross-entropy over labelled samples (label -1 ignored); monitors sample-wise macro-F1 of P/QRS/T."""

    monitor = "macro_f1_waves"

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        logits = model(batch)
        return {"loss": F.cross_entropy(logits, batch["y"], ignore_index=-1), "logits": logits}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        return sample_f1(logits.argmax(1).numpy(), targets.numpy())


def _build(spec: DelineationSpec) -> nn.Module:
    return build_delineation_model(asdict(spec))


def train_delineation(spec: DelineationSpec, run_dir: str | Path | None = None, folds: list[int] | None = None,
                      progress=None, init: list[nn.Module] | None = None,
                      resume: bool = False, command: str | None = None) -> tuple[list[nn.Module | None], list[dict]]:
    """Train the model of each LUDB fold (on the other folds; early-stopped on an inner validation set).
    ``init`` (fold models of an earlier run) continues training from them instead of from scratch.
    Returns the five models (None for folds not trained) and a report per fold. With ``run_dir`` each
    finished fold's model and report (with the spec and ``command``) are kept in ``run_dir/fold{k}``, so folds
    trained by separate processes can be put together by :func:`assemble_folds`."""
    all_folds = ludb_folds()
    members: list[nn.Module | None] = [None] * len(all_folds)
    reports = []
    for k, held in enumerate(all_folds):
        if folds is not None and k not in folds:
            continue
        fit_names, inner_val = ludb_fold_split(k)
        xt, yt = ludb_arrays(fit_names)
        xv, yv = ludb_arrays(inner_val)
        torch.manual_seed(spec.train.seed + k)
        model = _build(spec)
        if init is not None:
            model.load_state_dict(init[k].state_dict())
        cfg = TrainConfig(**{**asdict(spec.train), "seed": spec.train.seed + k})
        train_b = CropBatches(xt, yt, cfg.batch_size, spec.crop, spec.augment, seed=cfg.seed, invert=spec.invert,
                              ops=tuple(spec.augment_ops))
        val_b = TensorBatches({"x": torch.from_numpy(xv), "y": torch.from_numpy(yv)}, 8)
        res = fit(model, DelineationTask(), train_b, val_b, cfg,
                  run_dir=Path(run_dir) / f"fold{k}" if run_dir else None, progress=progress, resume=resume)
        log.info("fold %d: best epoch %d, inner-val macro-F1 %.4f", k, res.best_epoch,
                 res.best_metrics["macro_f1_waves"])
        members[k] = model.cpu().eval()
        report = {"fold": k, "held_out": list(held), "inner_val": inner_val, "best_epoch": res.best_epoch,
                  "inner_val_macro_f1": res.best_metrics["macro_f1_waves"], "seconds": round(res.seconds, 1)}
        if run_dir:  # each finished fold is kept, so a later failure loses nothing
            fold_dir = Path(run_dir) / f"fold{k}"
            atomic_save(half_state(model.state_dict()), fold_dir / "model.pt")
            (fold_dir / "report.json").write_text(json.dumps({**report, "spec": asdict(spec), "command": command},
                                                             indent=1))
        reports.append(report)
    return members, reports


def assemble_folds(run_dirs: list[str | Path]) -> tuple[list[nn.Module], DelineationSpec, list[dict]]:
    """The five fold models kept by :func:`train_delineation` in ``run_dir/fold{k}`` (e.g. each fold trained
    by its own process with ``--folds k``), their common spec and their reports (each with the command that
    trained it). Every fold 0-4 must be found exactly once, all with the same spec."""
    found: dict[int, Path] = {}
    for d in run_dirs:
        for rep in sorted(Path(d).glob("fold*/report.json")):
            k = json.loads(rep.read_text())["fold"]
            if k in found:
                raise ValueError(f"fold {k} found twice: {found[k]} and {rep.parent}")
            found[k] = rep.parent
    missing = [k for k in range(len(ludb_folds())) if k not in found]
    if missing:
        raise ValueError(f"no trained model for fold(s) {missing} in {', '.join(map(str, run_dirs))}")
    reports = [json.loads((found[k] / "report.json").read_text()) for k in sorted(found)]
    spec_d = reports[0]["spec"]
    if any(r["spec"] != spec_d for r in reports):
        raise ValueError("the folds were trained with different specs; assemble folds of one configuration")
    spec = _spec_from_dict(spec_d)
    members = []
    for k in sorted(found):
        model = _build(spec)
        model.load_state_dict(torch.load(found[k] / "model.pt", weights_only=True))  # fp16 copied into fp32
        members.append(model.eval())
    return members, spec, [{n: v for n, v in r.items() if n != "spec"} for r in reports]


def _spec_from_dict(sd: dict) -> DelineationSpec:
    return DelineationSpec(model=sd["model"], model_kwargs=sd["model_kwargs"], train=TrainConfig(**sd["train"]),
                           crop=sd["crop"], augment=sd["augment"], invert=sd.get("invert", False),
                           augment_ops=tuple(sd.get("augment_ops", ())))


#: what every delineation card says of the task, data and selection
def save_delineation_model(members: list[nn.Module], spec: DelineationSpec, path: str | Path,
                           provenance: dict) -> dict:
    """:func:`ecg_core.predict.delineation.save_delineation_ensemble` of trained fold models and their
    training spec."""
    return save_delineation_ensemble(members, asdict(spec), path, provenance)


def load_delineation_model(path: str | Path, verify: bool = True) -> tuple[MeanEnsemble, DelineationSpec, dict]:
    """The five fold models as a :class:`MeanEnsemble` (``members[k]`` never saw fold k), the training spec
    and the card (:func:`ecg_core.predict.delineation.load_delineation_ensemble`, whose spec is a dict)."""
    model, spec, card = load_delineation_ensemble(path, verify)
    return model, _spec_from_dict(spec), card
