"""Multimodal 12-lead ECG model: image encoder (timm), multi-scale 1-D CNN signal encoder, clinical
metadata encoder, cross-modal attention fusion with modality gates, and three heads.

Inputs (a dict; any subset of modalities may be present):

* ``signal``: ``(B, 12, T)`` mV (10 s at 100 Hz in the shipped setting);
* ``image``: ``(B, 3, H, W)`` in [0, 1] (the paper ECG, rendered from the signal when no photo exists);
* ``meta_num``: ``(B, n_num)`` numbers (age, height, weight), NaN where unknown; ``meta_cat``: ``(B,)``
  sex index (0 unknown, 1 male, 2 female).

Missing numbers are not zeros: each number enters as (value or 0, "was it known" flag), so "unknown" is
its own input. Every modality becomes a set of tokens of width ``dim``; a gate per modality (a sigmoid
of its pooled tokens) scales its tokens, and learned queries attend over the tokens of the modalities
present (absent ones are masked, not zero-filled). Outputs: ``diagnosis`` logits (multi-label),
``severity`` (ordinal, cumulative logits ``P(severity > k)``), ``confidence`` (a logit), ``gates``
``(B, 3)`` (NaN for an absent modality) and the attention weights of the fusion.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ConvBNAct, ResBlock1d
from .registry import register_model

__all__ = ["MultimodalECG", "SignalEncoder", "MetadataEncoder", "ImageEncoder", "MODALITIES"]

MODALITIES = ("signal", "image", "meta")


class SignalEncoder(nn.Module):
    """Multi-scale 1-D CNN: parallel convolutions with short, medium and long kernels (QRS detail, waves,
    rhythm), concatenated, then strided residual blocks; returns tokens ``(B, T', dim)``."""

    def __init__(self, in_leads: int = 12, dim: int = 128, width: int = 32, kernels: tuple[int, ...] = (3, 9, 25),
                 depth: int = 3, dropout: float = 0.1):
        super().__init__()
        self.branches = nn.ModuleList([ConvBNAct(in_leads, width, k, stride=2) for k in kernels])
        c = width * len(kernels)
        blocks = []
        for i in range(depth):
            c_out = min(dim, c * 2) if i < depth - 1 else dim
            blocks.append(ResBlock1d(c, c_out, k=7, stride=2, dropout=dropout))
            c = c_out
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.cat([b(x) for b in self.branches], dim=1)
        return self.blocks(h).transpose(1, 2)  # (B, T', dim)


class MetadataEncoder(nn.Module):
    """Numbers with "known" flags and an embedding of sex (unknown / male / female) -> one token."""

    def __init__(self, n_num: int = 3, dim: int = 128, n_cat: int = 3, hidden: int = 64,
                 num_mean: tuple[float, ...] = (60.0, 170.0, 75.0), num_std: tuple[float, ...] = (15.0, 10.0, 15.0)):
        super().__init__()
        self.register_buffer("mean", torch.tensor(num_mean[:n_num], dtype=torch.float32))
        self.register_buffer("std", torch.tensor(num_std[:n_num], dtype=torch.float32))
        self.cat = nn.Embedding(n_cat, hidden)
        self.mlp = nn.Sequential(nn.Linear(2 * n_num + hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim))

    def forward(self, num: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        known = torch.isfinite(num)
        z = torch.where(known, (num - self.mean) / self.std, torch.zeros_like(num))
        h = torch.cat([z, known.float(), self.cat(cat.long())], dim=1)
        return self.mlp(h).unsqueeze(1)  # (B, 1, dim)


class ImageEncoder(nn.Module):
    """A timm backbone built from scratch (no downloaded weights): ViT (patch tokens, so attention
    rollout can reach the pixels), ResNet or MobileNet (the last feature map's cells as tokens)."""

    def __init__(self, name: str = "vit_tiny_patch16_224", dim: int = 128, img_size: int = 224, **timm_kwargs):
        super().__init__()
        import timm

        kw = {"img_size": img_size, **timm_kwargs} if name.startswith("vit") else timm_kwargs
        self.backbone = timm.create_model(name, pretrained=False, num_classes=0, **kw)
        self.is_vit = name.startswith("vit")
        feat = self.backbone.num_features
        self.proj = nn.Linear(feat, dim)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        f = self.backbone.forward_features(img)
        if self.is_vit:
            tokens = f[:, self.backbone.num_prefix_tokens:]  # patch tokens
        else:
            tokens = f.flatten(2).transpose(1, 2)  # (B, H*W, C)
        return self.proj(tokens)


class MultimodalECG(nn.Module):
    def __init__(self, num_classes: int = 6, n_severity: int = 3, in_leads: int = 12, dim: int = 128,
                 image_model: str | None = "vit_tiny_patch16_224", img_size: int = 224, n_queries: int = 4,
                 heads: int = 4, dropout: float = 0.2, signal_width: int = 32, image_kwargs: dict | None = None,
                 n_num: int = 3):
        super().__init__()
        self.signal_enc = SignalEncoder(in_leads, dim, signal_width)
        self.image_enc = ImageEncoder(image_model, dim, img_size, **(image_kwargs or {})) if image_model else None
        self.meta_enc = MetadataEncoder(n_num, dim)
        self.type_emb = nn.Parameter(torch.zeros(len(MODALITIES), dim))
        self.gates = nn.ModuleList([nn.Linear(dim, 1) for _ in MODALITIES])
        self.queries = nn.Parameter(torch.randn(n_queries, dim) * 0.02)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=0.0, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)
        self.head_dx = nn.Linear(n_queries * dim, num_classes)
        self.head_sev = nn.Linear(n_queries * dim, max(n_severity - 1, 1))
        self.head_conf = nn.Linear(n_queries * dim, 1)

    def encode(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Tokens of every modality present in ``batch``."""
        out = {}
        if "signal" in batch:
            out["signal"] = self.signal_enc(batch["signal"])
        if "image" in batch and self.image_enc is not None:
            out["image"] = self.image_enc(batch["image"])
        if "meta_num" in batch:
            out["meta"] = self.meta_enc(batch["meta_num"], batch["meta_cat"])
        if not out:
            raise ValueError("no modality given: pass signal, image and/or meta_num + meta_cat")
        return out

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        tokens = self.encode(batch)
        b = next(iter(tokens.values())).shape[0]
        seq, gates = [], torch.full((b, len(MODALITIES)), float("nan"), device=self.queries.device)
        for i, m in enumerate(MODALITIES):
            if m not in tokens:
                continue
            t = tokens[m] + self.type_emb[i]
            g = torch.sigmoid(self.gates[i](t.mean(dim=1)))  # (B, 1)
            gates[:, i] = g[:, 0]
            seq.append(t * g.unsqueeze(1))
        kv = torch.cat(seq, dim=1)
        q = self.queries.unsqueeze(0).expand(b, -1, -1)
        fused, weights = self.attn(q, kv, kv, need_weights=True, average_attn_weights=True)
        h = self.drop(self.norm(fused + q).flatten(1))
        return {"diagnosis": self.head_dx(h), "severity": self.head_sev(h), "confidence": self.head_conf(h)[:, 0],
                "gates": gates, "attention": weights}


@register_model
def multimodal_ecg(**kwargs) -> MultimodalECG:
    return MultimodalECG(**kwargs)
