"""1-D ResNet and MobileNet backbones for ECG signals, and beat classifiers built on them.

timm holds ResNet and MobileNet for images (the multimodal model's ``image_model`` takes any timm name:
``"resnet18"``, ``"mobilenetv3_small_100"``); timm has no 1-D versions, so these are written here in
its style: a backbone with ``forward_features`` (pooled features, ``num_features`` wide) and an
optional classification head. ResNet (He et al. 2016) stacks residual blocks, halving time and doubling
channels per stage; MobileNet (Sandler et al. 2018, MobileNetV2) stacks inverted residual blocks
(1 x 1 expansion, depthwise convolution, linear 1 x 1 projection), several times cheaper for the same
receptive field.

Registered: ``resnet1d`` and ``mobilenet1d`` (signals ``(B, leads, T)`` -> logits) and ``beat_resnet1d``
and ``beat_mobilenet1d`` (the beat task's dict input: the beat, optionally the patient's template
beside it, and the RR features).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ConvBNAct, ResBlock1d, beat_head, rr_mlp
from .registry import register_model

__all__ = ["ResNet1d", "MobileNet1d", "BeatBackboneNet"]


class _Backbone1d(nn.Module):
    """``body`` -> mean and max pooled over time (``num_features`` = 2 x its channels) -> ``head``."""

    def _finish(self, layers: list[nn.Module], channels: int, num_classes: int) -> None:
        self.body = nn.Sequential(*layers)
        self.num_features = 2 * channels
        self.head = nn.Linear(self.num_features, num_classes) if num_classes else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


class ResNet1d(_Backbone1d):
    """``in_ch`` -> stem (stride 2) -> ``len(blocks)`` stages of residual blocks (stride 2 each, widths
    ``width * 2**i`` up to 8x) -> mean and max pooled (``num_features`` = 2 x last width)."""

    def __init__(self, in_ch: int = 12, num_classes: int = 0, width: int = 32, blocks: tuple[int, ...] = (1, 1, 1, 1),
                 kernel: int = 7, stem_kernel: int = 15, dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = [ConvBNAct(in_ch, width, stem_kernel, stride=2)]
        c = width
        for i, n in enumerate(blocks):
            c_out = width * 2 ** min(i, 3)
            for j in range(n):
                layers.append(ResBlock1d(c, c_out, k=kernel, stride=2 if j == 0 else 1, dropout=dropout))
                c = c_out
        self._finish(layers, c, num_classes)


class _InvertedResidual1d(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int, kernel: int):
        super().__init__()
        mid = c_in * expand
        self.block = nn.Sequential(
            nn.Conv1d(c_in, mid, 1, bias=False), nn.BatchNorm1d(mid), nn.ReLU6(inplace=True),
            nn.Conv1d(mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False),
            nn.BatchNorm1d(mid), nn.ReLU6(inplace=True),
            nn.Conv1d(mid, c_out, 1, bias=False), nn.BatchNorm1d(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


MOBILENET_STAGES = ((16, 1, 1), (24, 2, 2), (32, 2, 2), (64, 2, 2), (96, 1, 1))  # (channels, repeats, stride)


class MobileNet1d(_Backbone1d):
    """MobileNetV2 in 1-D: stem (stride 2), then per stage ``(channels, repeats, stride)`` inverted
    residual blocks (expansion ``expand``, depthwise ``kernel``), a 1 x 1 to ``last`` channels, mean and
    max pooled (``num_features`` = 2 x ``last``)."""

    def __init__(self, in_ch: int = 12, num_classes: int = 0, width: int = 16,
                 stages: tuple[tuple[int, int, int], ...] = MOBILENET_STAGES, expand: int = 4, kernel: int = 9,
                 last: int = 128):
        super().__init__()
        layers: list[nn.Module] = [ConvBNAct(in_ch, width, 15, stride=2)]
        c = width
        for c_out, n, stride in stages:
            for j in range(n):
                layers.append(_InvertedResidual1d(c, c_out, stride if j == 0 else 1, expand, kernel))
                c = c_out
        layers += [nn.Conv1d(c, last, 1, bias=False), nn.BatchNorm1d(last), nn.ReLU6(inplace=True)]
        self._finish(layers, last, num_classes)


class BeatBackboneNet(nn.Module):
    """A beat classifier on a zoo backbone: the beat (and, with ``use_template``, the patient's template
    and their difference) through the backbone, the RR features (log) through a small dense net, fused.
    Input as the beat task gives it: ``x`` and ``template`` ``(B, leads, 280)``, ``rr`` ``(B, n_rr)``."""

    def __init__(self, backbone: str = "resnet", num_classes: int = 5, in_leads: int = 1, n_rr: int = 9,
                 use_template: bool = True, rr_hidden: int = 32, dropout: float = 0.3, **backbone_kwargs):
        super().__init__()
        c_in = in_leads * (3 if use_template else 1)
        cls = {"resnet": ResNet1d, "mobilenet": MobileNet1d}[backbone]
        defaults = {"resnet": {"width": 32, "blocks": (1, 1, 1)}, "mobilenet": {}}[backbone]
        self.backbone = cls(in_ch=c_in, num_classes=0, **{**defaults, **backbone_kwargs})
        self.use_template = use_template
        self.rr_fc = rr_mlp(n_rr, rr_hidden)
        self.num_features = self.backbone.num_features + rr_hidden
        self.head = beat_head(self.num_features, num_classes, dropout) if num_classes else nn.Identity()

    def forward_features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["x"]
        if self.use_template:
            t = batch["template"]
            x = torch.cat([x, t, x - t], dim=1)
        return torch.cat([self.backbone.forward_features(x), self.rr_fc(batch["rr"])], dim=1)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.forward_features(batch))


@register_model
def resnet1d(**kwargs) -> ResNet1d:
    return ResNet1d(**kwargs)


@register_model
def mobilenet1d(**kwargs) -> MobileNet1d:
    return MobileNet1d(**kwargs)


@register_model
def beat_resnet1d(**kwargs) -> BeatBackboneNet:
    return BeatBackboneNet("resnet", **kwargs)


@register_model
def beat_mobilenet1d(**kwargs) -> BeatBackboneNet:
    return BeatBackboneNet("mobilenet", **kwargs)
