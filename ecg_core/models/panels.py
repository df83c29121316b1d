"""Mask R-CNN (torchvision) for lead panels on ECG images: one instance per printed lead panel, its
class the lead, its box the panel and its mask the panel's own trace pixels, as a learned alternative to
the digitiser's classical row and column finding (:mod:`ecg_core.digitize`).

torchvision's ``MaskRCNN`` with a MobileNetV3-Large FPN backbone trained from scratch (no downloaded
weights) and smaller box and mask heads than its ResNet-50 default (a 128-wide box MLP, four 128-channel
mask convolutions), so the model stays about 7.5 M weights (15 MB in fp16, 8 MB as stored: int8
weights). Anchors cover the long, flat panels of a page: aspect ratios (height / width) 1/8 to 1.
"""

from __future__ import annotations

import torch.nn as nn
from torchvision.ops import MultiScaleRoIAlign

from .registry import register_model

__all__ = ["panel_maskrcnn"]


@register_model
def panel_maskrcnn(n_leads: int = 12, min_size: int = 512, max_size: int = 1024, box_dim: int = 128,
                   mask_channels: int = 128, **_) -> nn.Module:
    """Classes: 0 background, ``1 + lead index`` (LUDB lead order) for a lead's panel."""
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.backbone_utils import mobilenet_backbone
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    backbone = mobilenet_backbone(backbone_name="mobilenet_v3_large", weights=None, fpn=True, trainable_layers=6)
    feats = ["0", "1"]
    anchors = AnchorGenerator(sizes=((64, 128, 256, 512, 1024),) * 3,
                              aspect_ratios=((0.125, 0.25, 0.5, 1.0),) * 3)
    return MaskRCNN(
        backbone, num_classes=None, min_size=min_size, max_size=max_size,
        rpn_anchor_generator=anchors,
        box_roi_pool=MultiScaleRoIAlign(feats, 7, 2),
        box_head=TwoMLPHead(backbone.out_channels * 7 * 7, box_dim),
        box_predictor=FastRCNNPredictor(box_dim, n_leads + 1),
        mask_roi_pool=MultiScaleRoIAlign(feats, 14, 2),
        mask_head=MaskRCNNHeads(backbone.out_channels, (mask_channels,) * 4, 1),
        mask_predictor=MaskRCNNPredictor(mask_channels, mask_channels, n_leads + 1),
        box_detections_per_img=32)
