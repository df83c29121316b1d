"""Building blocks shared by several models."""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["ConvBNAct", "ResBlock1d", "RRLog", "rr_mlp", "beat_head"]


class ConvBNAct(nn.Sequential):
    """Conv1d -> BatchNorm1d -> ReLU, 'same' padding."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1):
        super().__init__(nn.Conv1d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm1d(c_out), nn.ReLU(inplace=True))


class ResBlock1d(nn.Module):
    """Two 1-D convolutions with a shortcut (He et al. 2016), optional stride on the first."""

    def __init__(self, c_in: int, c_out: int, k: int = 7, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        self.conv1 = ConvBNAct(c_in, c_out, k, stride)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Sequential(nn.Conv1d(c_out, c_out, k, padding=k // 2, bias=False), nn.BatchNorm1d(c_out))
        self.short = (nn.Identity() if c_in == c_out and stride == 1 else
                      nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm1d(c_out)))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.drop(self.conv1(x))) + self.short(x))


class RRLog(nn.Module):
    """Log of positive RR features (seconds and ratios), so 'twice as long' and 'half as long' are symmetric."""

    def forward(self, rr: torch.Tensor) -> torch.Tensor:
        return torch.log(rr.clamp_min(1e-3))


def rr_mlp(n_rr: int, hidden: int) -> nn.Sequential:
    """The RR branch of the beat models: log of the RR features, then two ReLU layers."""
    return nn.Sequential(RRLog(), nn.Linear(n_rr, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden),
                         nn.ReLU(inplace=True))


def beat_head(n_in: int, num_classes: int, dropout: float) -> nn.Sequential:
    """The classifier on the beat models' fused features: dropout, 64 ReLU units, the class logits."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, 64), nn.ReLU(inplace=True), nn.Linear(64, num_classes))
