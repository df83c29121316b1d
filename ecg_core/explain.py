"""Explanations: Grad-CAM on 1-D signal encoders (mapped back onto time) and attention rollout for ViTs.

Written here because captum is not among this project's installable packages; both are short and
follow their papers: Grad-CAM (Selvaraju et al. 2017) weights a layer's feature maps by the mean
gradient of the target score and keeps the positive part; attention rollout (Abnar & Zuidema 2020)
adds the identity to each layer's head-averaged attention, renormalises the rows and multiplies the
layers through, so the class token's row says how much each patch fed the output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["grad_cam_1d", "attention_rollout"]


def grad_cam_1d(model: nn.Module, batch, layer: nn.Module, target: int,
                score: Callable[[object], torch.Tensor] | None = None, length: int | None = None,
                tokens: bool = False) -> np.ndarray:
    """Grad-CAM of ``target`` over time: ``(B, length)`` in [0, 1] (each row scaled by its maximum).

    ``layer`` must output ``(B, C, T')`` (a 1-D conv block) or, with ``tokens=True``, ``(B, T', C)``
    (the multimodal model's signal encoder); ``score`` maps the
    model output to ``(B, n_classes)`` logits (default: the output itself, or its ``"diagnosis"``);
    ``length`` is the input length the map is stretched to (default: the signal's).
    """
    acts: dict[str, torch.Tensor] = {}

    def hook(_m, _inp, out):
        out.retain_grad()
        acts["a"] = out

    handle = layer.register_forward_hook(hook)
    was = model.training
    model.eval()
    try:
        with torch.enable_grad():
            out = model(batch)
            logits = score(out) if score else (out["diagnosis"] if isinstance(out, dict) else out)
            model.zero_grad(set_to_none=True)
            logits[:, target].sum().backward()
    finally:
        handle.remove()
        model.train(was)
    a, g = acts["a"], acts["a"].grad
    if tokens:
        a, g = a.transpose(1, 2), g.transpose(1, 2)
    w = g.mean(dim=-1, keepdim=True)  # (B, C, 1)
    cam = F.relu((w * a).sum(dim=1, keepdim=True))  # (B, 1, T')
    if length is None:
        x = batch["signal"] if isinstance(batch, dict) else batch
        length = x.shape[-1]
    cam = F.interpolate(cam, size=length, mode="linear", align_corners=False)[:, 0]
    cam = cam / cam.amax(dim=1, keepdim=True).clamp_min(1e-12)
    return cam.detach().numpy()


def attention_rollout(vit: nn.Module, images: torch.Tensor) -> np.ndarray:
    """Attention rollout of a timm VisionTransformer: ``(B, gh, gw)`` patch relevance in [0, 1].

    Turns off fused attention while it runs, so the attention matrices can be read."""
    blocks = vit.blocks
    saved = [getattr(b.attn, "fused_attn", False) for b in blocks]
    mats: list[torch.Tensor] = []
    handles = []
    for b in blocks:
        b.attn.fused_attn = False
        handles.append(b.attn.attn_drop.register_forward_hook(lambda _m, inp, _o: mats.append(inp[0].detach())))
    try:
        with torch.inference_mode():
            vit.eval()
            vit.forward_features(images)
    finally:
        for h in handles:
            h.remove()
        for b, s in zip(blocks, saved):
            b.attn.fused_attn = s
    n = mats[0].shape[-1]
    roll = torch.eye(n).expand(images.shape[0], n, n)
    for a in mats:
        a = a.mean(dim=1) + torch.eye(n)  # heads averaged, identity for the residual path
        a = a / a.sum(dim=-1, keepdim=True)
        roll = a @ roll
    prefix = getattr(vit, "num_prefix_tokens", 1)
    rel = roll[:, 0, prefix:]  # the class token's row, patches only
    side = int(round(np.sqrt(rel.shape[-1])))
    rel = rel.reshape(-1, side, side)
    rel = rel / rel.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return rel.numpy()
