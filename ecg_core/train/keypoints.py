"""Image keypoints: ViT-DETR trained on rendered LUDB pages with Hungarian matching, in the shared loop.

Data: LUDB records rendered over their marked window (:mod:`ecg_core.data.keypoints`) with random paper
styles and, for most samples, a simulated photo (:func:`ecg_core.data.render.photo_augment`). A page
cache (signals and marks of the chosen records in one ``.npz``) lets a machine without the LUDB files
(a GPU box) render the same pages. Split: the delineation split (``ludb_folds``); a model trains on four
folds (an inner-validation set, every 8th record, chooses the epoch) and fold 0 is held out for
``python -m ecg_core evaluate keypoints``.

Matching (Carion et al. 2020): per image, queries and true objects are paired by
``scipy.optimize.linear_sum_assignment`` on a cost of class (focal form), box L1, box GIoU and keypoint
L1; losses on the pairs: sigmoid focal loss on the lead classes (unpaired queries: no class), L1 + GIoU
on boxes, L1 on visible keypoints, BCE on visibility, the same at every decoder layer. Optionally
(``dn``) denoising queries (Li et al. 2022): noised true objects the decoder must reconstruct, unmatched.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torchvision.ops import generalized_box_iou, generalized_box_iou_loss, sigmoid_focal_loss

from ..checkpoints import half_state
from ..data.keypoints import KEYPOINTS, page_sample, render_beats
from ..data.ludb import load_ludb, ludb_fold_split
from ..data.render import RenderStyle
from ..errors import ECGError
from ..metrics import detection_prf
from ..models import create_model
from ..models.detr import inverse_sigmoid
from ..predict.keypoints import (
    N_KP,
    BeatObjects,
    decode,
    detect_keypoints,
    digitised_objects,
    hybrid_page,
    keypoint_pairs,
    model_config,
    pack_predictions,
    predict_pages,
    save_keypoint_detector,
    xyxy,
)
from ..recipes import loop_defaults
from ..record import Record
from ..waves import WAVES, LeadWaves
from .loop import TrainConfig, fit

__all__ = ["KeypointSpec", "KeypointTask", "EpochBatches", "PageBatches", "page_cache", "load_page_cache",
           "hungarian_match", "set_loss", "keypoint_scores", "choose_decoding", "pack_targets", "Y_COLS",
           "train_keypoints", "save_keypoint_model", "evaluate_keypoints", "sample_truth", "render_sample",
           "random_style", "spec_dict", "spec_from_dict", "ludb_page_split", "THRESHOLDS", "NMS_IOUS"]

log = logging.getLogger(__name__)
#: columns of a packed target row: valid, lead, box (cx, cy, w, h), keypoints (x, y) x 5, visibility x 5,
#: one millimetre of paper in x and in y (image units)
Y_COLS = 1 + 1 + 4 + 2 * N_KP + N_KP + 2
MAX_OBJECTS = 160


@dataclass
class KeypointSpec:
    model: str = "vit_detr"
    model_kwargs: dict = field(default_factory=dict)
    img_size: tuple[int, int] = (512, 1024)
    n_leads: int = 12
    photo_p: float = 0.7  # share of training pages photographed
    repeats: int = 8  # rendered variants of each record per epoch
    pool: int = 0  # >0: render this many variants of each record once and train on that pool (GPU-bound)
    score_threshold: float = 0.5  # decoding: lowest score kept (chosen on inner-validation records after training)
    nms_iou: float = 0.5  # decoding: boxes of one lead overlapping more than this are suppressed
    dn: bool = False  # denoising queries while training (DN-DETR): noised true objects to reconstruct
    train_only: str = ""  # e.g. "refine": train that submodule alone, the rest frozen (normalisation statistics too)
    dn_box_noise: float = 0.4  # centre moved by up to this share of the half box size
    dn_label_flip: float = 0.2  # share of denoising queries given a wrong lead
    cost: dict = field(default_factory=lambda: {"cls": 2.0, "l1": 5.0, "giou": 2.0, "kp": 5.0})
    weight: dict = field(default_factory=lambda: {"cls": 2.0, "l1": 5.0, "giou": 2.0, "kp": 10.0, "vis": 1.0})
    train: TrainConfig = field(default_factory=lambda: TrainConfig(**loop_defaults("keypoints"), weight_decay=1e-4,
                                                                  grad_clip=0.1))


# --- page cache: what rendering needs, without the LUDB files ---------------------------------------------

def page_cache(records: list[str], path: str | Path) -> Path:
    """Write signals (float16, mV) and per-lead marks of LUDB ``records`` to one ``.npz``."""
    arrays: dict[str, np.ndarray] = {}
    for name in records:
        rec, waves = load_ludb(name)
        arrays[f"{name}/signal"] = rec.signal.astype(np.float16)
        arrays[f"{name}/meta"] = np.array([rec.fs], dtype=np.float64)
        for i, w in enumerate(waves):
            for kind in WAVES:
                arrays[f"{name}/{i}/{kind}"] = w[kind].astype(np.int32)
    arrays["_records"] = np.array(records)
    arrays["_leads"] = np.array(rec.lead_names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_page_cache(path: str | Path) -> dict[str, tuple[Record, list[LeadWaves]]]:
    z = np.load(path)
    leads = tuple(str(x) for x in z["_leads"])
    out = {}
    for name in (str(x) for x in z["_records"]):
        sig = z[f"{name}/signal"].astype(np.float32)
        rec = Record(signal=sig, fs=float(z[f"{name}/meta"][0]), lead_names=leads, name=name)
        waves = [LeadWaves(*(z[f"{name}/{i}/{k}"].astype(np.int64) for k in WAVES)) for i in range(len(leads))]
        out[name] = (rec, waves)
    return out


# --- samples and batches ---------------------------------------------------------------------------------

_PAPERS = ((255, 246, 246), (255, 255, 255), (252, 250, 240), (250, 244, 228))
_GRIDS = (((246, 200, 200), (229, 138, 138)), ((250, 215, 205), (235, 150, 120)), ((225, 225, 225), (180, 180, 180)),
          ((248, 210, 190), (232, 160, 120)))


def random_style(rng: np.random.Generator) -> RenderStyle:
    """A printed page as hospitals print them: resolution, paper and grid colours, line width."""
    minor, major = _GRIDS[rng.integers(len(_GRIDS))]
    return RenderStyle(dpi=float(rng.uniform(80, 160)), paper=_PAPERS[rng.integers(len(_PAPERS))], minor=minor,
                       major=major, trace=tuple(int(v) for v in rng.integers(0, 60, size=3)),
                       line_px=int(rng.integers(1, 3)), grid=bool(rng.uniform() > 0.05))


def render_sample(rec: Record, waves: list[LeadWaves], size: tuple[int, int], rng: np.random.Generator | None,
                  photo: float = 0.0, style: RenderStyle | None = None,
                  keep_page: bool = False) -> dict[str, np.ndarray]:
    """The marked window of a record rendered, photographed with strength ``photo``, at the model's size
    (``keep_page``: the photographed page at print resolution too, as ``page``)."""
    return page_sample(*render_beats(rec, waves, style), size, rng, photo, keep_page)


def pack_targets(samples: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(B, 3, H, W)`` in [0, 1] and targets ``(B, MAX_OBJECTS, Y_COLS)`` (rows past an image's
    objects have valid = 0)."""
    imgs = torch.from_numpy(np.stack([s["image"] for s in samples])).permute(0, 3, 1, 2).float() / 255.0
    y = torch.zeros(len(samples), MAX_OBJECTS, Y_COLS)
    for i, s in enumerate(samples):
        n = min(len(s["leads"]), MAX_OBJECTS)
        y[i, :n, 0] = 1
        y[i, :n, 1] = torch.from_numpy(s["leads"][:n]).float()
        y[i, :n, 2:6] = torch.from_numpy(s["boxes"][:n])
        y[i, :n, 6:6 + 2 * N_KP] = torch.from_numpy(s["kps"][:n].reshape(n, -1))
        y[i, :n, 6 + 2 * N_KP:6 + 3 * N_KP] = torch.from_numpy(s["vis"][:n].astype(np.float32))
        y[i, :, -2] = float(s["mm_x"])
        y[i, :, -1] = float(s["mm_y"])
    return imgs, y


class _PageDataset(torch.utils.data.Dataset):
    def __init__(self, items: list[tuple[Record, list[LeadWaves]]], spec: KeypointSpec, augment: bool, seed: int,
                 repeats: int):
        self.items, self.spec, self.augment, self.seed, self.repeats = items, spec, augment, seed, repeats
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.items) * self.repeats

    def __getitem__(self, i: int) -> dict:
        rec, waves = self.items[i % len(self.items)]
        if not self.augment:
            return render_sample(rec, waves, self.spec.img_size, None)
        rng = np.random.default_rng([self.seed, self.epoch, i])
        photo = float(rng.uniform(0.3, 1.0)) if rng.uniform() < self.spec.photo_p else 0.0
        return render_sample(rec, waves, self.spec.img_size, rng, photo, random_style(rng))


class PoolBatches:
    """Batches drawn from pages rendered once (``render_pool``): uint8 images, converted on the device."""

    def __init__(self, images: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int = 0):
        self.images, self.y, self.batch_size = images, y, batch_size
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.y) / self.batch_size)

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["gen"])

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.gen)
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            yield {"image": self.images[idx], "y": self.y[idx]}


def render_pool(items, spec: KeypointSpec, variants: int, seed: int = 0, workers: int = 0) -> PoolBatches:
    """Render ``variants`` augmented pages of every record once (in ``workers`` processes)."""
    ds = _PageDataset(items, spec, augment=True, seed=seed, repeats=variants)

    def collate(samples):
        imgs = torch.from_numpy(np.stack([s["image"] for s in samples])).permute(0, 3, 1, 2).contiguous()
        return imgs, pack_targets(samples)[1]

    loader = torch.utils.data.DataLoader(ds, batch_size=32, num_workers=workers, collate_fn=collate)
    parts = list(loader)
    return PoolBatches(torch.cat([a for a, _ in parts]), torch.cat([b for _, b in parts]), spec.train.batch_size,
                       seed)


class EpochBatches:
    """Batches of a dataset that renders its samples afresh each epoch (its ``epoch`` attribute seeds
    them), for the shared loop: a DataLoader underneath, so pages render in worker processes while the
    model trains; the epoch and the shuffling state are saved with a run, so a resumed run goes on alike."""

    def __init__(self, ds, batch_size: int, shuffle: bool, collate, seed: int = 0, workers: int = 0):
        self.ds = ds
        self.loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                                                  collate_fn=collate, generator=torch.Generator().manual_seed(seed),
                                                  persistent_workers=False)

    def __len__(self) -> int:
        return len(self.loader)

    def state_dict(self) -> dict:
        return {"epoch": self.ds.epoch, "gen": self.loader.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.ds.epoch = state["epoch"]
        self.loader.generator.set_state(state["gen"])

    def __iter__(self):
        yield from self.loader
        self.ds.epoch += 1


def _collate_pages(samples: list[dict]) -> dict[str, torch.Tensor]:
    return dict(zip(("image", "y"), pack_targets(samples)))


class PageBatches(EpochBatches):
    """Batches ``{"image", "y"}`` of rendered pages with their beat objects."""

    def __init__(self, items, spec: KeypointSpec, batch_size: int, augment: bool, seed: int = 0,
                 repeats: int = 1, workers: int = 0):
        super().__init__(_PageDataset(items, spec, augment, seed, repeats), batch_size, augment, _collate_pages,
                         seed, workers)


# --- matching and losses -------------------------------------------------------------------------------

def _unpack(y: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Per image, its true objects (the valid rows of :func:`_padded`) and one mm of paper in x and y."""
    t = _padded(y)
    return [{k: t[k][i][t["valid"][i]] for k in ("leads", "boxes", "kps", "vis")} | {"mm": y[i, 0, -2:]}
            for i in range(len(y))]


def _padded(y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Targets of a packed batch as padded tensors: ``valid`` (B, M) and the fields (B, M, ...)."""
    return {"valid": y[..., 0] > 0, "leads": y[..., 1].long(), "boxes": y[..., 2:6],
            "kps": y[..., 6:6 + 2 * N_KP].unflatten(-1, (N_KP, 2)), "vis": y[..., 6 + 2 * N_KP:6 + 3 * N_KP]}


def giou_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 - generalised IoU of paired boxes (cx, cy, w, h), summed (torchvision's loss)."""
    return generalized_box_iou_loss(xyxy(a), xyxy(b), reduction="sum")


@torch.no_grad()
def hungarian_match(out: dict, y: torch.Tensor, cost: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per image, (query indices, target indices) minimising class + box L1 + GIoU + keypoint L1 cost.
    The costs of the whole batch are computed at once on the model's device (padded to the largest
    number of objects), then each image is assigned by ``scipy.optimize.linear_sum_assignment``."""
    t = _padded(y)
    b, q = out["logits"].shape[:2]
    m = t["leads"].shape[1]
    p = out["logits"].float().sigmoid().gather(2, t["leads"].unsqueeze(1).expand(b, q, m))  # (B, Q, M)
    alpha, gamma = 0.25, 2.0
    c_cls = alpha * (1 - p) ** gamma * -(p + 1e-8).log() - (1 - alpha) * p ** gamma * -(1 - p + 1e-8).log()
    boxes = out["boxes"].float()
    c_l1 = torch.cdist(boxes, t["boxes"], p=1)
    c_giou = -torch.stack([generalized_box_iou(xyxy(boxes[i]), xyxy(t["boxes"][i])) for i in range(b)])
    vis = t["vis"].unsqueeze(1).unsqueeze(-1)  # (B, 1, M, K, 1)
    d = (out["kps"].float().unsqueeze(2) - t["kps"].unsqueeze(1)).abs() * vis  # (B, Q, M, K, 2)
    c_kp = d.sum(dim=(3, 4)) / vis.sum(dim=(3, 4)).clamp_min(1)
    c = (cost["cls"] * c_cls + cost["l1"] * c_l1 + cost["giou"] * c_giou + cost["kp"] * c_kp).cpu().numpy()
    n_obj = t["valid"].sum(dim=1).cpu().numpy()
    res = []
    for i in range(b):
        if n_obj[i] == 0:
            res.append((np.zeros(0, np.int64), np.zeros(0, np.int64)))
            continue
        qi, ti = linear_sum_assignment(c[i, :, :n_obj[i]])  # valid rows come first in a packed target
        res.append((qi.astype(np.int64), ti.astype(np.int64)))
    return res


def _focal(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Sigmoid focal loss (alpha 0.25, gamma 2; torchvision's), summed, optionally weighted per element."""
    loss = sigmoid_focal_loss(logits, target, alpha=0.25, gamma=2.0, reduction="none")
    return (loss * weight).sum() if weight is not None else loss.sum()


def _layer_loss(out: dict, y: torch.Tensor, spec: KeypointSpec) -> dict[str, torch.Tensor]:
    match = hungarian_match(out, y, spec.cost)
    t = _padded(y)
    dev = out["logits"].device
    bi = torch.as_tensor(np.concatenate([np.full(len(q), i) for i, (q, _) in enumerate(match)]), dtype=torch.long,
                         device=dev)
    qi = torch.as_tensor(np.concatenate([q for q, _ in match]), dtype=torch.long, device=dev)
    ti = torch.as_tensor(np.concatenate([k for _, k in match]), dtype=torch.long, device=dev)
    n_obj = max(len(bi), 1)
    cls_t = torch.zeros_like(out["logits"], dtype=torch.float32)
    cls_t[bi, qi, t["leads"][bi, ti]] = 1.0
    losses = {"cls": _focal(out["logits"].float(), cls_t) / n_obj}
    if len(bi):
        pb, tb = out["boxes"][bi, qi].float(), t["boxes"][bi, ti]
        pk, tk, tv = out["kps"][bi, qi].float(), t["kps"][bi, ti], t["vis"][bi, ti]
        losses["l1"] = (pb - tb).abs().sum() / n_obj
        losses["giou"] = giou_loss(pb, tb) / n_obj
        losses["kp"] = ((pk - tk).abs().sum(-1) * tv).sum() / tv.sum().clamp_min(1)
        losses["vis"] = F.binary_cross_entropy_with_logits(out["vis"][bi, qi].float(), tv)
    else:
        zero = out["logits"].sum() * 0
        losses.update(l1=zero, giou=zero, kp=zero, vis=zero)
    return losses


def make_dn(y: torch.Tensor, spec: KeypointSpec) -> dict[str, torch.Tensor]:
    """Denoising queries of a packed batch: each true object's centre moved at random by up to
    ``dn_box_noise`` of its half size, its lead changed with probability ``dn_label_flip``."""
    d = max(int((y[..., 0] > 0).sum(dim=1).max()), 1)  # as many queries as the fullest page has objects
    t = _padded(y[:, :d])
    boxes = t["boxes"]
    jitter = (torch.rand_like(boxes[..., :2]) * 2 - 1) * spec.dn_box_noise * boxes[..., 2:] / 2
    centre = (boxes[..., :2] + jitter).clamp(1e-3, 1 - 1e-3)
    flip = torch.rand(t["leads"].shape, device=y.device) < spec.dn_label_flip
    labels = torch.where(flip, torch.randint_like(t["leads"], spec.n_leads), t["leads"])
    return {"ref": inverse_sigmoid(centre), "labels": labels, "valid": t["valid"]}


def _dn_loss(out: dict, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Losses of the denoising queries: query j answers for true object j (no matching)."""
    t = _padded(y[:, :out["boxes"].shape[1]])
    v = t["valid"]
    n_obj = max(int(v.sum()), 1)
    cls_t = torch.zeros_like(out["logits"], dtype=torch.float32)
    cls_t.scatter_(2, t["leads"].unsqueeze(-1), v.unsqueeze(-1).float())
    valid_rows = v.unsqueeze(-1).float()
    losses = {"cls": _focal(out["logits"].float(), cls_t, weight=valid_rows) / n_obj}
    pb, tb = out["boxes"][v].float(), t["boxes"][v]
    pk, tk, tv = out["kps"][v].float(), t["kps"][v], t["vis"][v]
    losses["l1"] = (pb - tb).abs().sum() / n_obj
    losses["giou"] = giou_loss(pb, tb) / n_obj
    losses["kp"] = ((pk - tk).abs().sum(-1) * tv).sum() / tv.sum().clamp_min(1)
    losses["vis"] = F.binary_cross_entropy_with_logits(out["vis"][v].float(), tv) if len(tv) else losses["l1"] * 0
    return losses


def dense_loss(enc: dict, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Loss of a two-stage model's dense proposals (no matching): the encoder token whose cell holds a
    true box's centre must name its lead and predict its box; every other token predicts nothing (when
    two centres share a cell, one of them is kept)."""
    t = _padded(y)
    gh, gw = enc["grid"]
    logits = enc["logits"].float()
    b, n, _ = logits.shape
    bi, mi = t["valid"].nonzero(as_tuple=True)
    centre = t["boxes"][bi, mi, :2]
    cell = ((centre[:, 1] * gh).long().clamp(0, gh - 1) * gw + (centre[:, 0] * gw).long().clamp(0, gw - 1))
    cls_t = torch.zeros_like(logits)
    cls_t[bi, cell, t["leads"][bi, mi]] = 1.0
    n_obj = max(len(bi), 1)
    losses = {"cls": _focal(logits, cls_t) / n_obj}
    if len(bi):
        pb, tb = enc["boxes"][bi, cell].float(), t["boxes"][bi, mi]
        losses["l1"] = (pb - tb).abs().sum() / n_obj
        losses["giou"] = giou_loss(pb, tb) / n_obj
    return losses


def set_loss(out: dict, y: torch.Tensor, spec: KeypointSpec) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of the matched losses of the last decoder layer and of every auxiliary one (and of
    a two-stage model's dense proposals)."""
    total, parts = 0.0, {}
    if "enc" in out:
        total = total + sum(spec.weight[k] * v for k, v in dense_loss(out["enc"], y).items())
    for layer_out in [out, *out.get("aux", [])]:
        losses = _layer_loss(layer_out, y, spec)
        total = total + sum(spec.weight[k] * v for k, v in losses.items())
        if layer_out is out:
            parts = {k: v.detach() for k, v in losses.items()}  # tensors: no device sync here
    for layer_out in out.get("dn", []):  # denoising queries (training only)
        total = total + sum(spec.weight[k] * v for k, v in _dn_loss(layer_out, y).items())
    return total, parts


# --- decoding and scoring ------------------------------------------------------------------------------

def keypoint_scores(preds: list[BeatObjects], targets: list[BeatObjects], tol_ms: float = 40.0) -> dict:
    """Per keypoint type: tp, fp, fn, precision, recall, F1 and mean absolute error (ms). A predicted
    keypoint matches a true one of the same type and lead within ``tol_ms`` along the time axis (one mm of
    paper is 40 ms) and half a panel row (15 mm) vertically, at the target's scale (``mm``); one-to-one,
    closest first."""
    tally = {k: {"tp": 0, "fp": 0, "fn": 0, "err": []} for k in KEYPOINTS}
    for p, t in zip(preds, targets):
        mm_x, mm_y = float(t.mm[0]), float(t.mm[1])
        for j, kname in enumerate(KEYPOINTS):
            pairs = keypoint_pairs(p, t, j, tol_ms / 40.0 * mm_x, 15 * mm_y)
            tally[kname]["err"] += [abs(p.kps[i, j, 0] - t.kps[k, j, 0]) / mm_x * 40.0 for i, k in pairs]
            tally[kname]["tp"] += len(pairs)
            tally[kname]["fp"] += int(p.vis[:, j].sum()) - len(pairs)
            tally[kname]["fn"] += int(t.vis[:, j].sum()) - len(pairs)
    out = {}
    for k, v in tally.items():
        out[k] = {**detection_prf(v["tp"], v["fp"], v["fn"]),
                  "mean_abs_error_ms": float(np.mean(v["err"])) if v["err"] else float("nan"),
                  "tp": v["tp"], "fp": v["fp"], "fn": v["fn"]}
    return out


class KeypointTask:
    """Set loss in, keypoint F1 out; monitors the mean F1 of P, R and T."""

    monitor = "f1_prt"

    def __init__(self, spec: KeypointSpec):
        self.spec = spec

    def step(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        img = batch["image"]
        if img.dtype == torch.uint8:  # pooled pages travel as bytes
            img = img.float() / 255.0
        dn = make_dn(batch["y"], self.spec) if self.spec.dn and model.training else None
        out = model(img, dn) if dn is not None else model(img)
        loss, _ = set_loss(out, batch["y"], self.spec)
        return {"loss": loss, "logits": pack_predictions(out).detach()}

    def metrics(self, logits: torch.Tensor, targets: torch.Tensor) -> dict:
        truth = [_true_objects({k: v.cpu().numpy() for k, v in t.items()}) for t in _unpack(targets)]
        scores = keypoint_scores(decode(logits, self.spec.n_leads, self.spec.score_threshold, self.spec.nms_iou),
                                 truth)
        out = {f"f1_{k}": v["f1"] for k, v in scores.items()}
        out["f1_prt"] = float(np.mean([scores[k]["f1"] for k in ("P", "R", "T")]))
        return out


def ludb_page_split(items: dict, held_fold: int) -> tuple[list[str], list[str]]:
    """(records to fit, inner-validation records) of ``items`` outside LUDB fold ``held_fold``: every 8th
    of them validates (chooses the epoch and the decoding), the rest train."""
    return ludb_fold_split(held_fold, keep=items)


def spec_dict(spec) -> dict:
    """A spec dataclass as JSON-ready values (the image size as a list)."""
    d = asdict(spec)
    d["img_size"] = list(spec.img_size)
    return d


def spec_from_dict(cls, d: dict):
    """The spec dataclass ``cls`` back from :func:`spec_dict`'s values (as a checkpoint stores them)."""
    return cls(**{**d, "img_size": tuple(d["img_size"]), "train": TrainConfig(**d["train"])})


def train_keypoints(spec: KeypointSpec, items: dict[str, tuple[Record, list[LeadWaves]]], held_fold: int = 0,
                    run_dir: str | Path | None = None, workers: int = 0, progress=None,
                    resume: bool = False, init: nn.Module | None = None) -> tuple[nn.Module, dict]:
    """Train one ViT-DETR on the LUDB records of ``items`` outside fold ``held_fold`` (every 8th of them
    kept aside to choose the epoch, rendered clean); returns the model and the training report."""
    if torch.cuda.is_available():
        torch.set_float32_matmul_precision("high")  # TF32 matrix products on the GPU
    fit_names, inner_val = ludb_page_split(items, held_fold)
    torch.manual_seed(spec.train.seed)
    model = create_model(spec.model, **model_config(spec))
    if init is not None:  # continue from an earlier run's weights with a new schedule: the same architecture,
        # or the same with a keypoint refiner added (which then starts untrained, returning the first guesses)
        missing, unexpected = model.load_state_dict(init.state_dict(), strict=False)
        new = [k for k in missing if not k.startswith("refine.")]
        if new or unexpected:
            raise ECGError(f"--init weights do not fit the model: missing {new[:5]}, unexpected {unexpected[:5]}")
    if spec.train_only:  # the rest frozen; the shared loop keeps frozen batch-norm layers' statistics too
        for name, prm in model.named_parameters():
            prm.requires_grad_(name.startswith(spec.train_only + "."))
        if not any(prm.requires_grad for prm in model.parameters()):
            raise ECGError(f"the model has no submodule {spec.train_only!r} to train")
    if spec.pool:
        train_b = render_pool([items[r] for r in fit_names], spec, spec.pool, spec.train.seed, workers)
    else:
        train_b = PageBatches([items[r] for r in fit_names], spec, spec.train.batch_size, augment=True,
                              seed=spec.train.seed, repeats=spec.repeats, workers=workers)
    val_b = PageBatches([items[r] for r in inner_val], spec, spec.train.batch_size, augment=False, workers=workers)
    res = fit(model, KeypointTask(spec), train_b, val_b, spec.train, run_dir=run_dir, progress=progress,
              resume=resume)
    model = model.cpu().eval()
    # the weights as they will be stored (fp16), so the decoding is chosen for the file that ships
    model.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in half_state(model.state_dict()).items()})
    choice = choose_decoding(model, spec, items, inner_val)
    spec.score_threshold, spec.nms_iou = choice["score_threshold"], choice["nms_iou"]
    report = {"held_fold": held_fold, "fit_records": len(fit_names), "inner_val_records": inner_val,
              "best_epoch": res.best_epoch, "inner_val": {k: v for k, v in res.best_metrics.items()},
              "decoding": choice, "seconds": round(res.seconds, 1), "history": res.history}
    return model, report


THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(9))  # 0.2 ... 0.6
NMS_IOUS = (0.3, 0.5, 0.7)


def choose_decoding(model: nn.Module, spec: KeypointSpec, items: dict[str, tuple[Record, list[LeadWaves]]],
                    records: list[str]) -> dict:
    """The score threshold and NMS overlap with the best mean F1 of P, R and T on clean renders of
    ``records`` (the inner-validation records: never the held-out fold)."""
    samples = [render_sample(*items[name], spec.img_size, None) for name in records]
    raw = predict_pages(model, np.stack([s["image"] for s in samples]))
    targets = [sample_truth(s) for s in samples]
    table = []
    for th in THRESHOLDS:
        for iou in NMS_IOUS:
            preds = decode(raw, spec.n_leads, th, iou)
            sc = keypoint_scores(preds, targets)
            table.append({"score_threshold": th, "nms_iou": iou,
                          "f1_prt": float(np.mean([sc[k]["f1"] for k in ("P", "R", "T")])),
                          **{f"f1_{k}": v["f1"] for k, v in sc.items()}})
    best = max(table, key=lambda r: r["f1_prt"])
    return {"score_threshold": best["score_threshold"], "nms_iou": best["nms_iou"], "inner_val": best,
            "records": list(records), "table": table}


def save_keypoint_model(model: nn.Module, spec: KeypointSpec, path: str | Path, provenance: dict) -> dict:
    """:func:`ecg_core.predict.keypoints.save_keypoint_detector` of a trained model and its training spec."""
    return save_keypoint_detector(model, spec_dict(spec), path, provenance)


def sample_truth(s: dict) -> BeatObjects:
    """The true objects of a rendered sample (:func:`render_sample`), in fractions of the image, with the
    render's scale."""
    return _true_objects({**s, "mm": (s["mm_x"], s["mm_y"])})


def _true_objects(t: dict) -> BeatObjects:
    """Training targets (``leads``, ``boxes`` as cx, cy, w, h, ``kps``, ``vis``, ``mm``) as objects."""
    boxes = xyxy(torch.as_tensor(np.asarray(t["boxes"], np.float32))).numpy()
    return BeatObjects(np.ones(len(t["leads"]), np.float32), np.asarray(t["leads"]), boxes, np.asarray(t["kps"]),
                       np.asarray(t["vis"]) > 0, (float(t["mm"][0]), float(t["mm"][1])))


def evaluate_keypoints(model: nn.Module | None, spec: KeypointSpec | None,
                       items: dict[str, tuple[Record, list[LeadWaves]]], records: list[str], photo: float = 0.0,
                       seed: int = 0, tol_ms: float = 40.0, delineators: dict[str, nn.Module] | None = None) -> dict:
    """Keypoint precision / recall / F1 within ``tol_ms`` and mean error (ms) on renders of ``records``,
    clean (``photo`` 0) or photographed at that strength (the same seeded photo of each record every time).

    With ``delineators`` (record -> the delineation fold model that never saw it) the keypoints come from
    "digitise, then delineate" (:func:`digitised_objects`) on the same renders at print resolution, or, when
    ``model`` is given too, from both (:func:`hybrid_page`)."""
    size = spec.img_size if spec is not None else KeypointSpec().img_size
    preds, targets = [], []
    for i, name in enumerate(records):
        rec, waves = items[name]
        rng = np.random.default_rng([seed, i]) if photo > 0 else None
        if delineators is None:
            s = render_sample(rec, waves, size, rng, photo)
            preds += detect_keypoints(model, s["image"][None], spec)
        else:
            s = render_sample(rec, waves, size, rng, photo, keep_page=True)
            if model is None:
                obj = digitised_objects(s["page"], delineators[name])
            else:
                obj = hybrid_page(model, spec, s["page"], delineators[name])
            ph, pw = s["page"].shape[:2]
            preds.append(replace(obj, kps=obj.kps / np.array([pw, ph])))
        targets.append(sample_truth(s))
    scores = keypoint_scores(preds, targets, tol_ms)
    return {"keypoints": scores, "n_records": len(records), "photo": photo, "tolerance_ms": tol_ms}
