"""Beat classification: the task for the shared loop, patient-wise cross-validation inside DS1, the
ensemble of fold models, checkpoints with their model card, and evaluation on a split.

Protocol: every model choice (epoch, loss, architecture) is made on DS1 folds held out by patient;
DS2 is read once per reported model, by :func:`evaluate_beat_model`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..data.augment import AugmentingTask
from ..data.beats import (
    AAMI_CLASSES,
    AAMI_MAP,
    BEAT_FS,
    DEFAULT_RR,
    DS1,
    DS1_FOLDS,
    DS2,
    BeatSet,
    mitdb_beats,
)
from ..io import load_record, write_annotation
from ..io.records import record_path
from ..metrics import class_report, confusion
from ..models.ensemble import MeanEnsemble
from ..predict.beats import (
    S_RULE,
    S_RULE_REALTIME,
    apply_s_rule,
    beat_tensors,
    build_beat_model,
    predict_beats,
    save_beat_ensemble,
)
from ..recipes import loop_defaults
from ..record import Annotation
from ..signal import compare_beats
from .loop import TensorBatches, TrainConfig, fit
from .losses import build_loss
from .ssl import load_encoder

__all__ = ["BeatSpec", "BeatTask", "train_beat_model", "evaluate_beat_model", "beat_report", "save_beat_model",
           "SPLITS"]

log = logging.getLogger(__name__)
SPLITS = {"DS1": DS1, "DS2": DS2}


@dataclass
class BeatSpec:
    """Everything that defines a beat model and its data contract (saved in the checkpoint)."""

    model: str = "beat_template_resnet"
    model_kwargs: dict = field(default_factory=dict)
    mode: str = "diagnostic"
    leads: tuple[int, ...] = (0,)
    rr_features: tuple[str, ...] | None = None  # None: all of the mode's features
    loss: str = "focal"
    loss_kwargs: dict = field(default_factory=lambda: {"gamma": 1.0})
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("beats")))
    folds: tuple[tuple[str, ...], ...] = DS1_FOLDS
    augment: bool = False
    label_fraction: float = 1.0  # < 1: a low-label run, this share of each training record's beats (seeded)
    init_encoder: str | None = None  # a pre-trained hubert_ecg checkpoint the model's encoder starts from
    augment_ops: tuple[str, ...] = ()  # names in ecg_core.data.augment.AUGMENTATIONS, on each training beat

    def rr_names(self) -> tuple[str, ...]:
        return tuple(self.rr_features) if self.rr_features else DEFAULT_RR[self.mode]


class BeatTask(AugmentingTask):
    """Step and metrics of beat classification (AAMI N/S/V/F/Q); monitors macro-F1 over N/S/V/F."""

    monitor = "macro_f1_nsvf"

    def __init__(self, loss: nn.Module, augment: bool = False, augment_ops: tuple[str, ...] = (), seed: int = 0):
        super().__init__(augment_ops, seed)
        self.loss = loss
        self.augment = augment

    def on_epoch_start(self, epoch: int) -> None:
        if hasattr(self.loss, "set_epoch"):
            self.loss.set_epoch(epoch)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.augment and model.training:
            batch = _augment(batch)
        batch = self.augmented(batch, "x", BEAT_FS, model.training)
        logits = model(batch)
        return {"loss": self.loss(logits, batch["y"]), "logits": logits}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        cm = confusion(targets.numpy(), logits.argmax(1).numpy(), len(AAMI_CLASSES))
        return class_report(cm, AAMI_CLASSES)


def _augment(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Training-time jitter that a new patient would bring: a few samples of R misplacement, noise, and
    a few percent of RR variation. Beats are z-scored, so amplitude scaling would change nothing."""
    x = batch["x"]
    shift = int(torch.randint(-4, 5, (1,)))
    x = torch.roll(x, shifts=shift, dims=-1) + 0.05 * torch.randn_like(x)
    rr = batch["rr"] * (1 + 0.03 * torch.randn_like(batch["rr"])).clamp(0.8, 1.2)
    return {**batch, "x": x, "rr": rr}


def train_beat_model(spec: BeatSpec, run_dir: str | Path | None = None, folds: list[int] | None = None,
                     progress=None, resume: bool = False) -> tuple[MeanEnsemble, dict]:
    """Train one model per DS1 fold (early-stopped on that fold's held-out patients) and return their
    mean ensemble with the cross-validation report (pooled over held-out folds: an honest DS1 estimate)."""
    ds1 = mitdb_beats(DS1, spec.mode, spec.leads)
    ds1 = ds1.subset(ds1.y >= 0)  # detections with no reference beat teach nothing
    members, pooled_true, pooled_pred, fold_reports = [], [], [], []
    for k, val_records in enumerate(spec.folds):
        if folds is not None and k not in folds:
            continue
        is_val = np.isin(ds1.record, val_records)
        tr, va = ds1.subset(~is_val), ds1.subset(is_val)
        if spec.label_fraction < 1.0:  # the same beats for every model of a seed: they depend on seed and fold only
            pick = np.random.default_rng([spec.train.seed, k, 7]).random(len(tr)) < spec.label_fraction
            tr = tr.subset(pick)
        counts = np.bincount(tr.y, minlength=len(AAMI_CLASSES))
        torch.manual_seed(spec.train.seed + k)
        model = build_beat_model(spec)
        if spec.init_encoder:
            model.encoder.load_state_dict(load_encoder(spec.init_encoder)[0].encoder.state_dict())
        task = BeatTask(build_loss(spec.loss, counts, **spec.loss_kwargs), augment=spec.augment,
                        augment_ops=tuple(spec.augment_ops), seed=spec.train.seed + k)
        weights = None
        if spec.train.balanced_sampling:
            w = 1.0 / np.maximum(counts, 1)
            weights = torch.from_numpy(w[tr.y]).float()
        train_b = TensorBatches(beat_tensors(tr, spec), spec.train.batch_size, shuffle=True, weights=weights,
                                seed=spec.train.seed + k)
        val_b = TensorBatches(beat_tensors(va, spec), 1024)
        cfg = TrainConfig(**{**asdict(spec.train), "seed": spec.train.seed + k})
        res = fit(model, task, train_b, val_b, cfg, run_dir=Path(run_dir) / f"fold{k}" if run_dir else None,
                  progress=progress, resume=resume)
        log.info("fold %d: best epoch %d, val macro-F1 %.3f", k, res.best_epoch, res.best_metrics["macro_f1_nsvf"])
        model.eval()
        with torch.inference_mode():
            pred = torch.cat([model(b).argmax(1) for b in TensorBatches(beat_tensors(va, spec, False), 2048)])
        pooled_true.append(va.y)
        pooled_pred.append(pred.numpy())
        fold_reports.append({"fold": k, "val_records": list(val_records), "best_epoch": res.best_epoch,
                             "macro_f1_nsvf": res.best_metrics["macro_f1_nsvf"], "seconds": round(res.seconds, 1)})
        members.append(model.cpu())
    cm = confusion(np.concatenate(pooled_true), np.concatenate(pooled_pred), len(AAMI_CLASSES))
    report = {"cv_pooled": class_report(cm, AAMI_CLASSES), "folds": fold_reports}
    return MeanEnsemble(members).eval(), report


def evaluate_beat_model(model: nn.Module, spec: BeatSpec, split: str = "DS2", records: list[str] | None = None,
                        ann_dir: str | Path | None = None, s_rule: bool = False) -> dict:
    """Gross per-class Se/+P/F1 on detected beats of ``split`` (every record, or ``records``).

    Detections with no reference beat count as false positives of the class predicted for them
    (they are predicted but belong to no class). Reference beats the detector missed count as false
    negatives of their class. The ``ec57`` entry leaves out each record's first 5 minutes. With
    ``ann_dir``, one WFDB annotation file (``.cls``) per record is written for PhysioNet's ``bxb``. With
    ``s_rule``, beats the model calls N and :func:`premature_s_rule` calls premature become S, and the report of
    the same predictions without the rule is under ``"without_s_rule"`` (one pass of the model for both).
    """
    names = list(records or SPLITS[split])
    beats = mitdb_beats(names, spec.mode, spec.leads)
    pred = predict_beats(model, beat_tensors(beats, spec, with_labels=False)).argmax(1)
    without = None
    if s_rule:
        without = beat_report(beats, pred, names)
        pred = apply_s_rule(beats, pred)[0]
    out = beat_report(beats, pred, names)
    if without is not None:
        out["without_s_rule"] = without
    if ann_dir is not None:
        Path(ann_dir).mkdir(parents=True, exist_ok=True)
        for name in names:
            sel = beats.record == name
            sym = tuple(AAMI_CLASSES[k] for k in pred[sel])
            write_annotation(Annotation(beats.r_idx[sel], sym, "cls"), Path(ann_dir) / name, 360.0)
    rule = S_RULE if spec.mode == "diagnostic" else S_RULE_REALTIME
    return {**out, "split": split, "mode": spec.mode, "s_rule": rule if s_rule else None}


def beat_report(beats: BeatSet, pred: np.ndarray, names: list[str]) -> dict:
    """The gross report of predictions ``pred`` for ``beats`` of MIT-BIH records ``names``, and its EC57
    variant (first 5 minutes left out) under ``"ec57"``; reference beats the detector missed count as
    false negatives (read from each record's annotations)."""
    n_cls = len(AAMI_CLASSES)
    results = {}
    missed = {}
    for name in names:
        ann = load_record(record_path("mitdb", name)).annotations["atr"].beats()
        missed[name] = ann
    for variant, start_s in (("gross", 0.0), ("ec57", 300.0)):
        cm = np.zeros((n_cls + 1, n_cls + 1), dtype=np.int64)  # last row/col: no reference beat / no detection
        for name in names:
            sel = beats.record == name
            y, p, r = beats.y[sel], pred[sel], beats.r_idx[sel]
            keep = r >= start_s * BEAT_FS
            y = np.where(y[keep] < 0, n_cls, y[keep])
            cm[:, :n_cls] += confusion(y, p[keep], n_cls + 1)[:, :n_cls]
            ann = missed[name]
            c = compare_beats(ann.sample_idx, r, BEAT_FS, start_s=start_s)
            ref_sorted = np.asarray(ann.symbol, dtype=object)[np.argsort(ann.sample_idx, kind="stable")]
            ref_sorted = ref_sorted[np.sort(ann.sample_idx) >= start_s * BEAT_FS]
            unmatched = np.setdiff1d(np.arange(len(ref_sorted)), c.matched_ref_idx)
            for s in ref_sorted[unmatched]:
                if s in AAMI_MAP:
                    cm[AAMI_MAP[s], n_cls] += 1
        results[variant] = _report_with_missed(cm)
    return {**results["gross"], "ec57": results["ec57"], "n_records": len(names), "classes": list(AAMI_CLASSES)}


def _report_with_missed(cm: np.ndarray) -> dict:
    """The class report of a confusion matrix whose last row (detections with no reference beat) and last
    column (reference beats the detector missed) are extra."""
    return {**class_report(cm, AAMI_CLASSES), "confusion_labels": [*AAMI_CLASSES, "none"]}


def save_beat_model(model: MeanEnsemble, spec: BeatSpec, path: str | Path, provenance: dict) -> dict:
    """:func:`ecg_core.predict.beats.save_beat_ensemble` of a trained ensemble and its training spec."""
    return save_beat_ensemble(model, _spec_dict(spec), path, provenance)


def _spec_dict(spec: BeatSpec) -> dict:
    d = asdict(spec)
    d["leads"] = list(spec.leads)
    d["rr_features"] = list(spec.rr_names())
    d["folds"] = [list(f) for f in spec.folds]
    return d
