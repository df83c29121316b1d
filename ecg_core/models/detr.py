"""ViT-DETR for beat keypoints on ECG images.

A timm Vision Transformer (optionally behind a small convolutional stem) encodes the page; a transformer
decoder turns a fixed set of object queries into objects, one per (lead panel, heartbeat): its lead (a
class; none for an unused query), its box, and five keypoints (P, Q, R, S, T) with visibility. Each query
carries a learned reference point on the page (initialised on a grid, as anchor-based DETRs do for faster
convergence); boxes and keypoints are predicted relative to it and refined layer by layer, and every
decoder layer is supervised (auxiliary losses). With ``two_stage=True`` (Deformable DETR's two-stage
scheme with DINO's mixed query selection) every encoder token also predicts an object centred in its
cell (a dense head, trained without matching: the token under each true box centre is its positive), and
the queries start from the ``num_queries`` best-scoring tokens' boxes instead of learned points, so
they begin where beats are rather than having to find them. With ``refine=True`` a second stage reads each
object's keypoint times again from the pixels of its own beat (:class:`KeypointRefiner`, Mask R-CNN's keypoint
head in one dimension): the decoder finds beats well but places points from 16-pixel tokens. Set prediction,
Hungarian matching and losses are in :mod:`ecg_core.train.keypoints`.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
from torchvision.ops import roi_align

from .registry import register_model

__all__ = ["ViTDETR", "KeypointRefiner", "inverse_sigmoid"]


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))


def sine_embedding(xy: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """Sine embedding of points in [0, 1]: ``(..., 2)`` -> ``(..., dim)``."""
    half = dim // 4
    freq = temperature ** (torch.arange(half, device=xy.device, dtype=xy.dtype) / half)
    parts = []
    for i in range(2):
        a = xy[..., i:i + 1] * 2 * math.pi / freq
        parts += [a.sin(), a.cos()]
    return torch.cat(parts, dim=-1)


class _MLP(nn.Sequential):
    def __init__(self, d_in: int, d_hidden: int, d_out: int, n: int = 2):
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [nn.Linear(d_in if i == 0 else d_hidden, d_out if i == n - 1 else d_hidden)]
            if i < n - 1:
                layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class _DecoderLayer(nn.Module):
    """Self-attention among queries, cross-attention to the page, feed-forward; positions added to
    queries and keys (DETR style), pre-norm."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float = 0.0):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, dim))
        self.n1, self.n2, self.n3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, q: torch.Tensor, q_pos: torch.Tensor, mem: torch.Tensor, mem_pos: torch.Tensor,
                self_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.n1(q)
        q = q + self.self_attn(h + q_pos, h + q_pos, h, attn_mask=self_mask, need_weights=False)[0]
        h = self.n2(q)
        q = q + self.cross_attn(h + q_pos, mem + mem_pos, mem, need_weights=False)[0]
        return q + self.ff(self.n3(q))


class KeypointRefiner(nn.Module):
    """Keypoint times of each object read from its beat's pixels. The object's box, widened by ``expand``
    (and at least ``min_h`` of the page high), is cut from the input image (``roi_align``) at ``rows`` x
    ``bins``; strided convolutions fold the rows away, leaving one feature column per time bin; dilated
    1-D convolutions see the beat around each bin, told which beat is meant by the query's content (added
    to every bin) and by each keypoint's first guess (a Gaussian bump, ``sigma`` of the crop wide); per
    keypoint a distribution over the bins, whose mean is the new time (integral regression, Sun et al.
    2018). The output layer starts at zero, so the distribution is the bump and an untrained refiner
    returns the first guess; guesses outside the crop are kept as they are. Only x (time) is refined: the
    height of a keypoint on the trace is read to half a panel row."""

    def __init__(self, dim: int, n_kp: int, rows: int = 24, bins: int = 128, width: int = 48, expand: float = 1.5,
                 min_h: float = 0.06, sigma: float = 0.08):
        super().__init__()
        self.rows, self.bins, self.expand, self.min_h, self.sigma = rows, bins, expand, min_h, sigma
        chans = (3, 16, 32, width)
        layers: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=(2, 1), padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
        self.conv2d = nn.Sequential(*layers)
        self.film = nn.Linear(dim, width)
        layers = []
        for i, dil in enumerate((1, 2, 4, 8)):
            layers += [nn.Conv1d(width + n_kp if i == 0 else width, width, 5, padding=2 * dil, dilation=dil),
                       nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
        self.conv1d = nn.Sequential(*layers)
        self.out = nn.Conv1d(width, n_kp, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer("grid", (torch.arange(bins) + 0.5) / bins, persistent=False)

    def forward(self, images: torch.Tensor, boxes: torch.Tensor, kx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``images`` (B, 3, H, W); ``boxes`` (B, Q, 4) cx, cy, w, h and ``kx`` (B, Q, K) keypoint x, all in
        [0, 1] of the image; ``h`` (B, Q, dim) the queries' content. Returns the refined ``kx``."""
        b, q, k = kx.shape
        hh, ww = images.shape[-2:]
        cx, cy, bw, bh = boxes.float().unbind(-1)
        half_w = bw.clamp_min(0.01) * self.expand / 2
        half_h = bh.clamp_min(self.min_h) * self.expand / 2
        idx = torch.arange(b, device=boxes.device, dtype=torch.float32).view(b, 1).expand(b, q)
        rois = torch.stack([idx, (cx - half_w) * ww, (cy - half_h) * hh, (cx + half_w) * ww, (cy + half_h) * hh], -1)
        crops = roi_align(images.float(), rois.reshape(-1, 5), (self.rows, self.bins), 1.0, 2, aligned=True)
        f = self.conv2d(crops.to(images.dtype)).amax(dim=2) + self.film(h).reshape(b * q, -1, 1)
        left, span = (cx - half_w).unsqueeze(-1), (2 * half_w).unsqueeze(-1)
        u = (kx.float() - left) / span  # first guesses in crop units
        prior = -0.5 * ((self.grid.view(1, 1, 1, -1) - u.unsqueeze(-1)) / self.sigma) ** 2  # (B, Q, K, bins)
        f = torch.cat([f, prior.exp().reshape(b * q, k, self.bins).to(f.dtype)], dim=1)
        logits = self.out(self.conv1d(f)).float().view(b, q, k, self.bins) + prior
        new = left + (logits.softmax(-1) * self.grid).sum(-1) * span
        inside = (u > 0.02) & (u < 0.98)
        return torch.where(inside, new, kx.float()).to(kx.dtype)


class ViTDETR(nn.Module):
    """Inputs ``(B, 3, H, W)`` images in [0, 1]. Output (a dict), per decoder layer in ``"aux"`` and for
    the last at the top level: ``logits`` ``(B, Q, n_leads)`` (sigmoid scores; all low = no object),
    ``boxes`` ``(B, Q, 4)`` cx, cy, w, h in [0, 1], ``kps`` ``(B, Q, n_kp, 2)`` in [0, 1], ``vis``
    ``(B, Q, n_kp)`` visibility logits."""

    def __init__(self, n_leads: int = 12, n_kp: int = 5, img_size: tuple[int, int] = (512, 1024),
                 patch_size: int = 16, dim: int = 192, depth: int = 6, heads: int = 3, dec_layers: int = 4,
                 num_queries: int = 128, cnn_stem: bool = True, query_grid: tuple[int, int] = (8, 16),
                 two_stage: bool = False, refine: bool = False):
        super().__init__()
        import timm

        self.img_size = tuple(img_size)
        self.n_leads, self.n_kp, self.num_queries = n_leads, n_kp, num_queries
        self.two_stage = two_stage
        self.cnn_stem = cnn_stem
        if cnn_stem:  # stride-4 convolutions keep thin traces that a 16-pixel patch would blur away
            self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.GELU(),
                                      nn.Conv2d(32, 48, 3, 2, 1), nn.BatchNorm2d(48), nn.GELU())
            vit_in, vit_size, vit_patch = 48, (img_size[0] // 4, img_size[1] // 4), max(patch_size // 4, 1)
        else:
            vit_in, vit_size, vit_patch = 3, img_size, patch_size
        self.vit = timm.models.vision_transformer.VisionTransformer(
            img_size=vit_size, patch_size=vit_patch, in_chans=vit_in, embed_dim=dim, depth=depth, num_heads=heads,
            num_classes=0, global_pool="", class_token=False)
        self.grid = (img_size[0] // patch_size, img_size[1] // patch_size)
        gy, gx = torch.meshgrid((torch.arange(self.grid[0]) + 0.5) / self.grid[0],
                                (torch.arange(self.grid[1]) + 0.5) / self.grid[1], indexing="ij")
        self.register_buffer("mem_xy", torch.stack([gx, gy], dim=-1).reshape(-1, 2), persistent=False)
        self.mem_pos = nn.Linear(dim, dim)
        self.query = nn.Embedding(num_queries, dim)
        self.label_emb = nn.Embedding(n_leads, dim)  # content of denoising queries (DN-DETR)
        ry, rx = query_grid
        gy, gx = torch.meshgrid((torch.arange(ry) + 0.5) / ry, (torch.arange(rx) + 0.5) / rx, indexing="ij")
        ref = torch.stack([gx, gy], dim=-1).reshape(-1, 2)
        ref = ref.repeat(math.ceil(num_queries / len(ref)), 1)[:num_queries]
        self.ref = nn.Parameter(inverse_sigmoid(ref))
        self.query_pos = _MLP(dim, dim, dim)
        self.layers = nn.ModuleList([_DecoderLayer(dim, heads, 4 * dim) for _ in range(dec_layers)])
        self.norm = nn.LayerNorm(dim)
        self.cls_head = nn.Linear(dim, n_leads)
        self.box_head = _MLP(dim, dim, 4, 3)
        self.kp_head = _MLP(dim, dim, 2 * n_kp, 3)
        self.vis_head = nn.Linear(dim, n_kp)
        nn.init.constant_(self.cls_head.bias, -math.log((1 - 0.01) / 0.01))  # focal-loss prior (RetinaNet)
        for head in (self.box_head, self.kp_head):
            nn.init.zeros_(head[-1].weight)
            nn.init.zeros_(head[-1].bias)
        self.box_head[-1].bias.data[2:] = inverse_sigmoid(torch.tensor([0.08, 0.12]))
        self.refine = KeypointRefiner(dim, n_kp) if refine else None
        if two_stage:  # dense proposals: one per encoder token, relative to the token's centre
            self.enc_norm = nn.LayerNorm(dim)
            self.enc_cls = nn.Linear(dim, n_leads)
            self.enc_box = _MLP(dim, dim, 4, 3)
            nn.init.constant_(self.enc_cls.bias, -math.log((1 - 0.01) / 0.01))
            nn.init.zeros_(self.enc_box[-1].weight)
            nn.init.zeros_(self.enc_box[-1].bias)
            self.enc_box[-1].bias.data[2:] = inverse_sigmoid(torch.tensor([0.08, 0.12]))

    def forward(self, images: torch.Tensor, dn: dict[str, torch.Tensor] | None = None) -> dict:
        """``dn`` (training only, DN-DETR, Li et al. 2022): noised true objects fed as extra queries,
        ``ref`` ``(B, D, 2)`` reference-point logits and ``labels`` ``(B, D)`` (possibly flipped) leads,
        ``valid`` ``(B, D)``. The object queries cannot see them; their outputs come back under ``"dn"``
        (one dict per decoder layer) to be trained to reconstruct the objects, no matching needed."""
        x = self.stem(images) if self.cnn_stem else images
        mem = self.vit.forward_features(x)  # (B, N, dim), no class token
        mem_pos = self.mem_pos(sine_embedding(self.mem_xy, mem.shape[-1]).to(mem.dtype)).unsqueeze(0)
        b = images.shape[0]
        nq = self.num_queries
        q = self.query.weight.unsqueeze(0).expand(b, -1, -1)
        ref = self.ref.unsqueeze(0).expand(b, -1, -1)  # (B, Q, 2) logits of the reference points
        enc = None
        if self.two_stage:
            h = self.enc_norm(mem)
            eb = self.enc_box(h)
            centre = inverse_sigmoid(self.mem_xy).unsqueeze(0) + eb[..., :2]
            enc = {"logits": self.enc_cls(h), "boxes": torch.cat([centre, eb[..., 2:]], dim=-1).sigmoid(),
                   "grid": self.grid}
            k = min(nq, mem.shape[1])
            top = enc["logits"].max(dim=-1).values.topk(k, dim=1).indices  # (B, k)
            ref = centre.gather(1, top.unsqueeze(-1).expand(-1, -1, 2)).detach()
            if k < nq:
                ref = torch.cat([ref, self.ref[k:].unsqueeze(0).expand(b, -1, -1)], dim=1)
        mask = None
        if dn is not None:
            d = dn["ref"].shape[1]
            q = torch.cat([q, self.label_emb(dn["labels"])], dim=1)
            ref = torch.cat([ref, dn["ref"].to(ref.dtype)], dim=1)
            mask = torch.zeros(b, nq + d, nq + d, dtype=torch.bool, device=q.device)
            mask[:, :nq, nq:] = True  # object queries never see the answers
            mask[:, :, nq:] |= ~dn["valid"].unsqueeze(1)  # padding is seen by no one
            mask = mask.repeat_interleave(self.layers[0].self_attn.num_heads, dim=0)
        n_all = q.shape[1]
        outs = []
        for layer in self.layers:
            q_pos = self.query_pos(sine_embedding(ref.sigmoid(), q.shape[-1]).to(q.dtype))
            q = layer(q, q_pos, mem, mem_pos, mask)
            h = self.norm(q)
            box = self.box_head(h)
            centre = ref + box[..., :2]
            boxes = torch.cat([centre, box[..., 2:]], dim=-1).sigmoid()
            kp = self.kp_head(h).view(b, n_all, self.n_kp, 2)
            kps = (ref.unsqueeze(2) + kp).sigmoid()
            outs.append({"logits": self.cls_head(h), "boxes": boxes, "kps": kps, "vis": self.vis_head(h)})
            ref = centre.detach()  # the next layer refines from this layer's centre
        if self.refine is not None:  # the last layer's points read again from the pixels; its first guess
            last = outs[-1]  # stays supervised (among the auxiliary outputs)
            kx = self.refine(images, last["boxes"].detach(), last["kps"][..., 0].detach(), h)
            outs.append({**last, "kps": torch.stack([kx, last["kps"][..., 1]], dim=-1)})
        extra = {"enc": enc} if enc is not None else {}
        if dn is None:
            return {**outs[-1], "aux": outs[:-1], **extra}
        main = [{k: v[:, :nq] for k, v in o.items()} for o in outs]
        noised = [{k: v[:, nq:] for k, v in o.items()} for o in outs]
        return {**main[-1], "aux": main[:-1], "dn": noised, **extra}


@register_model
def vit_detr(**kwargs) -> ViTDETR:
    return ViTDETR(**kwargs)
