"""Lead panels on ECG images: Mask R-CNN trained in the shared loop on rendered LUDB pages, and compared
with the digitiser's classical panel finding on the same renders.

Targets come from the renderer's geometry: each printed panel (3 x 4 leads and the lead II rhythm strip)
is an instance whose class is its lead, whose box is the panel and whose mask is the panel's own trace
(its samples' pixels drawn as a line), moved with the page when it is photographed
(:func:`ecg_core.data.render.photo_augment`). Split: the delineation split (``ludb_folds``): four folds
train (every 8th record of them, rendered clean, chooses the epoch), fold ``held_fold`` is scored by
``python -m ecg_core evaluate panels``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torchvision.ops import box_iou

from ..data.render import RenderStyle, photo_augment, render_record, shrink_page
from ..digitize import digitize, unrotate_points
from ..errors import ECGError
from ..metrics import detection_prf, greedy_pairs
from ..models import create_model
from ..predict.panels import by_layout, detect_panels, model_config, save_panel_detector
from ..recipes import loop_defaults
from ..record import Record
from ..waves import LeadWaves
from .keypoints import EpochBatches, ludb_page_split, random_style, spec_dict
from .loop import TrainConfig, fit

__all__ = ["PanelSpec", "PanelTask", "panel_sample", "panel_scores", "train_panels", "save_panel_model",
           "classical_panels", "evaluate_panels"]

log = logging.getLogger(__name__)
MAX_PANELS = 16
#: columns of a packed target or prediction row: valid (or score), class (1 + lead), x0, y0, x1, y1 (pixels)
ROW = 6


@dataclass
class PanelSpec:
    model: str = "panel_maskrcnn"
    model_kwargs: dict = field(default_factory=dict)
    img_size: tuple[int, int] = (512, 1024)
    n_leads: int = 12
    photo_p: float = 0.7
    repeats: int = 4  # rendered variants of each record per epoch
    score_threshold: float = 0.5
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("panels"), weight_decay=1e-4,
                                                                  grad_clip=5.0))


def panel_sample(rec: Record, size: tuple[int, int] = (512, 1024), rng: np.random.Generator | None = None,
                 photo: float = 0.0, style: RenderStyle | None = None) -> dict[str, np.ndarray]:
    """The first 10 s of ``rec`` printed (3 x 4 + rhythm strip, or strips), optionally photographed, at
    ``size`` (H, W): ``image`` (H, W, 3) uint8, ``boxes`` (n, 4) x0, y0, x1, y1 pixels, ``labels`` (n,)
    1 + lead index, ``masks`` (n, H/2, W/2) uint8 (each panel's trace, at half resolution)."""
    page = render_record(rec, style=style)
    ph, pw = page.image.shape[:2]
    corners, lines = [], []
    for k, p in enumerate(page.panels):
        x0, y0, x1, y1 = p.box
        corners.append([[x0, y0], [x1, y0], [x0, y1], [x1, y1]])
        idx = np.arange(int(round(p.t0 * rec.fs)), min(int(round(p.t1 * rec.fs)), rec.n_samples))
        pts = next((xy for j, xy in page.sample_xy(p.lead_index, idx, rec.signal[p.lead_index]) if j == k),
                   np.zeros((0, 2)))
        lines.append(pts)
    n = len(page.panels)
    allpts = np.concatenate([np.asarray(corners, np.float64).reshape(-1, 2), *lines])
    img = page.image
    if photo > 0:
        img, allpts = photo_augment(img, allpts, rng, photo)
    h, w = size
    img = shrink_page(img, size)
    allpts = allpts * np.array([w / pw, h / ph])
    c = allpts[:4 * n].reshape(n, 4, 2)
    boxes = np.concatenate([c.min(axis=1), c.max(axis=1)], axis=1).clip(0, [w, h, w, h])
    line_w = max(2, int(round(2 * (style.line_px if style else 1) * w / pw)))
    masks = np.zeros((n, h // 2, w // 2), np.uint8)
    at = 4 * n
    for k, pts in enumerate(lines):
        xy = allpts[at:at + len(pts)] / 2
        at += len(pts)
        if len(xy) > 1:
            m = Image.new("L", (w // 2, h // 2), 0)
            ImageDraw.Draw(m).line([tuple(p) for p in xy.tolist()], fill=1, width=line_w)
            masks[k] = np.asarray(m)
    keep = (boxes[:, 2] - boxes[:, 0] > 4) & (boxes[:, 3] - boxes[:, 1] > 4)
    labels = np.array([p.lead_index + 1 for p in page.panels], np.int64)
    return {"image": img, "boxes": boxes[keep].astype(np.float32), "labels": labels[keep], "masks": masks[keep]}


def pack_panels(samples: list[dict]) -> dict[str, torch.Tensor]:
    """A batch: ``image`` (B, 3, H, W) uint8, ``y`` (B, MAX_PANELS, ROW), ``mask`` (B, MAX_PANELS, H/2, W/2)."""
    imgs = torch.from_numpy(np.stack([s["image"] for s in samples])).permute(0, 3, 1, 2).contiguous()
    h2, w2 = samples[0]["masks"].shape[1:]
    y = torch.zeros(len(samples), MAX_PANELS, ROW)
    masks = torch.zeros(len(samples), MAX_PANELS, h2, w2, dtype=torch.uint8)
    for i, s in enumerate(samples):
        n = min(len(s["labels"]), MAX_PANELS)
        y[i, :n, 0] = 1
        y[i, :n, 1] = torch.from_numpy(s["labels"][:n]).float()
        y[i, :n, 2:6] = torch.from_numpy(s["boxes"][:n])
        masks[i, :n] = torch.from_numpy(s["masks"][:n])
    return {"image": imgs, "y": y, "mask": masks}


class _PanelPages(torch.utils.data.Dataset):
    def __init__(self, items: list[tuple[Record, list[LeadWaves]]], spec: PanelSpec, augment: bool, seed: int,
                 repeats: int):
        self.items, self.spec, self.augment, self.seed, self.repeats = items, spec, augment, seed, repeats
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items) * self.repeats

    def __getitem__(self, i: int) -> dict:
        rec = self.items[i % len(self.items)][0]
        if not self.augment:
            return panel_sample(rec, self.spec.img_size)
        rng = np.random.default_rng([self.seed, self.epoch, i])
        photo = float(rng.uniform(0.3, 1.0)) if rng.uniform() < self.spec.photo_p else 0.0
        return panel_sample(rec, self.spec.img_size, rng, photo, random_style(rng))


def _panel_batches(items, spec: PanelSpec, batch_size: int, augment: bool, seed: int = 0, repeats: int = 1,
                   workers: int = 0):
    """Batches of rendered pages for the shared loop (pages render in worker processes)."""
    return EpochBatches(_PanelPages(items, spec, augment, seed, repeats), batch_size, augment, pack_panels, seed,
                        workers)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a`` (n, 4) and ``b`` (m, 4), x0, y0, x1, y1 (torchvision's, on numpy arrays)."""
    return box_iou(torch.as_tensor(a, dtype=torch.float64).reshape(-1, 4),
                   torch.as_tensor(b, dtype=torch.float64).reshape(-1, 4)).numpy()


def panel_scores(preds: list[dict], targets: list[dict], iou: float = 0.5) -> dict:
    """Panels found: a prediction matches a true panel of the same lead with box IoU >= ``iou`` (one to one,
    best IoU first). Precision, recall, F1, mean IoU of the matches, and the share of pages with every panel
    found and nothing else."""
    tp = fp = fn = perfect = 0
    ious = []
    for p, t in zip(preds, targets):
        m = _box_iou(p["boxes"], t["boxes"])
        m[p["labels"][:, None] != t["labels"][None, :]] = 0
        pairs = greedy_pairs(m >= iou, -m)
        ious += [m[i, k] for i, k in pairs]
        tp += len(pairs)
        fp += len(p["boxes"]) - len(pairs)
        fn += len(t["boxes"]) - len(pairs)
        perfect += len(pairs) == len(p["boxes"]) == len(t["boxes"])
    return {**detection_prf(tp, fp, fn), "mean_iou": float(np.mean(ious)) if ious else 0.0,
            "pages_all_correct": perfect / max(len(preds), 1), "tp": tp, "fp": fp, "fn": fn, "pages": len(preds)}


def _unpack(y: torch.Tensor) -> list[dict]:
    out = []
    for row in y.cpu().numpy():
        v = row[:, 0] > 0
        out.append({"labels": row[v, 1].astype(np.int64), "boxes": row[v, 2:6], "scores": row[v, 0]})
    return out


class PanelTask:
    """Mask R-CNN's own losses while training; packed detections and panel F1 while evaluating."""

    monitor = "f1"

    def __init__(self, spec: PanelSpec):
        self.spec = spec

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        images = list(batch["image"].float() / 255.0)
        if model.training:
            targets = []
            h, w = batch["image"].shape[2:]
            for y, m in zip(batch["y"], batch["mask"]):
                v = y[:, 0] > 0
                masks = F.interpolate(m[v][None].float(), size=(h, w), mode="nearest")[0].to(torch.uint8)
                targets.append({"boxes": y[v, 2:6], "labels": y[v, 1].long(), "masks": masks})
            losses = model(images, targets)
            loss = sum(losses.values())
            return {"loss": loss, "logits": loss.detach().reshape(1, 1).expand(len(images), 1)}
        dets = model(images)
        out = torch.zeros(len(images), MAX_PANELS, ROW, device=batch["image"].device)
        for i, d in enumerate(dets):
            keep = d["scores"] >= self.spec.score_threshold
            n = min(int(keep.sum()), MAX_PANELS)
            out[i, :n, 0] = d["scores"][keep][:n]
            out[i, :n, 1] = d["labels"][keep][:n].float()
            out[i, :n, 2:6] = d["boxes"][keep][:n]
        return {"loss": torch.zeros((), device=out.device), "logits": out}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        s = panel_scores(_unpack(logits), _unpack(targets))
        return {k: s[k] for k in ("precision", "recall", "f1", "mean_iou", "pages_all_correct")}


def train_panels(spec: PanelSpec, items: dict[str, tuple[Record, list[LeadWaves]]], held_fold: int = 0,
                 run_dir: str | Path | None = None, workers: int = 0, progress=None,
                 resume: bool = False) -> tuple[nn.Module, dict]:
    """Train a panel Mask R-CNN on the LUDB records of ``items`` outside fold ``held_fold`` (every 8th
    of them, rendered clean, chooses the epoch)."""
    if torch.cuda.is_available():
        torch.set_float32_matmul_precision("high")
    fit_names, inner_val = ludb_page_split(items, held_fold)
    torch.manual_seed(spec.train.seed)
    model = create_model(spec.model, **model_config(spec))
    train_b = _panel_batches([items[r] for r in fit_names], spec, spec.train.batch_size, augment=True,
                             seed=spec.train.seed, repeats=spec.repeats, workers=workers)
    val_b = _panel_batches([items[r] for r in inner_val], spec, spec.train.batch_size, augment=False,
                           workers=workers)
    res = fit(model, PanelTask(spec), train_b, val_b, spec.train, run_dir=run_dir, progress=progress, resume=resume)
    report = {"held_fold": held_fold, "fit_records": len(fit_names), "inner_val_records": inner_val,
              "best_epoch": res.best_epoch, "inner_val": dict(res.best_metrics), "seconds": round(res.seconds, 1),
              "history": res.history}
    return model.cpu().eval(), report


def save_panel_model(model: nn.Module, spec: PanelSpec, path: str | Path, provenance: dict) -> dict:
    """:func:`ecg_core.predict.panels.save_panel_detector` of a trained model and its training spec."""
    return save_panel_detector(model, spec_dict(spec), path, provenance)


def classical_panels(image: np.ndarray, lead_names: tuple[str, ...]) -> dict:
    """The digitiser's panels of ``image`` as boxes (its tilt undone) and labels (1 + index in
    ``lead_names``); none when it cannot read the page."""
    try:
        d = digitize(image)
    except ECGError:
        return {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)}
    h, w = image.shape[:2]
    boxes, labels = [], []
    for p in d.panels:
        if p.lead not in lead_names:
            continue
        x0, y0, x1, y1 = p.box
        c = unrotate_points(np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64), d.rotation_deg, w, h)
        boxes.append([*c.min(axis=0), *c.max(axis=0)])
        labels.append(lead_names.index(p.lead) + 1)
    return {"boxes": np.asarray(boxes, np.float64).reshape(-1, 4), "labels": np.asarray(labels, np.int64)}


def evaluate_panels(model: nn.Module | None, spec: PanelSpec, items: dict[str, tuple[Record, list[LeadWaves]]],
                    records: list[str], photo: float = 0.0, seed: int = 0, dpi: float = 100.0) -> dict:
    """Panel precision / recall / F1 (IoU >= 0.5, same lead) of the Mask R-CNN (when given; with its own
    lead classes, and with leads from the page layout) and of the classical digitiser on the same renders
    of ``records`` printed at ``dpi`` and shrunk to the model's size (clean, or photographed at ``photo``),
    plus the Mask R-CNN's trace-mask IoU on the panels it found."""
    preds, laid_out, classic, truth, mask_iou = [], [], [], [], []
    for i, name in enumerate(records):
        rec = items[name][0]
        rng = np.random.default_rng([seed, i]) if photo > 0 else None
        s = panel_sample(rec, spec.img_size, rng, photo, RenderStyle(dpi=dpi))
        truth.append({"boxes": s["boxes"], "labels": s["labels"]})
        classic.append(classical_panels(s["image"], rec.lead_names))
        if model is None:
            continue
        d = detect_panels(model, spec, s["image"])
        preds.append(d)
        laid_out.append(by_layout(d, rec.lead_names))
        m = _box_iou(d["boxes"], s["boxes"])
        m[d["labels"][:, None] != s["labels"][None, :]] = 0
        for k in range(len(s["boxes"])):
            j = int(np.argmax(m[:, k])) if len(m) else -1
            if j < 0 or m[j, k] < 0.5:
                continue
            true = np.kron(s["masks"][k], np.ones((2, 2), np.uint8)).astype(bool)
            pm = d["masks"][j][:true.shape[0], :true.shape[1]]
            mask_iou.append((pm & true).sum() / max((pm | true).sum(), 1))
    out = {"n_records": len(records), "photo": photo, "dpi": dpi, "classical": panel_scores(classic, truth)}
    if model is not None:
        out["maskrcnn"] = panel_scores(preds, truth)
        out["maskrcnn"]["trace_mask_iou"] = float(np.mean(mask_iou)) if mask_iou else 0.0
        out["maskrcnn_layout"] = panel_scores(laid_out, truth)
    return out
