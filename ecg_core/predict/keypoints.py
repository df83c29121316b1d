"""Image keypoints at inference: the shipped ViT-DETR loaded through the weights resolver, its packed
outputs decoded into beat objects (lead, box, P/Q/R/S/T points), the same objects read the other way
(digitise, then delineate), and the hybrid that places the detector's points on the delineated trace.

Training (:mod:`ecg_core.train.keypoints`) uses the same decoding to choose its threshold and to score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torchvision.ops import batched_nms, box_convert

from ..checkpoints import half_state, load_checkpoint, save_checkpoint
from ..data.keypoints import KEYPOINTS, beat_times
from ..data.render import shrink_page
from ..digitize import digitize, unrotate_points
from ..errors import ECGError
from ..metrics import greedy_pairs
from ..models import create_model
from ..record import STANDARD_12_LEADS
from ..signal.delineation import check_delineable
from .delineation import delineate_learned

__all__ = ["N_KP", "BeatObjects", "KeypointModelSpec", "xyxy", "model_config", "pack_predictions", "decode",
           "keypoint_pairs", "save_keypoint_detector", "load_keypoint_model", "predict_pages", "detect_keypoints",
           "detect_page", "digitised_objects", "SNAP_MS", "AGREE", "fuse_keypoints", "hybrid_page"]

N_KP = len(KEYPOINTS)


@dataclass(frozen=True)
class KeypointModelSpec:
    """What a saved keypoint model needs at inference: architecture, input size, leads and its decoding
    (score threshold and NMS overlap, chosen on inner-validation renders). The training spec
    (:class:`ecg_core.train.keypoints.KeypointSpec`) adds rendering, matching costs and the schedule."""

    model: str
    model_kwargs: dict
    img_size: tuple[int, int]
    n_leads: int = 12
    score_threshold: float = 0.5
    nms_iou: float = 0.5

    @classmethod
    def from_dict(cls, d: dict) -> KeypointModelSpec:
        return cls(model=d["model"], model_kwargs=dict(d.get("model_kwargs", {})), img_size=tuple(d["img_size"]),
                   n_leads=d.get("n_leads", 12), score_threshold=d.get("score_threshold", 0.5),
                   nms_iou=d.get("nms_iou", 0.5))


@dataclass(frozen=True, eq=False)
class BeatObjects:
    """Beats found on one page image, one object per beat and printed lead: ``scores`` ``(n,)``, ``leads``
    ``(n,)`` (indices into :data:`~ecg_core.record.STANDARD_12_LEADS`), ``boxes`` ``(n, 4)`` x0, y0, x1, y1,
    ``kps`` ``(n, K, 2)`` x, y of the :data:`~ecg_core.data.keypoints.KEYPOINTS` and ``vis`` ``(n, K)`` bool
    (which of them the beat shows). Coordinates are the image's pixels for a page result (:func:`detect_page`,
    :func:`digitised_objects`, :func:`hybrid_page`), fractions of the model's input for :func:`decode`.
    ``mm``: one millimetre of paper along x and y in those units (NaN where unknown); ``agreement``
    (:func:`fuse_keypoints` only): the share of the detector's R peaks the digitised reading confirmed."""

    scores: np.ndarray
    leads: np.ndarray
    boxes: np.ndarray
    kps: np.ndarray
    vis: np.ndarray
    mm: tuple[float, float] = (float("nan"), float("nan"))
    agreement: float = float("nan")

    def __len__(self) -> int:
        return len(self.leads)

    @classmethod
    def empty(cls, mm: tuple[float, float] = (float("nan"), float("nan"))) -> BeatObjects:
        return cls(np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros((0, N_KP, 2)),
                   np.zeros((0, N_KP), bool), mm)


def xyxy(b: torch.Tensor) -> torch.Tensor:
    """Boxes (cx, cy, w, h) as (x0, y0, x1, y1)."""
    return box_convert(b, "cxcywh", "xyxy")


def model_config(spec) -> dict:
    """The network's constructor arguments for a spec (inference or training)."""
    return {"n_leads": spec.n_leads, "n_kp": N_KP, "img_size": tuple(spec.img_size), **spec.model_kwargs}


def pack_predictions(out: dict) -> torch.Tensor:
    """``(B, Q, n_leads + 4 + 2 K + K)`` of the last layer, the task's "logits" for the shared loop."""
    b, q = out["logits"].shape[:2]
    return torch.cat([out["logits"], out["boxes"], out["kps"].reshape(b, q, -1), out["vis"]], dim=-1)


def decode(pred: torch.Tensor, n_leads: int = 12, threshold: float = 0.5, nms_iou: float = 0.5) -> list[BeatObjects]:
    """Objects of packed predictions, one :class:`BeatObjects` per image in fractions of the model's input;
    score threshold, then non-maximum suppression per lead."""
    out = []
    for p in pred.float():
        prob = p[:, :n_leads].sigmoid()
        score, lead = prob.max(dim=1)
        keep = score >= threshold
        boxes = p[:, n_leads:n_leads + 4]
        if keep.any():
            idx = torch.nonzero(keep).flatten()
            idx = idx[batched_nms(xyxy(boxes[idx]), score[idx], lead[idx], nms_iou)]
        else:
            idx = torch.zeros(0, dtype=torch.long)
        kps = p[idx, n_leads + 4:n_leads + 4 + 2 * N_KP].reshape(-1, N_KP, 2)
        vis = p[idx, n_leads + 4 + 2 * N_KP:].sigmoid() >= 0.5
        out.append(BeatObjects(score[idx].numpy(), lead[idx].numpy(), xyxy(boxes[idx]).numpy(), kps.numpy(),
                               vis.numpy()))
    return out


def keypoint_pairs(a: BeatObjects, b: BeatObjects, j: int, tol_px: float, tol_y_px: float) -> list[tuple[int, int]]:
    """One-to-one pairs (object of ``a``, object of ``b``) of visible type-``j`` keypoints of the same lead
    within ``tol_px`` along x and ``tol_y_px`` along y, closest in x first (scoring and fusion alike)."""
    out = []
    for lead in np.intersect1d(a.leads, b.leads):
        ia = np.flatnonzero((a.leads == lead) & a.vis[:, j])
        ib = np.flatnonzero((b.leads == lead) & b.vis[:, j])
        if len(ia) and len(ib):
            dx = np.abs(a.kps[ia, j, 0][:, None] - b.kps[ib, j, 0][None])
            dy = np.abs(a.kps[ia, j, 1][:, None] - b.kps[ib, j, 1][None])
            out += [(ia[p], ib[q]) for p, q in greedy_pairs((dx <= tol_px) & (dy <= tol_y_px), dx)]
    return out


def save_keypoint_detector(model: nn.Module, spec: dict, path: str | Path, provenance: dict) -> dict:
    """Write ``path`` (fp16 state dict + ``spec``, the saved training spec as a dict: what
    :func:`load_keypoint_model` reads) and its model card: architecture, data, ``provenance`` (held-out
    fold, report, command, the model it started from), spec, keypoint names, sha256."""
    payload = {"spec": spec, "state_dict": half_state(model.state_dict())}
    card = {"architecture": "vit_detr", "data": "LUDB renders (clean and photographed)", **provenance,
            "spec": spec, "keypoints": list(KEYPOINTS)}
    return save_checkpoint(payload, path, card)


def load_keypoint_model(path: str | Path, verify: bool = True) -> tuple[nn.Module, KeypointModelSpec, dict]:
    """A keypoint model saved by :func:`save_keypoint_detector` (sha256 checked
    against its card): ``(model, inference spec, card)``."""
    payload, card = load_checkpoint(path, verify)
    spec = KeypointModelSpec.from_dict(payload["spec"])
    model = create_model(spec.model, **model_config(spec))
    model.load_state_dict({k: v.float() for k, v in payload["state_dict"].items()})
    return model.eval(), spec, card


def predict_pages(model: nn.Module, images: np.ndarray, batch_size: int = 8) -> torch.Tensor:
    """Packed predictions (:func:`pack_predictions`) for ``images`` ``(B, H, W, 3)`` uint8 at the model's
    input size, before decoding."""
    out = []
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = torch.from_numpy(np.array(images[i:i + batch_size])).permute(0, 3, 1, 2).float() / 255
            out.append(pack_predictions(model(x)))
    return torch.cat(out)


def detect_keypoints(model: nn.Module, images: np.ndarray, spec, threshold: float | None = None,
                     batch_size: int = 8) -> list[BeatObjects]:
    """Objects found in ``images`` ``(B, H, W, 3)`` uint8 at the model's input size (see :func:`decode`);
    ``threshold`` defaults to the model's own (``spec.score_threshold``)."""
    threshold = spec.score_threshold if threshold is None else threshold
    return decode(predict_pages(model, images, batch_size), spec.n_leads, threshold, spec.nms_iou)


def detect_page(model: nn.Module, spec, image: np.ndarray, threshold: float | None = None) -> BeatObjects:
    """The detector's objects on one page image of any size (shrunk to the model's input: :func:`shrink_page`),
    in the image's own pixels (the paper's scale unknown)."""
    h, w = image.shape[:2]
    obj = detect_keypoints(model, shrink_page(image, spec.img_size)[None], spec, threshold)[0]
    scale = np.array([w, h], dtype=np.float32)
    return replace(obj, boxes=obj.boxes * np.tile(scale, 2), kps=obj.kps * scale)


def digitised_objects(image: np.ndarray, delineator: nn.Module | None = None, read=None) -> BeatObjects:
    """The beat objects of a page found the other way: read by the digitiser (:func:`ecg_core.digitize.digitize`),
    delineated by the learned delineator (``delineator``: one of its fold models, or the shipped one), each
    lead's beats grouped as the training objects are (P peak before the QRS, T peak after it) and drawn back
    onto the panels where that lead is printed: pixels of ``image`` (the page's tilt undone), ``scores`` all 1,
    ``mm`` the reading's scale; no objects when the digitiser cannot read the page. ``read``: the page's
    :class:`~ecg_core.digitize.Digitized` when already at hand."""
    try:
        read = read if read is not None else digitize(image)
        rec = read.to_record()
        check_delineable(rec)
        d = delineate_learned(rec, model=delineator)
    except ECGError:
        return BeatObjects.empty()
    mm = (read.px_per_mm, read.px_per_mm)
    h, w = image.shape[:2]
    leads, kps, vis = [], [], []
    for p in read.panels:
        if p.lead not in rec.lead_names or p.lead not in STANDARD_12_LEADS:
            continue
        bt = beat_times(d.waves[rec.lead_names.index(p.lead)], rec.fs)
        for row in bt[(bt[:, 2] >= p.t0) & (bt[:, 2] < p.t1)]:
            v = np.isfinite(row[:5]) & (row[:5] >= p.t0) & (row[:5] < p.t1)
            xy = p.to_pixels(np.nan_to_num(row[:5], nan=p.t0))
            leads.append(STANDARD_12_LEADS.index(p.lead))
            kps.append(unrotate_points(xy, read.rotation_deg, w, h) if read.rotation_deg else xy)
            vis.append(v)
    if not leads:
        return BeatObjects.empty(mm)
    kps_a = np.asarray(kps, np.float64)
    vis_a = np.asarray(vis, bool)
    pts = np.where(vis_a[..., None], kps_a, np.nan)
    boxes = np.concatenate([np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)], axis=1)
    return BeatObjects(np.ones(len(leads), np.float32), np.asarray(leads, np.int64), boxes, kps_a, vis_a, mm)


#: hybrid keypoints (chosen on the inner-validation renders of fold 0's model, clean and photographed): a
#: detected keypoint moves to the delineated one of its type and lead within SNAP_MS; where the reading agrees
#: with the detector on at least AGREE of its R peaks (within 40 ms), the reading's other beats are added too
SNAP_MS, AGREE = 120.0, 0.7


def fuse_keypoints(detected: BeatObjects, read: BeatObjects, snap_ms: float = SNAP_MS,
                   agree: float = AGREE) -> BeatObjects:
    """Hybrid objects: the detector's (``detected``, :func:`detect_page`) with each keypoint moved onto the
    digitised-and-delineated keypoint (``read``, :func:`digitised_objects`) of its type and lead within
    ``snap_ms``, plus the reading's unpaired beats when it agrees with the detector on at least ``agree`` of the
    detector's R peaks (``agreement`` in the result; NaN when the reading has no beats to offer). Both in the
    same pixels, at the reading's scale (``read.mm``)."""
    px_per_mm = float(read.mm[0])
    if not len(read) or not np.isfinite(px_per_mm):
        return replace(detected, agreement=float("nan"))
    tol_y = 15 * px_per_mm  # half a panel row
    n_r = int(detected.vis[:, 2].sum())
    agreement = len(keypoint_pairs(detected, read, 2, px_per_mm, tol_y)) / max(n_r, 1)  # R within 40 ms (1 mm)
    kps = detected.kps.copy()
    used = np.zeros(len(read), bool)
    for j in range(N_KP):
        for ia, ib in keypoint_pairs(detected, read, j, snap_ms / 40.0 * px_per_mm, tol_y):
            kps[ia, j] = read.kps[ib, j]
            used[ib] = True
    out = replace(detected, kps=kps, mm=read.mm, agreement=float(agreement))
    if agreement >= agree and (~used).any():
        new = ~used
        out = replace(out, **{k: np.concatenate([getattr(out, k), getattr(read, k)[new]])
                              for k in ("scores", "leads", "boxes", "kps", "vis")})
    return out


def hybrid_page(model: nn.Module, spec, image: np.ndarray, delineator: nn.Module | None = None,
                read=None) -> BeatObjects:
    """Keypoints of one page from both readings (:func:`fuse_keypoints`): the detector's objects placed on the
    delineated trace where the digitiser reads the page; the detector's alone where it cannot. ``read``: the
    page's :class:`~ecg_core.digitize.Digitized` when already at hand."""
    found = digitised_objects(image, delineator, read)
    return fuse_keypoints(detect_page(model, spec, image), found)
