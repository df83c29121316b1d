"""12-lead diagnosis with the multimodal model: data, the task for the shared loop, patient-wise
cross-validation on LUDB with calibration and uncertainty measured on held-out folds.

Protocol: LUDB's fixed patient-wise 5-fold split (the delineation split). The model of fold k trains on
the other folds, early-stops on every 8th of their records (inner validation), and its temperature is
fitted on that inner validation set; fold k is only predicted. Figures pool the five held-out folds.

Targets: :data:`ecg_core.data.ludb.DIAGNOSIS_CLASSES` (multi-label). Severity (ordinal, LUDB has none):
the number of abnormal classes, bucketed 0 / 1-2 / 3+. Confidence: trained to predict whether every
class of the record is called right (0.5 threshold), a learned "can I trust this read" signal.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.augment import AugmentingTask
from ..data.ludb import DIAGNOSIS_CLASSES, ludb_diagnoses, ludb_folds
from ..models import create_model
from ..record import STANDARD_12_LEADS
from .loop import TensorBatches, TrainConfig, fit

__all__ = ["MultimodalSpec", "MultimodalTask", "ludb_multimodal_arrays", "render_image", "model_inputs",
           "save_multimodal", "load_multimodal", "train_multimodal_ptbxl", "record_inputs", "record_features",
           "diagnose",
           "severity_of", "macro_auc", "train_multimodal_cv"]

log = logging.getLogger(__name__)
FS = 100.0
N_SAMPLES = 1000
IMG = 224


@dataclass
class MultimodalSpec:
    modalities: tuple[str, ...] = ("signal", "image", "meta")
    model_kwargs: dict = field(default_factory=lambda: {"dim": 96, "image_kwargs": {"depth": 4}})
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=40, batch_size=16, lr=1e-3,
                                                                    weight_decay=1e-2, patience=10))
    augment_ops: tuple[str, ...] = ()  # on the training signals only (the image stays the printed original)


def severity_of(y: np.ndarray) -> np.ndarray:
    """Ordinal severity 0 / 1 / 2 from the number of abnormal classes (0, 1-2, 3+)."""
    n = np.asarray(y).sum(axis=1)
    return np.where(n == 0, 0, np.where(n <= 2, 1, 2)).astype(np.int64)


def render_image(record, size: int = IMG) -> np.ndarray:
    """The record drawn on ECG paper (10 s, 3x4 + rhythm strip) resized to ``size`` x ``size``: ``(3, size,
    size)`` uint8."""
    from PIL import Image

    from ..data.render import RenderStyle, render_record

    page = render_record(record, duration_s=10.0, style=RenderStyle(dpi=60))
    img = Image.fromarray(page.image).resize((size, size), Image.BILINEAR)
    return np.asarray(img).transpose(2, 0, 1).copy()


def _number(v) -> float:
    """A metadata number, NaN when unknown or not a number."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return v if np.isfinite(v) else float("nan")


def record_features(rec, *, age=None, sex=None, height=None, weight=None, image: bool = True) -> dict:
    """One record's model arrays, no batch axis: ``signal`` (12 x 1000 at 100 Hz, mV, 0.5 Hz high-passed,
    zero-padded), ``image`` (the rendered page, or a 1-pixel placeholder when ``image`` is False),
    ``meta_num`` (age, height, weight; NaN when unknown) and ``meta_cat`` (sex 0 unknown / 1 M / 2 F).
    The one feature path of training (LUDB, PTB-XL) and of reading a record in the app."""
    from ..signal.filters import bandpass, resample

    x = bandpass(resample(rec.signal, rec.fs, FS), FS, 0.5, None)[:, :N_SAMPLES]
    return {"signal": np.pad(x, ((0, 0), (0, N_SAMPLES - x.shape[1]))).astype(np.float32),
            "image": render_image(rec) if image else np.zeros((3, 1, 1), np.uint8),
            "meta_num": np.array([_number(age), _number(height), _number(weight)], np.float32),
            "meta_cat": np.int64({"M": 1, "F": 2}.get(str(sex or "").upper()[:1], 0))}


def _stack(features: list[dict]) -> dict[str, np.ndarray]:
    return {k: np.stack([f[k] for f in features]) for k in ("signal", "image", "meta_num", "meta_cat")}


def ludb_multimodal_arrays(names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Signals (12 x 1000 at 100 Hz, mV, 0.5 Hz high-passed), rendered images, metadata (age, height,
    weight: NaN when unknown; sex 0 unknown / 1 M / 2 F), targets and severity of LUDB records."""
    from ..data.ludb import load_ludb

    all_names, y, meta = ludb_diagnoses()
    names = names or all_names
    rows = {n: i for i, n in enumerate(all_names)}
    feats = [record_features(load_ludb(n)[0], age=meta[n]["age"], sex=meta[n]["sex"]) for n in names]
    yy = y[[rows[n] for n in names]]
    return {**_stack(feats), "y": yy.astype(np.float32), "severity": severity_of(yy), "names": np.asarray(names)}


def model_inputs(arrays: dict[str, np.ndarray], modalities: tuple[str, ...], idx=slice(None)) -> dict:
    """Tensors of the chosen modalities (images scaled to [0, 1]) plus targets, for rows ``idx``."""
    out = {}
    if "signal" in modalities:
        out["signal"] = torch.from_numpy(arrays["signal"][idx])
    if "image" in modalities:
        out["image"] = torch.from_numpy(arrays["image"][idx].astype(np.float32) / 255.0)
    if "meta" in modalities:
        out["meta_num"] = torch.from_numpy(arrays["meta_num"][idx])
        out["meta_cat"] = torch.from_numpy(arrays["meta_cat"][idx])
    if "y" in arrays:
        out["y"] = torch.from_numpy(arrays["y"][idx])
        out["severity"] = torch.from_numpy(arrays["severity"][idx])
    return out


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
    from pathlib import Path

    from ..uncertainty import TemperatureScaler, ece, mc_predict, selective_accuracy

    arrays = arrays or ludb_multimodal_arrays()
    names = list(arrays["names"])
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
    report = {"n_records": int(done.sum()), "modalities": list(spec.modalities), "macro_auc": auc,
              "per_class": {c: {"auc": a, "f1": f} for c, a, f in zip(DIAGNOSIS_CLASSES, per_auc, f1)},
              "ece_before": ece(probs, y), "ece_after": ece(held_cal[done], y),
              "accuracy_all": float(correct.mean()),
              "accuracy_80pct_most_certain": selective_accuracy(correct, held_std[done], 0.8),
              "folds": fold_reports}
    return members, report


def _build(spec: MultimodalSpec, num_classes: int) -> nn.Module:
    return create_model("multimodal_ecg", num_classes=num_classes,
                        image_model="vit_tiny_patch16_224" if "image" in spec.modalities else None,
                        **spec.model_kwargs)


def save_multimodal(members: list[nn.Module], spec: MultimodalSpec, classes: list[str], path, card: dict) -> dict:
    """The fold models (int8-stored weights) and their spec, with the model card beside them."""
    from ..checkpoints import int8_state, save_checkpoint

    spec_d = asdict(spec)
    payload = {"spec": spec_d, "classes": list(classes), "n_members": len(members),
               "state_dict": int8_state(nn.ModuleList(members).state_dict())}
    return save_checkpoint(payload, path, {**card, "spec": spec_d, "classes": list(classes)})


def load_multimodal(path) -> tuple[list[nn.Module], MultimodalSpec, dict]:
    from ..checkpoints import load_checkpoint

    payload, card = load_checkpoint(path)
    sd = payload["spec"]
    spec = MultimodalSpec(modalities=tuple(sd["modalities"]), model_kwargs=sd["model_kwargs"],
                          train=TrainConfig(**sd["train"]))
    members = nn.ModuleList([_build(spec, len(payload["classes"])) for _ in range(payload["n_members"])])
    members.load_state_dict(payload["state_dict"])
    return [m.eval() for m in members], spec, card


def train_multimodal_ptbxl(spec: MultimodalSpec, root=None, limit: int | None = None,
                           progress=None) -> tuple[nn.Module, dict]:
    """PTB-XL superdiagnostic task: train on strat_folds 1-8, early-stop on fold 9, report fold 10 once
    (macro-AUC, per-class AUC)."""
    from ..data.ptbxl import SUPERCLASSES, load_ptbxl_record, ptbxl_index

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
        return {**_stack(feats), "y": y, "severity": severity_of(y)}

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


def record_inputs(record, modalities: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """One record as model inputs: its first 10 s of the 12 standard leads at 100 Hz (0.5 Hz high-pass),
    the paper image rendered from it, age and sex from its metadata (unknown stays unknown).

    Raises ECGError when a standard lead is missing or the record is shorter than 10 s."""
    from ..errors import ECGError

    missing = [n for n in STANDARD_12_LEADS if n not in record.lead_names]
    if missing:
        raise ECGError(f"{record.name}: the 12-lead model needs the 12 standard leads; missing "
                       f"{', '.join(missing)}")
    if record.duration_s < 10.0 - 1e-6:
        raise ECGError(f"{record.name}: the 12-lead model reads 10 s; the record has {record.duration_s:.1f} s")
    first = record.crop(0, 10.0)
    rec = first.replace(signal=first.signal[[record.lead_index(n) for n in STANDARD_12_LEADS]],
                        lead_names=STANDARD_12_LEADS)
    f = record_features(rec, age=record.metadata.get("age"), sex=record.metadata.get("sex"))
    return model_inputs(_stack([f]), modalities)


def diagnose(record, members: list[nn.Module], spec: MultimodalSpec, card: dict, mc_samples: int = 10,
             explain: tuple[str, ...] = ("grad_cam", "rollout")) -> dict:
    """Per-class probability (mean over the fold models, each temperature-scaled, each sampled with MC
    dropout), its spread (SD over all samples), the modality gates, an "uncertain" flag per class
    (spread above 0.15, or a probability between 0.35 and 0.65), and explanations of the most probable
    class (``cam_class``), each the mean over the fold models: ``cam`` (Grad-CAM over the first 10 s at
    ``cam_fs`` Hz), ``ig`` (integrated gradients, ``(12, 1000)`` per lead and sample, when ``explain``
    holds ``"integrated_gradients"``), ``rollout`` (attention rollout over ``image``, the 224 x 224 page
    the model saw, ``(14, 14)`` patches). An explanation the model cannot give is None."""
    from ..explain import attention_rollout, grad_cam_1d, integrated_gradients
    from ..uncertainty import mc_predict

    inputs = record_inputs(record, spec.modalities)
    temps = [f.get("temperature", 1.0) for f in card.get("report", {}).get("folds", [])] or [1.0] * len(members)
    samples, gates = [], []
    for m, t in zip(members, temps):
        scaled = _Scaled(m, t)
        samples.append(mc_predict(scaled, inputs, n_samples=mc_samples, key="diagnosis").samples[:, 0])
        with torch.inference_mode():
            gates.append(m.eval()(inputs)["gates"][0].numpy())
    s = np.concatenate(samples)  # (members * mc, classes)
    mean, sd = s.mean(axis=0), s.std(axis=0)
    uncertain = (sd > 0.15) | ((mean > 0.35) & (mean < 0.65))
    top = int(np.argmax(mean))
    has_signal = "signal" in spec.modalities
    vit = "image" in spec.modalities and all(m.image_enc is not None and m.image_enc.is_vit for m in members)
    cam = ig = rollout = None
    if has_signal and "grad_cam" in explain:  # where in time the signal encoder found the top class
        cam = np.mean([grad_cam_1d(m, inputs, m.signal_enc, top, tokens=True)[0] for m in members], axis=0)
    if has_signal and "integrated_gradients" in explain:
        ig = np.mean([integrated_gradients(m, inputs, top, key="signal", steps=16)[0] for m in members], axis=0)
    if vit and "rollout" in explain:  # which patches of the page the image encoder attended to
        rollout = np.mean([attention_rollout(m.image_enc.backbone, inputs["image"])[0] for m in members], axis=0)
    image = (inputs["image"][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) if "image" in inputs else None
    return {"classes": list(card.get("classes", [])), "probability": mean, "spread": sd, "uncertain": uncertain,
            "gates": dict(zip(("signal", "image", "meta"), np.nanmean(np.stack(gates), axis=0).tolist())),
            "cam_class": top, "cam": cam, "cam_fs": FS, "ig": ig, "rollout": rollout, "image": image,
            "mc_samples": mc_samples, "n_members": len(members)}


class _Scaled(nn.Module):
    """A member whose diagnosis logits are divided by its fitted temperature."""

    def __init__(self, model: nn.Module, temperature: float):
        super().__init__()
        self.model, self.t = model, float(temperature)

    def forward(self, batch):
        out = self.model(batch)
        return {**out, "diagnosis": out["diagnosis"] / self.t}
