"""A HuBERT-style ECG encoder (Hsu et al. 2021), small enough for a CPU.

A convolutional feature extractor turns a single-lead signal at 360 Hz into frames (stride 10: 36 frames
a second), a convolutional relative position embedding (as wav2vec 2.0 / HuBERT) and a Transformer
encoder give every frame a context-aware feature. Self-supervised pre-training masks spans of frames
(replaced by a learned mask vector) and predicts, for the masked frames, the k-means cluster of each
frame's own waveform (the offline targets of HuBERT's first iteration). No labels are needed, so every
unlabelled signal can be used; the encoder is then fine-tuned on a labelled task.

Registered: ``hubert_ecg`` (the encoder with its pre-training head) and ``beat_hubert`` (a beat classifier
on the encoder: the beat and the patient's template beat through the encoder, the RR features through a
dense net, as :mod:`ecg_core.models.beat_context`).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .layers import beat_head, rr_mlp
from .registry import register_model

__all__ = ["HubertEncoder", "HubertECG", "BeatHubert", "span_mask"]


class HubertEncoder(nn.Module):
    """``(B, 1, T)`` signal -> ``(B, T // 10, dim)`` frame features; ``mask`` ``(B, frames)`` (True =
    masked) replaces those frames' inputs to the Transformer by a learned vector."""

    stride = 10

    def __init__(self, dim: int = 64, depth: int = 3, heads: int = 4, conv_width: int = 48, dropout: float = 0.1):
        super().__init__()
        self.features = nn.Sequential(  # receptive field 22 samples (61 ms), stride 10
            nn.Conv1d(1, conv_width, 10, stride=5, padding=3), nn.GroupNorm(conv_width, conv_width), nn.GELU(),
            nn.Conv1d(conv_width, conv_width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv1d(conv_width, conv_width, 3, stride=1, padding=1), nn.GELU())
        self.proj = nn.Sequential(nn.LayerNorm(conv_width), nn.Linear(conv_width, dim), nn.Dropout(dropout))
        self.mask_emb = nn.Parameter(torch.randn(dim) * 0.02)
        self.pos = nn.Conv1d(dim, dim, 15, padding=7, groups=8)  # relative position (wav2vec 2.0)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dim = dim

    def n_frames(self, n_samples: int) -> int:
        return (n_samples + 6 - 10) // 5 // 2 + 1 if n_samples >= 4 else 0

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.proj(self.features(x).transpose(1, 2))  # (B, F, dim)
        if mask is not None:
            h = torch.where(mask.unsqueeze(-1), self.mask_emb.to(h.dtype), h)
        h = h + nn.functional.gelu(self.pos(h.transpose(1, 2))).transpose(1, 2)
        return self.norm(self.transformer(h))


def span_mask(b: int, frames: int, p: float = 0.08, span: int = 5, generator: torch.Generator | None = None,
              device=None) -> torch.Tensor:
    """HuBERT's masking: each frame starts a masked span of ``span`` frames with probability ``p`` (about
    ``1 - (1 - p) ** span`` of the frames end up masked: 34 % for the defaults); at least one span a row."""
    starts = torch.rand(b, frames, generator=generator) < p
    starts[torch.arange(b), torch.randint(0, max(frames - span + 1, 1), (b,), generator=generator)] = True
    mask = torch.zeros(b, frames + span, dtype=torch.bool)
    for k in range(span):
        mask[:, k:k + frames] |= starts
    return mask[:, :frames].to(device)


class HubertECG(nn.Module):
    """The encoder with its pre-training head: logits over ``n_clusters`` for every frame."""

    def __init__(self, n_clusters: int = 64, **encoder_kwargs):
        super().__init__()
        self.encoder = HubertEncoder(**encoder_kwargs)
        self.head = nn.Linear(self.encoder.dim, n_clusters)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.encoder(x, mask))


class BeatHubert(nn.Module):
    """Beat classifier on the encoder: mean-pooled frames of the beat and of the template (and their
    difference), plus the RR features (log) through a dense net. Input: ``x``, ``template``
    ``(B, 1, 280)``, ``rr`` ``(B, n_rr)``."""

    def __init__(self, num_classes: int = 5, in_leads: int = 1, n_rr: int = 9, rr_hidden: int = 32,
                 dropout: float = 0.3, **encoder_kwargs):
        super().__init__()
        if in_leads != 1:
            raise ValueError("beat_hubert reads one lead")
        self.encoder = HubertEncoder(**encoder_kwargs)
        d = self.encoder.dim
        self.rr_fc = rr_mlp(n_rr, rr_hidden)
        self.head = beat_head(3 * d + rr_hidden, num_classes, dropout)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        b = batch["x"].shape[0]
        h = self.encoder(torch.cat([batch["x"], batch["template"]], dim=0)).mean(dim=1)
        hx, ht = h[:b], h[b:]
        return self.head(torch.cat([hx, ht, hx - ht, self.rr_fc(batch["rr"])], dim=1))


@register_model
def hubert_ecg(**kwargs) -> HubertECG:
    return HubertECG(**kwargs)


@register_model
def beat_hubert(**kwargs) -> BeatHubert:
    return BeatHubert(**kwargs)
