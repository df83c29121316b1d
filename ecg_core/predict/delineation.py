"""The learned delineator at inference: its input (12 standard lead slots at 500 Hz), its class
probabilities over long records, the shipped fold ensemble loaded once, and a record's waves from it.

Training (:mod:`ecg_core.train.delineation`) builds on this module: the same input and the same
probabilities are what its validation scores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from scipy.interpolate import interp1d

from ..checkpoints import int8_state, load_checkpoint, save_checkpoint
from ..data.ludb import ludb_folds
from ..errors import ECGError
from ..models import create_model
from ..models.ensemble import MeanEnsemble
from ..record import STANDARD_12_LEADS, Record
from ..signal.delineation import Delineation, display_signal, flat_leads, flat_warnings
from ..signal.filters import bandpass, resample
from ..waves import WAVES, LeadWaves, lead_slots, waves_from_labels
from .weights import weights_path

__all__ = ["FS", "N_CLASSES", "CARD_PROTOCOL", "model_input", "predict_probs", "build_delineation_model",
           "save_delineation_ensemble", "load_delineation_ensemble", "default_weights", "load_delineation",
           "held_out_delineators", "delineate_learned"]

FS = 500.0  # the model's rate (LUDB's)
N_CLASSES = 4  # background, P, QRS, T


def model_input(record: Record) -> tuple[np.ndarray, float]:
    """The model's input for ``record``: 12 standard lead slots at 500 Hz (leads the record lacks are
    zeros), high-passed at 0.5 Hz and low-passed at 150 Hz (zero-phase), in mV. Returns ``(x, 500.0)``."""
    sig = record.signal.astype(np.float64)
    if record.fs != FS:
        sig = resample(sig, record.fs, FS)
    sig = bandpass(sig, FS, 0.5, 150.0)
    x = np.zeros((len(STANDARD_12_LEADS), sig.shape[-1]), dtype=np.float32)
    filled = set()
    for i, slot in enumerate(lead_slots(record.lead_names)):
        if slot not in filled:  # two leads mapped to one slot: the first wins
            x[slot] = sig[i]
            filled.add(slot)
    return x, FS


def predict_probs(model: nn.Module, x: np.ndarray, chunk: int = 20_000, overlap: int = 1_000) -> np.ndarray:
    """Class probabilities ``(4, 12, n)`` for one model input ``(12, n)``. Long inputs go through in
    ``chunk``-sample pieces that overlap by ``overlap`` (averaged there), so memory stays bounded."""
    model.eval()
    n = x.shape[-1]

    def run(seg: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = model({"x": torch.from_numpy(np.ascontiguousarray(seg))[None]})
            return (out.exp() if isinstance(model, MeanEnsemble) else out.softmax(dim=1))[0].numpy()

    if n <= chunk:
        return run(x)
    probs = np.zeros((N_CLASSES, x.shape[0], n), dtype=np.float32)
    weight = np.zeros(n, dtype=np.float32)
    step = chunk - overlap
    for a in range(0, n, step):
        b = min(a + chunk, n)
        a = max(0, b - chunk)
        probs[..., a:b] += run(x[:, a:b])
        weight[a:b] += 1
        if b == n:
            break
    return probs / weight


def build_delineation_model(spec: dict) -> nn.Module:
    """An untrained network of a saved delineation spec (``model``, ``model_kwargs``)."""
    return create_model(spec["model"], **{"in_leads": len(STANDARD_12_LEADS), "num_classes": N_CLASSES,
                                          **spec.get("model_kwargs", {})})


#: what every delineator's card says of its task, data and selection
CARD_PROTOCOL = {"task": "P/QRS/T/background per sample and lead, 12 leads at 500 Hz",
                 "data": "LUDB (200 records), fixed patient-wise 5-fold split (ecg_core/data/ludb_folds.json)",
                 "selection": "fold k's model: trained on the other folds, early-stopped on every 8th of their records"}


def save_delineation_ensemble(members: list[nn.Module], spec: dict, path: str | Path, provenance: dict) -> dict:
    """Write the fold models (``members[k]`` never saw LUDB fold k) and ``spec`` (the saved training spec
    as a dict) to ``path``, what :func:`load_delineation_ensemble` reads, and the model card beside it:
    architecture, the task, data and selection protocol (unless ``provenance`` says otherwise), then
    ``provenance`` (fold reports, command), spec, classes, sha256. Weights are stored as int8 with
    per-channel scales (:func:`~ecg_core.checkpoints.int8_state`): five fp16 U-Nets would pass 10 MB."""
    payload = {"spec": spec, "n_members": len(members), "folds": [list(f) for f in ludb_folds()],
               "state_dict": int8_state(MeanEnsemble(members).state_dict()), "storage": "int8 weights"}
    card = {"architecture": spec["model"], **CARD_PROTOCOL, **provenance, "spec": spec,
            "classes": ["background", *WAVES]}
    return save_checkpoint(payload, path, card)


def load_delineation_ensemble(path: str | Path, verify: bool = True) -> tuple[MeanEnsemble, dict, dict]:
    """The fold models of a saved delineator as a :class:`MeanEnsemble` (``members[k]`` never saw LUDB fold
    k), its saved spec (a dict) and its card; ``weights_only=True`` and the sha256 checked against the card."""
    payload, card = load_checkpoint(path, verify)
    spec = payload["spec"]
    model = MeanEnsemble([build_delineation_model(spec) for _ in range(payload["n_members"])])
    model.load_state_dict(payload["state_dict"])
    return model.eval(), spec, card


def default_weights() -> Path:
    """The shipped learned delineator."""
    return weights_path("delineation_unet.pt")


def load_delineation(weights: str | Path | None = None) -> tuple[MeanEnsemble, dict, dict]:
    """The learned delineator (default: the shipped one): ``(ensemble, spec, card)``; loaded on each call
    (the app caches it, a loop loads it once and passes ``model=``). Raises ECGError naming the file when
    it is missing."""
    path = Path(weights or default_weights())
    if not path.exists():
        raise ECGError(f"the learned delineator's weights are missing ({path.name}); "
                       "train them with `python -m ecg_core train delineation` or use method='neurokit_dwt'")
    return load_delineation_ensemble(path)


def held_out_delineators(records, weights: str | Path | None = None) -> dict:
    """Each LUDB record of ``records`` -> the learned delineator's fold model that never saw it (the
    ensemble's member trained without that record's fold): for scoring anything built on delineation."""
    members = load_delineation(weights)[0].members
    fold_of = {r: k for k, f in enumerate(ludb_folds()) for r in f}
    return {r: members[fold_of[r]] for r in records}


def delineate_learned(record: Record, weights: str | Path | None = None, model=None) -> Delineation:
    """Every lead of ``record`` delineated by the learned model (``model``, else the ensemble at
    ``weights``, else the shipped one). Checks of the record are the caller's
    (:func:`ecg_core.pipeline.delineate`)."""
    if model is None:
        model = load_delineation(weights)[0]
    slots = lead_slots(record.lead_names)
    # leads that would share a slot (two unnamed leads, say) go through in separate passes
    passes: list[list[int]] = []
    for i, slot in enumerate(slots):
        for group in passes:
            if slot not in {slots[j] for j in group}:
                group.append(i)
                break
        else:
            passes.append([i])
    probs = np.zeros((4, record.n_leads, record.n_samples), dtype=np.float32)
    for group in passes:
        sub = record if len(group) == record.n_leads else record.replace(
            signal=record.signal[group], lead_names=tuple(record.lead_names[j] for j in group), units=())
        x, fs_in = model_input(sub)
        p = predict_probs(model, x)[:, [slots[j] for j in group]]  # (4, leads, n) at 500 Hz
        if fs_in != record.fs:
            t_model = np.arange(p.shape[-1]) / fs_in
            t_rec = np.arange(record.n_samples) / record.fs
            p = interp1d(t_model, p, axis=-1, bounds_error=False, fill_value=(p[..., 0], p[..., -1]),
                         assume_sorted=True)(t_rec)
        probs[:, group] = p
    sig = display_signal(record)
    labels = probs.argmax(axis=0)
    flat = flat_leads(record)
    empty = np.zeros((0, 3), dtype=np.int64)
    waves = tuple(LeadWaves(empty, empty, empty) if i in flat else waves_from_labels(labels[i], sig[i], record.fs)
                  for i in range(record.n_leads))
    return Delineation(record.fs, record.lead_names, waves, "unet", sig, probs, flat_warnings(record, flat))
