"""1-D U-Net for sample-wise wave segmentation (P / QRS / T / background) of multi-lead ECGs.

All leads enter together (a wave seen clearly in one lead helps find it in a noisy one) and the network
answers per lead, because each lead has its own onsets and offsets. The encoder works from half the
input rate down (cheap on a CPU); a thin full-rate path joins at the end so boundaries keep the input's
time resolution (2 ms at LUDB's 500 Hz, against CSE tolerances of 6.5-30 ms).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import ConvBNAct
from .registry import register_model

__all__ = ["UNet1d"]


class _Down(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.block = nn.Sequential(ConvBNAct(c_in, c_out, k, stride=2), ConvBNAct(c_out, c_out, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class _Up(nn.Module):
    def __init__(self, c_in: int, c_skip: int, c_out: int, k: int):
        super().__init__()
        self.block = nn.Sequential(ConvBNAct(c_in + c_skip, c_out, k), ConvBNAct(c_out, c_out, k))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-1], mode="linear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class UNet1d(nn.Module):
    """Input ``batch["x"]``: ``(B, in_leads, T)``; output logits ``(B, num_classes, rows, T)`` (class
    axis second, so softmax/cross-entropy over dim 1 work as for classification), one row per lead.
    Any ``T`` works."""

    def __init__(self, in_leads: int = 12, num_classes: int = 4, width: int = 16, depth: int = 4, k: int = 9,
                 dropout: float = 0.1):
        super().__init__()
        self.in_leads, self.num_classes = in_leads, num_classes
        self.rows = in_leads
        self.full = ConvBNAct(in_leads, width, k)  # full-rate path
        chans = [width * 2 ** min(i, 3) for i in range(depth + 1)]
        self.downs = nn.ModuleList([_Down(in_leads if i == 0 else chans[i - 1], chans[i], k) for i in range(depth + 1)])
        self.drop = nn.Dropout(dropout)
        self.ups = nn.ModuleList([_Up(chans[i + 1], chans[i], chans[i], k) for i in reversed(range(depth))])
        self.final = _Up(chans[0], width, width, k)
        self.head = nn.Conv1d(width, self.rows * num_classes, 1)

    def forward(self, batch: dict[str, torch.Tensor] | torch.Tensor) -> torch.Tensor:
        x = batch["x"] if isinstance(batch, dict) else batch
        full = self.full(x)
        skips, h = [], x
        for down in self.downs:
            h = down(h)
            skips.append(h)
        h = self.drop(skips.pop())
        for up in self.ups:
            h = up(h, skips.pop())
        h = self.final(h, full)
        out = self.head(h)  # (B, rows * classes, T)
        b, _, t = out.shape
        return out.view(b, self.rows, self.num_classes, t).transpose(1, 2)


@register_model
def delineation_unet(**kwargs) -> UNet1d:
    return UNet1d(**kwargs)
