"""Dual-branch beat classifier: the reference project's design, reproduced faithfully.

A 1-D CNN on a 0.77 s beat window (280 samples at 360 Hz) and a dense net on RR intervals, concatenated
and classified into the AAMI classes. The flattened convolution features feed a 256-unit dense layer,
which is where most of the ~1.2 M parameters (4.7 MB fp32) sit, as in the reference.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ConvBNAct, RRLog
from .registry import register_model

__all__ = ["DualBranchBeatNet"]


class DualBranchBeatNet(nn.Module):
    """Beat CNN + RR dense net.

    Inputs (a dict): ``x`` ``(B, n_leads, 280)`` z-scored beats; ``rr`` ``(B, n_rr)`` RR features.
    ``num_classes=0`` returns the fused features (an encoder).
    """

    def __init__(self, num_classes: int = 5, in_leads: int = 1, n_rr: int = 2, window: int = 280,
                 channels: tuple[int, ...] = (32, 64, 128), dense: int = 256, rr_hidden: int = 32,
                 dropout: float = 0.5, log_rr: bool = False):
        super().__init__()
        layers, c = [], in_leads
        for ch in channels:
            layers += [ConvBNAct(c, ch, 7), nn.MaxPool1d(2)]
            c = ch
        self.cnn = nn.Sequential(*layers)
        flat = c * (window // 2 ** len(channels))
        self.beat_fc = nn.Sequential(nn.Flatten(), nn.Linear(flat, dense), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.rr_in = RRLog() if log_rr else nn.Identity()
        self.rr_fc = nn.Sequential(nn.Linear(n_rr, rr_hidden), nn.ReLU(inplace=True), nn.Linear(rr_hidden, rr_hidden),
                                   nn.ReLU(inplace=True))
        self.num_features = dense + rr_hidden
        self.head = nn.Sequential(nn.Linear(self.num_features, 64), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                  nn.Linear(64, num_classes)) if num_classes else nn.Identity()

    def forward_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([self.beat_fc(self.cnn(batch["x"])), self.rr_fc(self.rr_in(batch["rr"]))], dim=1)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_head(self.forward_features(batch))


@register_model
def beat_dualbranch(**kwargs) -> DualBranchBeatNet:
    """The reference design: raw pre/post RR in seconds."""
    return DualBranchBeatNet(**kwargs)
