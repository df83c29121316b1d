"""Self-supervised pre-training of the HuBERT-style ECG encoder (:mod:`ecg_core.models.hubert`).

Data: unlabelled single-lead segments (2 s at 360 Hz, band-passed 0.5-50 Hz, z-scored): MIT-BIH lead
MLII of the DS1 records only (DS2 stays unseen, even unlabelled, so DS2 figures of fine-tuned models
stay honest) and LUDB lead II (resampled from 500 Hz). Targets: k-means clusters (``scipy.cluster.vq``)
of each frame's waveform (the 22 samples under the frame, z-scored across the data; HuBERT's first
iteration clusters MFCCs, an ECG has no use for those). Loss: cross-entropy on the masked frames. The
shared loop trains it; every 20th segment is kept aside to choose the epoch (masked-frame accuracy).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from scipy.cluster.vq import kmeans2, vq

from ..atomic import atomic_path
from ..checkpoints import load_checkpoint, save_checkpoint
from ..data.beats import DS1, default_cache_dir
from ..data.ludb import ludb_records
from ..io import load_record
from ..io.records import record_path
from ..models import create_model
from ..models.hubert import span_mask
from ..recipes import loop_defaults
from ..signal.filters import bandpass, resample
from .loop import TensorBatches, TrainConfig, fit

__all__ = ["SSLSpec", "ssl_segments", "frame_targets", "PretrainTask", "pretrain", "save_encoder", "load_encoder"]

FS = 360.0


@dataclass
class SSLSpec:
    model_kwargs: dict = field(default_factory=dict)
    segment_s: float = 2.0
    clusters: int = 64
    mask_p: float = 0.08
    mask_span: int = 5
    dbs: tuple[str, ...] = ("mitdb", "ludb")
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("pretrain"), weight_decay=1e-2))


def _segments(sig: np.ndarray, fs: float, seg: int) -> np.ndarray:
    x = np.asarray(sig, dtype=np.float64)
    if fs != FS:
        x = resample(x[None], fs, FS)[0]
    x = bandpass(x[None], FS, 0.5, 50.0)[0]
    n = len(x) // seg
    s = x[:n * seg].reshape(n, seg)
    s = (s - s.mean(axis=1, keepdims=True)) / (s.std(axis=1, keepdims=True) + 1e-6)
    return s[np.abs(s).max(axis=1) < 12].astype(np.float32)  # drop segments dominated by one artefact


def ssl_segments(spec: SSLSpec, limit_records: int | None = None, cache_dir: str | Path | None = None) -> np.ndarray:
    """``(N, samples)`` unlabelled segments of the spec's databases (cached on disk)."""
    seg = int(round(spec.segment_s * FS))
    names = [("mitdb", r) for r in DS1 if "mitdb" in spec.dbs]
    names += [("ludb", r) for r in (ludb_records() if "ludb" in spec.dbs else [])]
    if limit_records:
        names = names[:limit_records] if "ludb" not in spec.dbs else names[::max(len(names) // limit_records, 1)]
    key = hashlib.sha1(json.dumps([names, seg, 1]).encode()).hexdigest()[:12]
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache / f"ssl_segments_{key}.npy"
    if path.exists():
        return np.load(path)
    parts = []
    for db, name in names:
        rec = load_record(record_path(db, name))
        lead = rec.lead_names.index("II") if "II" in rec.lead_names else 0  # MLII in MIT-BIH is lead 0
        parts.append(_segments(rec.signal[lead], rec.fs, seg))
    out = np.concatenate(parts)
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, out)
    return out


def _frame_windows(x: np.ndarray, n_frames: int) -> np.ndarray:
    """The 22 samples under each frame (stride 10) of ``x`` ``(N, T)``: ``(N, n_frames, 22)``."""
    pad = np.pad(x, ((0, 0), (3, 22)))
    idx = np.arange(n_frames)[:, None] * 10 + np.arange(22)[None, :]
    return pad[:, idx]


def frame_targets(x: np.ndarray, n_frames: int, clusters: int, seed: int = 0, fit_frames: int = 100_000
                  ) -> tuple[np.ndarray, np.ndarray]:
    """k-means cluster index of every frame of ``x`` (``(N, n_frames)`` int64) and the centroids."""
    w = _frame_windows(x, n_frames).reshape(-1, 22).astype(np.float64)
    rng = np.random.default_rng(seed)
    sample = w[rng.choice(len(w), min(fit_frames, len(w)), replace=False)]
    centroids, _ = kmeans2(sample, clusters, minit="++", seed=seed, iter=20)
    labels, _ = vq(w, centroids)
    return labels.reshape(len(x), n_frames).astype(np.int64), centroids


class PretrainTask:
    """Masked prediction of frame clusters; monitors the accuracy on masked frames."""

    monitor = "masked_acc"

    def __init__(self, spec: SSLSpec, seed: int = 0):
        self.spec = spec
        self.gen = torch.Generator().manual_seed(seed)

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch["x"], batch["y"]
        mask = span_mask_for(batch, self.spec, self.gen if model.training else torch.Generator().manual_seed(0))
        logits = model(x.unsqueeze(1), mask.to(x.device))
        loss = nn.functional.cross_entropy(logits[mask], y[mask])
        # per segment: masked frames' predictions (argmax) and targets, -1 elsewhere
        pred = torch.where(mask, logits.argmax(-1), torch.full_like(y, -1))
        return {"loss": loss, "logits": torch.stack([pred, torch.where(mask, y, torch.full_like(y, -1))], dim=1)}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        pred, true = logits[:, 0], logits[:, 1]
        m = true >= 0
        return {"masked_acc": float((pred[m] == true[m]).float().mean()) if m.any() else 0.0}


def span_mask_for(batch: dict[str, torch.Tensor], spec: SSLSpec, gen: torch.Generator) -> torch.Tensor:
    b, f = batch["y"].shape
    return span_mask(b, f, spec.mask_p, spec.mask_span, generator=gen)


def pretrain(spec: SSLSpec, segments: np.ndarray, run_dir=None, progress=None, resume: bool = False
             ) -> tuple[nn.Module, dict]:
    """Cluster the frames, then train ``hubert_ecg`` on masked prediction; returns it and a report."""
    torch.manual_seed(spec.train.seed)
    model = create_model("hubert_ecg", n_clusters=spec.clusters, **spec.model_kwargs)
    n_frames = model.encoder.n_frames(segments.shape[1])
    y, _ = frame_targets(segments, n_frames, spec.clusters, spec.train.seed)
    val = np.zeros(len(segments), dtype=bool)
    val[::20] = True
    x_t = torch.from_numpy(segments)
    y_t = torch.from_numpy(y)
    train_b = TensorBatches({"x": x_t[~val], "y": y_t[~val]}, spec.train.batch_size, shuffle=True,
                            seed=spec.train.seed)
    val_b = TensorBatches({"x": x_t[val], "y": y_t[val]}, 256)
    res = fit(model, PretrainTask(spec, spec.train.seed), train_b, val_b, spec.train, run_dir=run_dir,
              progress=progress, resume=resume)
    counts = np.bincount(y.ravel(), minlength=spec.clusters)
    report = {"segments": int(len(segments)), "frames_per_segment": int(n_frames), "best_epoch": res.best_epoch,
              "val_masked_acc": res.best_metrics["masked_acc"], "majority_cluster_share": float(counts.max() /
                                                                                              counts.sum()),
              "seconds": round(res.seconds, 1), "history": res.history}
    return model.cpu().eval(), report


def save_encoder(model: nn.Module, spec: SSLSpec, path: str | Path, provenance: dict) -> dict:
    """Write the pre-trained model and its spec to ``path`` (what :func:`load_encoder` reads) and its model
    card: architecture, task, ``provenance`` (data, report, command), spec, sha256."""
    sd = asdict(spec)
    payload = {"spec": sd, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    card = {"architecture": "hubert_ecg", "task": "masked prediction of k-means frame clusters (HuBERT iteration 1)",
            **provenance, "spec": sd}
    return save_checkpoint(payload, path, card)


def load_encoder(path: str | Path, verify: bool = True) -> tuple[nn.Module, dict]:
    """The pre-trained ``hubert_ecg`` (its ``.encoder`` is what fine-tuning starts from) and its card."""
    payload, card = load_checkpoint(path, verify)
    sd = payload["spec"]
    model = create_model("hubert_ecg", n_clusters=sd["clusters"], **sd["model_kwargs"])
    model.load_state_dict(payload["state_dict"])
    return model.eval(), card
