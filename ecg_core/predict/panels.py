"""Lead panels at inference: the shipped Mask R-CNN loaded through the weights resolver, the panels and
trace masks it finds on a page, and their leads read from where they sit on a standard 3 x 4 + rhythm
page. Training lives in :mod:`ecg_core.train.panels`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torchvision.ops import nms

from ..checkpoints import int8_state, load_checkpoint, save_checkpoint
from ..data.render import STANDARD_3X4, shrink_page
from ..models import create_model
from ..record import STANDARD_12_LEADS

__all__ = ["PanelModelSpec", "model_config", "save_panel_detector", "load_panel_model", "detect_panels", "by_layout",
           "PagePanels", "detect_page_panels", "layout_leads"]


@dataclass(frozen=True)
class PanelModelSpec:
    """What a saved panel model needs at inference (the training spec,
    :class:`ecg_core.train.panels.PanelSpec`, adds rendering and the schedule)."""

    model: str
    model_kwargs: dict
    img_size: tuple[int, int]
    n_leads: int = 12
    score_threshold: float = 0.5

    @classmethod
    def from_dict(cls, d: dict) -> PanelModelSpec:
        return cls(model=d["model"], model_kwargs=dict(d.get("model_kwargs", {})), img_size=tuple(d["img_size"]),
                   n_leads=d.get("n_leads", 12), score_threshold=d.get("score_threshold", 0.5))


def model_config(spec) -> dict:
    """The network's constructor arguments for a spec (inference or training)."""
    return {"n_leads": spec.n_leads, "min_size": min(spec.img_size), "max_size": max(spec.img_size),
            **spec.model_kwargs}


def save_panel_detector(model: nn.Module, spec: dict, path: str | Path, provenance: dict) -> dict:
    """Write ``path`` (weights as int8 with per-channel scales, the rest fp16: 8 MB instead of 15; and
    ``spec``, the saved training spec as a dict: what :func:`load_panel_model` reads) and its model card:
    architecture, data, ``provenance`` (held-out fold, report, command), spec, storage, sha256."""
    payload = {"spec": spec, "state_dict": int8_state(model.state_dict()), "storage": "int8 weights"}
    card = {"architecture": "panel_maskrcnn (torchvision Mask R-CNN, MobileNetV3-Large FPN, from scratch)",
            "data": "LUDB renders, 3 x 4 + rhythm strip (clean and photographed)", **provenance, "spec": spec,
            "storage": "int8 weights"}
    return save_checkpoint(payload, path, card)


def load_panel_model(path: str | Path, verify: bool = True) -> tuple[nn.Module, PanelModelSpec, dict]:
    """A panel model saved by :func:`save_panel_detector` (sha256 checked against its
    card): ``(model, inference spec, card)``."""
    payload, card = load_checkpoint(path, verify)
    spec = PanelModelSpec.from_dict(payload["spec"])
    model = create_model(spec.model, **model_config(spec))
    model.load_state_dict(payload["state_dict"])  # load_checkpoint gave fp32 back (int8 weights dequantised)
    return model.eval(), spec, card


def detect_panels(model: nn.Module, spec, image: np.ndarray, leads: str = "model",
                  lead_names: tuple[str, ...] | None = None) -> dict:
    """Panels on one page image at the model's input size: ``boxes`` (n, 4) x0, y0, x1, y1, ``labels``
    (1 + lead index), ``scores``, ``masks`` (n, H, W) bool. ``leads="layout"``: the model's boxes, one per
    place, labelled by their place on a 3 x 4 + rhythm page (:func:`layout_leads`, needs ``lead_names``),
    the model's own classes where the page is not laid out so."""
    model.eval()
    with torch.inference_mode():
        x = torch.from_numpy(np.array(image[..., :3])).permute(2, 0, 1).float() / 255.0
        d = model([x])[0]
    keep = d["scores"] >= spec.score_threshold
    out = {"boxes": d["boxes"][keep].numpy(), "labels": d["labels"][keep].numpy(),
           "scores": d["scores"][keep].numpy(), "masks": (d["masks"][keep, 0] >= 0.5).numpy()}
    return by_layout(out, lead_names) if leads == "layout" else out


def by_layout(found: dict, lead_names: tuple[str, ...]) -> dict:
    """Panels found (:func:`detect_panels`) relabelled by :func:`layout_leads`, or as they were."""
    got = layout_leads(found["boxes"], found["scores"], lead_names)
    if got is None:
        return found
    idx, labels = got
    return {**{k: v[idx] for k, v in found.items()}, "labels": labels}


@dataclass(frozen=True, eq=False)
class PagePanels:
    """Lead panels found on one page image: ``boxes`` ``(n, 4)`` x0, y0, x1, y1 in the image's own pixels,
    ``leads`` (names), ``scores`` ``(n,)``, ``masks`` ``(n, h, w)`` bool, the trace of each panel at the
    model's input size (they cover the whole image: a huge photo does not get huge masks)."""

    boxes: np.ndarray
    leads: tuple[str, ...]
    scores: np.ndarray
    masks: np.ndarray

    def __len__(self) -> int:
        return len(self.leads)


def detect_page_panels(model: nn.Module, spec, image: np.ndarray) -> PagePanels:
    """Panels on one page image of any size (shrunk to the model's input, :func:`shrink_page`), leads from
    the layout where it is the standard one, else the model's own lead classes."""
    h, w = image.shape[:2]
    d = detect_panels(model, spec, shrink_page(image, spec.img_size), "layout", STANDARD_12_LEADS)
    sy, sx = h / spec.img_size[0], w / spec.img_size[1]
    leads = tuple(STANDARD_12_LEADS[int(c) - 1] for c in d["labels"])
    return PagePanels(d["boxes"] * np.array([sx, sy, sx, sy]), leads, d["scores"], d["masks"])


def layout_leads(boxes: np.ndarray, scores: np.ndarray, lead_names: tuple[str, ...]):
    """Lead classes from where panels sit on a standard page: of boxes overlapping by IoU >= 0.5 the
    best-scoring stays; rows by box centre (a new row where centres are more than half a box height
    apart); rows of 4, 4, 4 and 1 panels are the 3 x 4 leads by row and column
    (:data:`~ecg_core.data.render.STANDARD_3X4`) and the lead II rhythm strip. Returns ``(kept indices,
    labels)``, or None for any other arrangement."""
    keep = nms(torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
               torch.as_tensor(scores, dtype=torch.float32), 0.5).tolist()  # class-agnostic: one box per place
    if len(keep) != 13 or any(n not in lead_names for row in STANDARD_3X4 for n in row):
        return None
    b = boxes[keep]
    cy, h = (b[:, 1] + b[:, 3]) / 2, b[:, 3] - b[:, 1]
    order = np.argsort(cy)
    rows, cur = [], [order[0]]
    for i in order[1:]:
        if cy[i] - cy[cur[-1]] > 0.5 * np.median(h):
            rows.append(cur)
            cur = []
        cur.append(i)
    rows.append(cur)
    if [len(r) for r in rows] != [4, 4, 4, 1]:
        return None
    labels = np.zeros(13, np.int64)
    for r, row in enumerate(rows[:3]):
        for c, i in enumerate(sorted(row, key=lambda i: b[i, 0])):
            labels[i] = lead_names.index(STANDARD_3X4[r][c]) + 1
    labels[rows[3][0]] = lead_names.index("II") + 1
    return np.asarray(keep), labels
