"""The 12-lead diagnosis at inference: one record's inputs (signal at 100 Hz, the paper image rendered
from it, age and sex), the shipped fold models, and their read with calibrated probabilities,
uncertainty and explanations (:func:`diagnose`).

Training (:mod:`ecg_core.train.multimodal`) uses the same features and inputs, so what the model was
fitted on is what it reads here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from ..checkpoints import int8_state, load_checkpoint, save_checkpoint
from ..data.render import RenderStyle, render_record
from ..errors import ECGError
from ..explain import attention_rollout, grad_cam_1d, integrated_gradients
from ..models import create_model
from ..record import STANDARD_12_LEADS
from ..signal.filters import bandpass, resample
from ..uncertainty import mc_predict
from .weights import weights_path

__all__ = ["FS", "N_SAMPLES", "IMG", "Diagnosis", "DiagnosisModelSpec", "render_image", "record_features",
           "stack_features", "model_inputs", "build_multimodal", "save_multimodal_ensemble", "load_multimodal",
           "default_weights", "statement_weights", "held_out_member", "record_inputs", "diagnose"]

FS = 100.0
N_SAMPLES = 1000
IMG = 224


@dataclass(frozen=True)
class Diagnosis:
    """A 12-lead read (:func:`diagnose`): per class its ``probability`` (mean over fold models x MC-dropout
    samples, temperature-scaled), ``spread`` (their SD) and ``uncertain`` flag; the modality ``gates``; for
    the most probable class (``cam_class``) its explanations, each the mean over the fold models (``None``
    when not asked for or not possible): ``cam`` (Grad-CAM over the first 10 s at ``cam_fs`` Hz), ``ig``
    (integrated gradients ``(12, 1000)``), ``rollout`` (attention rollout ``(14, 14)`` over ``image``, the
    224 x 224 page the model saw)."""

    classes: tuple[str, ...]
    probability: np.ndarray
    spread: np.ndarray
    uncertain: np.ndarray
    gates: dict[str, float]
    cam_class: int
    cam_fs: float
    n_members: int
    mc_samples: int
    cam: np.ndarray | None = None
    ig: np.ndarray | None = None
    rollout: np.ndarray | None = None
    image: np.ndarray | None = None


@dataclass(frozen=True)
class DiagnosisModelSpec:
    """What a saved 12-lead model needs at inference: its modalities and network settings (the training
    spec, :class:`ecg_core.train.multimodal.MultimodalSpec`, adds the schedule and augmentation)."""

    modalities: tuple[str, ...]
    model_kwargs: dict


def default_weights() -> Path:
    """The shipped 12-lead model."""
    return weights_path("multimodal_ludb.pt")


def statement_weights() -> Path:
    """The shipped learned-statement model (:data:`ecg_core.data.ludb.LEARNED_STATEMENTS`)."""
    return weights_path("statements_ludb.pt")


def held_out_member(members: list[nn.Module], card: dict, fold: int) -> tuple[list[nn.Module], dict]:
    """The one fold model of a saved LUDB ensemble that never saw LUDB fold ``fold``, and a card whose
    report lists only its fold (so :func:`diagnose` applies that member's temperature): the way a LUDB record
    is read honestly by the shipped model."""
    folds = card.get("report", {}).get("folds", [])
    i = next((j for j, f in enumerate(folds) if f.get("fold") == fold), None)
    if i is None or len(folds) != len(members):
        raise ValueError(f"the model card lists no fold model that held out LUDB fold {fold}")
    return [members[i]], {**card, "report": {**card["report"], "folds": [folds[i]]}}


def render_image(record, size: int = IMG) -> np.ndarray:
    """The record drawn on ECG paper (10 s, 3x4 + rhythm strip) resized to ``size`` x ``size``: ``(3, size,
    size)`` uint8."""
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
    x = bandpass(resample(rec.signal, rec.fs, FS), FS, 0.5, None)[:, :N_SAMPLES]
    return {"signal": np.pad(x, ((0, 0), (0, N_SAMPLES - x.shape[1]))).astype(np.float32),
            "image": render_image(rec) if image else np.zeros((3, 1, 1), np.uint8),
            "meta_num": np.array([_number(age), _number(height), _number(weight)], np.float32),
            "meta_cat": np.int64({"M": 1, "F": 2}.get(str(sex or "").upper()[:1], 0))}


def stack_features(features: list[dict]) -> dict[str, np.ndarray]:
    """Records' feature dicts (:func:`record_features`) stacked into batch arrays."""
    return {k: np.stack([f[k] for f in features]) for k in ("signal", "image", "meta_num", "meta_cat")}


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


def build_multimodal(modalities: tuple[str, ...], model_kwargs: dict, num_classes: int) -> nn.Module:
    """An untrained 12-lead network for these modalities and settings."""
    return create_model("multimodal_ecg", num_classes=num_classes,
                        image_model="vit_tiny_patch16_224" if "image" in modalities else None, **model_kwargs)


def save_multimodal_ensemble(members: list[nn.Module], spec: dict, classes: list[str], path: str | Path,
                             provenance: dict) -> dict:
    """Write the fold models (int8-stored weights), ``spec`` (the saved training spec as a dict) and the
    classes to ``path``, what :func:`load_multimodal` reads, and the model card beside it: architecture,
    ``provenance`` (database, report, command), spec, classes, sha256."""
    payload = {"spec": spec, "classes": list(classes), "n_members": len(members),
               "state_dict": int8_state(nn.ModuleList(members).state_dict())}
    card = {"architecture": "multimodal_ecg", **provenance, "spec": spec, "classes": list(classes)}
    return save_checkpoint(payload, path, card)


def load_multimodal(path: str | Path | None = None) -> tuple[list[nn.Module], DiagnosisModelSpec, dict]:
    """The fold models of a saved 12-lead model (default: the shipped one), its inference spec and card
    (``weights_only=True``, sha256 checked against the card)."""
    payload, card = load_checkpoint(path or default_weights())
    sd = payload["spec"]
    spec = DiagnosisModelSpec(modalities=tuple(sd["modalities"]), model_kwargs=dict(sd["model_kwargs"]))
    members = nn.ModuleList([build_multimodal(spec.modalities, spec.model_kwargs, len(payload["classes"]))
                             for _ in range(payload["n_members"])])
    members.load_state_dict(payload["state_dict"])
    return [m.eval() for m in members], spec, card


def record_inputs(record, modalities: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """One record as model inputs: its first 10 s of the 12 standard leads at 100 Hz (0.5 Hz high-pass),
    the paper image rendered from it, age and sex from its metadata (unknown stays unknown).

    Raises ECGError when a standard lead is missing or the record is shorter than 10 s."""
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
    return model_inputs(stack_features([f]), modalities)


def diagnose(record, members: list[nn.Module], spec, card: dict, mc_samples: int = 10,
             explain: tuple[str, ...] = ("grad_cam", "rollout")) -> Diagnosis:
    """Per-class probability (mean over the fold models, each temperature-scaled, each sampled with MC
    dropout), its spread (SD over all samples), the modality gates, an "uncertain" flag per class
    (spread above 0.15, or a probability between 0.35 and 0.65), and explanations of the most probable
    class (``cam_class``), each the mean over the fold models: ``cam`` (Grad-CAM over the first 10 s at
    ``cam_fs`` Hz), ``ig`` (integrated gradients, ``(12, 1000)`` per lead and sample, when ``explain``
    holds ``"integrated_gradients"``), ``rollout`` (attention rollout over ``image``, the 224 x 224 page
    the model saw, ``(14, 14)`` patches). An explanation the model cannot give is None."""
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
    return Diagnosis(classes=tuple(card.get("classes", [])), probability=mean, spread=sd, uncertain=uncertain,
                     gates=dict(zip(("signal", "image", "meta"), np.mean(np.stack(gates), axis=0).tolist())),
                     cam_class=top, cam_fs=FS, n_members=len(members), mc_samples=mc_samples, cam=cam, ig=ig,
                     rollout=rollout, image=image)


class _Scaled(nn.Module):
    """A member whose diagnosis logits are divided by its fitted temperature."""

    def __init__(self, model: nn.Module, temperature: float):
        super().__init__()
        self.model, self.t = model, float(temperature)

    def forward(self, batch):
        out = self.model(batch)
        return {**out, "diagnosis": out["diagnosis"] / self.t}
