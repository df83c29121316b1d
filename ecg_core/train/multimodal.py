"""12-lead diagnosis with the multimodal model: data, the task for the shared loop, patient-wise
cross-validation on LUDB with calibration and uncertainty measured on held-out folds.

Protocol: LUDB's fixed patient-wise 5-fold split (the delineation split). The model of fold k trains on
the other folds, early-stops on every 8th of their records (inner validation), and its temperature is
fitted on that inner validation set; fold k is only predicted. Figures pool the five held-out folds.

Targets (multi-label): :data:`ecg_core.data.ludb.DIAGNOSIS_CLASSES` (six groups) or
:data:`~ecg_core.data.ludb.LEARNED_STATEMENTS` (the learned statements of :mod:`ecg_core.interpret`).
Severity (ordinal, LUDB has none):
the number of abnormal classes, bucketed 0 / 1-2 / 3+. Confidence: trained to predict whether every
class of the record is called right (0.5 threshold), a learned "can I trust this read" signal.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.augment import AugmentingTask
from ..data.ludb import (
    DIAGNOSIS_CLASSES,
    LEARNED_STATEMENTS,
    load_ludb,
    ludb_diagnoses,
    ludb_folds,
    ludb_learned_targets,
)
from ..data.ptbxl import SUPERCLASSES, load_ptbxl_record, ptbxl_index
from ..predict.diagnosis import (
    FS,
    build_multimodal,
    model_inputs,
    record_features,
    save_multimodal_ensemble,
    stack_features,
)
from ..recipes import loop_defaults
from ..uncertainty import TemperatureScaler, ece, mc_predict, selective_accuracy
from .loop import TensorBatches, TrainConfig, fit

__all__ = ["MultimodalSpec", "MultimodalTask", "target_classes", "ludb_multimodal_arrays", "save_multimodal",
           "train_multimodal_ptbxl", "severity_of", "macro_auc", "train_multimodal_cv"]

log = logging.getLogger(__name__)


@dataclass
class MultimodalSpec:
    modalities: tuple[str, ...] = ("signal", "image", "meta")
    model_kwargs: dict = field(default_factory=lambda: {"dim": 96, "image_kwargs": {"depth": 4}})
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("multimodal"), weight_decay=1e-2))
    augment_ops: tuple[str, ...] = ()  # on the training signals only (the image stays the printed original)
    targets: str = "groups"  # LUDB: "groups" (DIAGNOSIS_CLASSES) or "statements" (LEARNED_STATEMENTS)


def target_classes(targets: str) -> list[str]:
    """The class names of a LUDB target set: ``"groups"`` or ``"statements"``."""
    if targets not in ("groups", "statements"):
        raise ValueError(f"targets are 'groups' or 'statements', not {targets!r}")
    return list(DIAGNOSIS_CLASSES if targets == "groups" else LEARNED_STATEMENTS)


def severity_of(y: np.ndarray) -> np.ndarray:
    """Ordinal severity 0 / 1 / 2 from the number of abnormal classes (0, 1-2, 3+)."""
    n = np.asarray(y).sum(axis=1)
    return np.where(n == 0, 0, np.where(n <= 2, 1, 2)).astype(np.int64)


def ludb_multimodal_arrays(names: list[str] | None = None, targets: str = "groups",
                           image: bool = True) -> dict[str, np.ndarray]:
    """Signals (12 x 1000 at 100 Hz, mV, 0.5 Hz high-passed), rendered images (a placeholder when ``image``
    is False), metadata (age, height, weight: NaN when unknown; sex 0 unknown / 1 M / 2 F), targets and
    severity of LUDB records. ``targets="groups"``: the six groups, on the signals as stored (the shipped
    six-group model's inputs); ``"statements"``: :data:`~ecg_core.data.ludb.LEARNED_STATEMENTS`, on the
    signals at their true scale (``load_ludb(true_scale=True)``: amplitudes comparable between leads, as
    any other recorder gives them)."""
    classes = target_classes(targets)
    all_names, y, meta = ludb_diagnoses()
    names = names or all_names
    if targets == "statements":
        yy = ludb_learned_targets(names)
    else:
        rows = {n: i for i, n in enumerate(all_names)}
        yy = y[[rows[n] for n in names]]
    true_scale = targets == "statements"
    feats = [record_features(load_ludb(n, true_scale=true_scale)[0], age=meta[n]["age"], sex=meta[n]["sex"],
                             image=image) for n in names]
    return {**stack_features(feats), "y": yy.astype(np.float32), "severity": severity_of(yy),
            "names": np.asarray(names), "classes": np.asarray(classes)}


def macro_auc(probs: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    """Macro-averaged ROC AUC over classes with both outcomes present, and each class's AUC (NaN when a
    class has one outcome only)."""
    from sklearn.metrics import roc_auc_score

    per = [float(roc_auc_score(y[:, k], probs[:, k])) if 0 < y[:, k].sum() < len(y) else float("nan")
           for k in range(y.shape[1])]
    finite = [a for a in per if np.isfinite(a)]
    return (float(np.mean(finite)) if finite else float("nan")), per


class MultimodalTask(AugmentingTask):
    """Multi-label BCE + ordinal severity + confidence; monitors macro-AUC. Named augmentations
    (``augment_ops``) change the training signals only."""

    monitor = "macro_auc"

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        batch = self.augmented(batch, "signal", FS, model.training)
        out = model(batch)
        y = batch["y"]
        loss = F.binary_cross_entropy_with_logits(out["diagnosis"], y)
        k = torch.arange(out["severity"].shape[1], device=y.device)
        sev_t = (batch["severity"][:, None] > k[None, :]).float()  # cumulative targets P(severity > k)
        loss = loss + 0.3 * F.binary_cross_entropy_with_logits(out["severity"], sev_t)
        right = ((out["diagnosis"].detach() > 0) == (y > 0.5)).all(dim=1).float()
        loss = loss + 0.1 * F.binary_cross_entropy_with_logits(out["confidence"], right)
        return {"loss": loss, "logits": out["diagnosis"]}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        auc, per = macro_auc(torch.sigmoid(logits).numpy(), targets.numpy())
        return {"macro_auc": auc if np.isfinite(auc) else 0.0}


def train_multimodal_cv(spec: MultimodalSpec, arrays: dict[str, np.ndarray] | None = None, folds=None,
                        run_dir=None, progress=None, mc_samples: int = 20,
                        resume: bool = False) -> tuple[list[nn.Module], dict]:
    """Five fold models and the pooled held-out report: macro-AUC, per-class AUC and F1, ECE before and
    after temperature scaling (fitted on inner validation), selective accuracy (MC-dropout spread)."""
    arrays = arrays or ludb_multimodal_arrays(targets=spec.targets, image="image" in spec.modalities)
    names = list(arrays["names"])
    classes = [str(c) for c in arrays.get("classes", DIAGNOSIS_CLASSES)]
    all_folds = ludb_folds()
    n, k_cls = len(names), arrays["y"].shape[1]
    held_logits = np.full((n, k_cls), np.nan, np.float32)
    held_cal = np.full((n, k_cls), np.nan)
    held_std = np.full(n, np.nan)
    members, fold_reports = [], []
    for k, held in enumerate(all_folds):
        if folds is not None and k not in folds:
            continue
        is_held = np.isin(names, held)
        train_idx = np.flatnonzero(~is_held)
        inner = train_idx[::8]
        fit_idx = np.setdiff1d(train_idx, inner)
        torch.manual_seed(spec.train.seed + k)
        model = _build(spec, k_cls)
        cfg = TrainConfig(**{**asdict(spec.train), "seed": spec.train.seed + k})
        tr = TensorBatches(model_inputs(arrays, spec.modalities, fit_idx), cfg.batch_size, shuffle=True, seed=cfg.seed)
        va = TensorBatches(model_inputs(arrays, spec.modalities, inner), 64)
        res = fit(model, MultimodalTask(tuple(spec.augment_ops), cfg.seed), tr, va, cfg,
                  run_dir=Path(run_dir) / f"fold{k}" if run_dir else None,
                  progress=progress, resume=resume)
        model.eval()
        held_inputs = {kk: v for kk, v in model_inputs(arrays, spec.modalities, np.flatnonzero(is_held)).items()
                       if kk not in ("y", "severity")}
        with torch.inference_mode():
            inner_logits = model(model_inputs(arrays, spec.modalities, inner))["diagnosis"].numpy()
            logits = model(held_inputs)["diagnosis"].numpy()
        ts = TemperatureScaler(multilabel=True).fit(inner_logits, arrays["y"][inner])
        held_logits[is_held] = logits
        held_cal[is_held] = ts.transform(logits)
        mc = mc_predict(model, held_inputs, n_samples=mc_samples, key="diagnosis")
        held_std[is_held] = mc.std.mean(axis=1)
        members.append(model)
        fold_reports.append({"fold": k, "best_epoch": res.best_epoch, "temperature": ts.temperature,
                             "inner_val_macro_auc": res.best_metrics["macro_auc"]})
    done = np.isfinite(held_logits).all(axis=1)
    y = arrays["y"][done]
    probs = 1 / (1 + np.exp(-held_logits[done]))
    auc, per_auc = macro_auc(probs, y)
    pred = held_cal[done] >= 0.5
    f1 = [float(2 * (pred[:, c] & (y[:, c] > 0.5)).sum() / max(pred[:, c].sum() + (y[:, c] > 0.5).sum(), 1))
          for c in range(k_cls)]
    correct = (pred == (y > 0.5)).mean(axis=1)  # per-record label accuracy
    report = {"n_records": int(done.sum()), "modalities": list(spec.modalities), "targets": spec.targets,
              "macro_auc": auc,
              "per_class": {c: {"n": int(y[:, i].sum()), "auc": a, "f1": f}
                            for i, (c, a, f) in enumerate(zip(classes, per_auc, f1))},
              "ece_before": ece(probs, y), "ece_after": ece(held_cal[done], y),
              "accuracy_all": float(correct.mean()),
              "accuracy_80pct_most_certain": selective_accuracy(correct, held_std[done], 0.8),
              "folds": fold_reports}
    return members, report


def _build(spec: MultimodalSpec, num_classes: int) -> nn.Module:
    return build_multimodal(spec.modalities, spec.model_kwargs, num_classes)


def save_multimodal(members: list[nn.Module], spec: MultimodalSpec, classes: list[str], path,
                    provenance: dict) -> dict:
    """:func:`ecg_core.predict.diagnosis.save_multimodal_ensemble` of trained fold models and their
    training spec."""
    return save_multimodal_ensemble(members, asdict(spec), classes, path, provenance)


def train_multimodal_ptbxl(spec: MultimodalSpec, root=None, limit: int | None = None,
                           progress=None) -> tuple[nn.Module, dict]:
    """PTB-XL superdiagnostic task: train on strat_folds 1-8, early-stop on fold 9, report fold 10 once
    (macro-AUC, per-class AUC)."""
    df = ptbxl_index(root)

    def arrays(split: str) -> dict[str, np.ndarray]:
        rows = df[df["split"] == split]
        if limit:
            rows = rows.iloc[:limit]
        feats = []
        for _, row in rows.iterrows():
            rec = load_ptbxl_record(row, root, 100)
            m = rec.metadata
            feats.append(record_features(rec, age=m.get("age"), sex=m.get("sex"), height=m.get("height"),
                                         weight=m.get("weight"), image="image" in spec.modalities))
        y = rows[list(SUPERCLASSES)].to_numpy().astype(np.float32)
        return {**stack_features(feats), "y": y, "severity": severity_of(y)}

    tr, va, te = arrays("train"), arrays("val"), arrays("test")
    torch.manual_seed(spec.train.seed)
    model = _build(spec, len(SUPERCLASSES))
    fit(model, MultimodalTask(tuple(spec.augment_ops), spec.train.seed),
        TensorBatches(model_inputs(tr, spec.modalities), spec.train.batch_size, shuffle=True, seed=spec.train.seed),
        TensorBatches(model_inputs(va, spec.modalities), 64), spec.train, progress=progress)
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(b)["diagnosis"] for b in TensorBatches(model_inputs(te, spec.modalities), 64)])
    auc, per = macro_auc(torch.sigmoid(logits).numpy(), te["y"])
    return model, {"db": "ptbxl", "test_fold": 10, "n_test": len(te["y"]), "macro_auc": auc,
                   "per_class_auc": dict(zip(SUPERCLASSES, per)), "modalities": list(spec.modalities)}
