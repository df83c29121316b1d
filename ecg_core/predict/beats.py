"""Beat classes at inference: the shipped beat models (loaded once through the weights resolver), their
inputs, their probabilities, the premature-beat rule applied after them, and one record's beats
classified (:func:`classify_beats`, what the Diagnosis page shows).

The rule is a clinical reading of an atrial premature beat, applied after the network: it belongs with
inference, not training (:mod:`ecg_core.train.beats` trains the networks and chose the thresholds on DS1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ..checkpoints import half_state, load_checkpoint, save_checkpoint
from ..data.beats import (
    AAMI_CLASSES,
    BEAT_FS,
    DEFAULT_RR,
    WINDOW,
    BeatFeatures,
    BeatSet,
    beat_features,
    rr_feature_names,
)
from ..errors import RecordValueError
from ..models import create_model
from ..models.ensemble import MeanEnsemble
from ..record import Record, rhythm_lead
from .weights import weights_path

__all__ = ["BeatModelSpec", "BeatClasses", "BEAT_WEIGHTS", "MIN_BEATS_FOR_CLASSES", "S_RULE", "S_RULE_REALTIME",
           "CARD_PROTOCOL", "build_beat_model", "save_beat_ensemble", "load_beat_ensemble", "load_beat_model",
           "beat_tensors", "predict_beats", "qrs_template_corr", "rr_irregularity", "premature_s_rule", "apply_s_rule",
           "classify_beats"]

#: the shipped beat models, by mode
BEAT_WEIGHTS = {"diagnostic": "beat_diagnostic.pt", "realtime": "beat_realtime.pt"}
MIN_BEATS_FOR_CLASSES = 3


@dataclass(frozen=True)
class BeatModelSpec:
    """What a saved beat model needs at inference: its architecture and the data contract of its inputs
    (feature mode, leads, RR columns). The training spec (:class:`ecg_core.train.beats.BeatSpec`) adds
    loss, folds and schedule."""

    model: str
    model_kwargs: dict
    mode: str
    leads: tuple[int, ...]
    rr_features: tuple[str, ...] | None = None

    def rr_names(self) -> tuple[str, ...]:
        return tuple(self.rr_features) if self.rr_features else DEFAULT_RR[self.mode]

    @classmethod
    def from_dict(cls, sd: dict) -> BeatModelSpec:
        rr = sd.get("rr_features")
        return cls(model=sd["model"], model_kwargs=dict(sd.get("model_kwargs", {})), mode=sd["mode"],
                   leads=tuple(sd["leads"]), rr_features=tuple(rr) if rr else None)


def build_beat_model(spec) -> nn.Module:
    """An untrained network for ``spec`` (a :class:`BeatModelSpec` or a training spec)."""
    kw = {"num_classes": len(AAMI_CLASSES), "in_leads": len(spec.leads), "n_rr": len(spec.rr_names()),
          **spec.model_kwargs}
    return create_model(spec.model, **kw)


#: what every beat model's card says of its data and selection (the training run adds its report and command)
CARD_PROTOCOL = {"data": "MIT-BIH DS1 (de Chazal 2004), detected beats",
                 "selection": "early stopping per patient-wise DS1 fold; members averaged"}


def save_beat_ensemble(model: MeanEnsemble, spec: dict, path: str | Path, provenance: dict) -> dict:
    """Write ``path`` (fp16 state dict + ``spec``, the saved training spec as a dict: what
    :func:`load_beat_ensemble` reads) and its model card beside it: architecture, mode, the data and
    selection protocol, then ``provenance`` (the run's report and command), the spec, the classes and the
    file's sha256. Returns the card."""
    payload = {"spec": spec, "n_members": len(model.members), "state_dict": half_state(model.state_dict())}
    card = {"architecture": spec["model"], "mode": spec["mode"], **CARD_PROTOCOL, **provenance, "spec": spec,
            "classes": list(AAMI_CLASSES)}
    return save_checkpoint(payload, path, card)


def load_beat_ensemble(path: str | Path, verify: bool = True) -> tuple[MeanEnsemble, BeatModelSpec, dict]:
    """A beat model saved by :func:`save_beat_ensemble` (``weights_only=True``, sha256
    checked against the card: WeightsIntegrityError when the file is not the one its card measured):
    ``(ensemble, inference spec, card)``."""
    payload, card = load_checkpoint(path, verify)
    spec = BeatModelSpec.from_dict(payload["spec"])
    model = MeanEnsemble([build_beat_model(spec) for _ in range(payload["n_members"])])
    model.load_state_dict(payload["state_dict"])
    return model.eval(), spec, card


def load_beat_model(mode: str = "diagnostic", weights: str | Path | None = None) -> tuple[MeanEnsemble,
                                                                                        BeatModelSpec, dict]:
    """The shipped beat model of ``mode`` (or the one at ``weights``): ``(ensemble, spec, card)``; loaded
    on each call (the app caches it, a loop loads it once). FileNotFoundError when the file is absent."""
    path = Path(weights) if weights else weights_path(BEAT_WEIGHTS[mode])
    if not path.exists():
        raise FileNotFoundError(f"no beat model at {path.name}")
    return load_beat_ensemble(path)


def beat_tensors(beats: BeatSet | object, spec, with_labels: bool = True) -> dict[str, torch.Tensor]:
    """Model inputs from beat features, with the spec's RR columns."""
    names = rr_feature_names(spec.mode)
    cols = [names.index(n) for n in spec.rr_names()]
    out = {"x": torch.from_numpy(np.ascontiguousarray(beats.x, dtype=np.float32)),
           "template": torch.from_numpy(np.ascontiguousarray(beats.template, dtype=np.float32)),
           "rr": torch.from_numpy(np.ascontiguousarray(beats.rr[:, cols], dtype=np.float32))}
    if with_labels:
        out["y"] = torch.from_numpy(np.asarray(beats.y, dtype=np.int64))
    return out


def predict_beats(model: nn.Module, tensors: dict[str, torch.Tensor], batch_size: int = 2048) -> np.ndarray:
    """Class probabilities ``(n, 5)``."""
    model.eval()
    n = len(next(iter(tensors.values()))) if tensors else 0
    with torch.inference_mode():
        out = [model({k: v[a:a + batch_size] for k, v in tensors.items()}).softmax(dim=1)
               for a in range(0, n, batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, len(AAMI_CLASSES)), np.float32)


#: the premature supraventricular beat rule (:func:`premature_s_rule`): a beat at least 15 % early against
#: the beats around it (or 25 % against the 5-minute average, which a run of them cannot drag down), with the QRS
#: of the record's usual beat, in a regular rhythm (atrial fibrillation is irregular and its beats are N).
#: The four thresholds were chosen on DS1 alone (all its records; 20 of 22 leave-one-record-out choices
#: agree), before DS2 was read with it.
S_RULE = {"pre_local": 0.85, "pre_avg": 0.75, "qrs_corr": 0.9, "irregularity": 0.15}
#: the same rule on causal features (past beats only: local and 5-minute means, running template, RR
#: irregularity over the last 2k + 1 beats); thresholds chosen on DS1 the same way
S_RULE_REALTIME = {"pre_local": 0.85, "pre_avg": 0.75, "qrs_corr": 0.8, "irregularity": 0.1}


def qrs_template_corr(beats: BeatSet | BeatFeatures, half_ms: float = 100.0) -> np.ndarray:
    """Pearson correlation of each beat's QRS (R +- ``half_ms``, first lead) with its record's usual beat."""
    h = int(round(half_ms / 1000 * BEAT_FS))
    x = beats.x[:, 0, WINDOW[0] - h:WINDOW[0] + h].astype(np.float64)
    t = beats.template[:, 0, WINDOW[0] - h:WINDOW[0] + h].astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    t = t - t.mean(axis=1, keepdims=True)
    return (x * t).sum(axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(t, axis=1) + 1e-9)


def rr_irregularity(beats: BeatSet | BeatFeatures, k: int = 8) -> np.ndarray:
    """Per beat, the median absolute change of successive RR intervals over the ``k`` beats either side
    (real-time features: the ``2 k`` beats before and the beat itself), over their mean RR (within each
    record): near 0 in a regular rhythm, large in atrial fibrillation."""
    causal = beats.mode == "realtime"
    pre = beats.rr[:, rr_feature_names(beats.mode).index("pre_rr_s")]
    record = getattr(beats, "record", None)  # BeatFeatures: one record
    record = np.zeros(len(pre), np.int64) if record is None else record
    out = np.zeros(len(pre))
    for name in np.unique(record):
        idx = np.flatnonzero(record == name)
        idx = idx[np.argsort(beats.r_idx[idx], kind="stable")]
        r = pre[idx]
        d = np.abs(np.diff(r, prepend=r[0]))
        before, after = (np.full(2 * k, np.nan), np.zeros(0)) if causal else (np.full(k, np.nan), np.full(k, np.nan))
        # windows shrink at the record's ends
        win_d = np.lib.stride_tricks.sliding_window_view(np.concatenate([before, d, after]), 2 * k + 1)
        win_r = np.lib.stride_tricks.sliding_window_view(np.concatenate([before, r, after]), 2 * k + 1)
        out[idx] = np.nanmedian(win_d, axis=1) / np.maximum(np.nanmean(win_r, axis=1), 1e-6)
    return out


def premature_s_rule(beats: BeatSet | BeatFeatures, params: dict[str, float] | None = None) -> np.ndarray:
    """Beats the rule calls premature supraventricular: :data:`S_RULE` on diagnostic features (it looks at
    later beats too), :data:`S_RULE_REALTIME` on real-time ones (past beats only)."""
    p = {**(S_RULE if beats.mode == "diagnostic" else S_RULE_REALTIME), **(params or {})}
    names = rr_feature_names(beats.mode)
    rr = beats.rr
    early = (rr[:, names.index("pre_local")] < p["pre_local"]) | (rr[:, names.index("pre_avg")] < p["pre_avg"])
    return early & (qrs_template_corr(beats) > p["qrs_corr"]) & (rr_irregularity(beats) < p["irregularity"])


def apply_s_rule(beats: BeatSet | BeatFeatures, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` (indices into ``AAMI_CLASSES``) with the beats called N on which :func:`premature_s_rule`
    fires made S, and those beats (bool)."""
    by_rule = premature_s_rule(beats) & (pred == AAMI_CLASSES.index("N"))
    return np.where(by_rule, AAMI_CLASSES.index("S"), pred), by_rule


@dataclass(frozen=True)
class BeatClasses:
    """Beat classes of one record: ``labels`` (class letter per beat), ``probs`` ``(n, n_classes)``,
    ``confidence`` (the winning probability), the model's ``mode`` and ``classes``."""

    labels: list[str]
    probs: np.ndarray
    confidence: np.ndarray
    mode: str
    classes: tuple[str, ...]
    by_rule: np.ndarray | None = None  # beats the model called N that the premature-beat rule made S


def classify_beats(record: Record, r_idx: np.ndarray, model, spec, s_rule: bool = True) -> BeatClasses:
    """Classify the beats at ``r_idx`` with a beat model (:func:`load_beat_model`).

    The rhythm lead goes first (MLII/II); a model trained on two leads takes the next usable lead as
    its second. ``s_rule`` (default on, as the shipped models' DS2 figures with it were measured): beats the
    model calls N become S where :func:`premature_s_rule` fires (in the model's mode); their confidence is
    NaN (a rule, not a probability). Raises RecordValueError when there are too few beats for RR context.
    """
    if len(r_idx) < MIN_BEATS_FOR_CLASSES:
        raise RecordValueError(
            f"{record.name}: only {len(r_idx)} beat(s) were detected; beat classes need at least "
            f"{MIN_BEATS_FOR_CLASSES} beats for their RR context."
        )
    lead0 = rhythm_lead(record)
    order = [lead0] + [i for i in range(record.n_leads) if i != lead0]
    if len(spec.leads) > len(order):
        raise RecordValueError(f"{record.name}: the beat model needs {len(spec.leads)} leads; the record has "
                               f"{record.n_leads}.")
    feats = beat_features(record, r_idx, spec.mode, tuple(order[: len(spec.leads)]))
    probs = predict_beats(model, beat_tensors(feats, spec, with_labels=False))
    top = probs.argmax(1)
    conf = probs.max(1)
    by_rule = None
    if s_rule:
        top, by_rule = apply_s_rule(feats, top)
        conf = np.where(by_rule, np.nan, conf)
    return BeatClasses([AAMI_CLASSES[k] for k in top], probs, conf, spec.mode, AAMI_CLASSES, by_rule)
