"""Explanations: Grad-CAM on 1-D signal encoders (mapped back onto time) and CNN image encoders, integrated
gradients, and attention rollout for ViTs.

Written here because captum is not among this project's installable packages; each is short and
follows its paper: Grad-CAM (Selvaraju et al. 2017) weights a layer's feature maps by the mean
gradient of the target score and keeps the positive part; attention rollout (Abnar & Zuidema 2020)
adds the identity to each layer's head-averaged attention, renormalises the rows and multiplies the
layers through, so the class token's row says how much each patch fed the output; integrated gradients
(Sundararajan et al. 2017) averages the gradient along the straight path from a baseline to the input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["grad_cam_1d", "grad_cam_2d", "integrated_gradients", "attention_rollout"]


def _score(out, score):
    return score(out) if score else (out["diagnosis"] if isinstance(out, dict) else out)


def _acts_and_grads(model: nn.Module, batch, layer: nn.Module, target: int, score) -> tuple[torch.Tensor, torch.Tensor]:
    """``layer``'s output and the gradient of the ``target`` score with respect to it (model in eval mode)."""
    acts: dict[str, torch.Tensor] = {}

    def hook(_m, _inp, out):
        out.retain_grad()
        acts["a"] = out

    handle = layer.register_forward_hook(hook)
    was = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = _score(model(batch), score)
            model.zero_grad(set_to_none=True)
            logits[:, target].sum().backward()
    finally:
        handle.remove()
        model.train(was)
    return acts["a"].detach(), acts["a"].grad.detach()


def _scale_rows(cam: torch.Tensor) -> np.ndarray:
    flat = cam.flatten(1)
    return (cam / flat.amax(dim=1).clamp_min(1e-12).view(-1, *([1] * (cam.dim() - 1)))).numpy()


def grad_cam_1d(model: nn.Module, batch, layer: nn.Module, target: int,
                score: Callable[[object], torch.Tensor] | None = None, length: int | None = None,
                tokens: bool = False) -> np.ndarray:
    """Grad-CAM of ``target`` over time: ``(B, length)`` in [0, 1] (each row scaled by its maximum).

    ``layer`` must output ``(B, C, T')`` (a 1-D conv block) or, with ``tokens=True``, ``(B, T', C)``
    (the multimodal model's signal encoder); ``score`` maps the
    model output to ``(B, n_classes)`` logits (default: the output itself, or its ``"diagnosis"``);
    ``length`` is the input length the map is stretched to (default: the signal's).
    """
    a, g = _acts_and_grads(model, batch, layer, target, score)
    if tokens:
        a, g = a.transpose(1, 2), g.transpose(1, 2)
    w = g.mean(dim=-1, keepdim=True)  # (B, C, 1)
    cam = F.relu((w * a).sum(dim=1, keepdim=True))  # (B, 1, T')
    if length is None:
        x = batch["signal"] if isinstance(batch, dict) else batch
        length = x.shape[-1]
    cam = F.interpolate(cam, size=length, mode="linear", align_corners=False)[:, 0]
    return _scale_rows(cam)


def grad_cam_2d(model: nn.Module, batch, layer: nn.Module, target: int,
                score: Callable[[object], torch.Tensor] | None = None,
                size: tuple[int, int] | None = None) -> np.ndarray:
    """Grad-CAM of ``target`` for a CNN image encoder: ``(B, H, W)`` in [0, 1].

    ``layer`` outputs ``(B, C, h, w)`` (for example the last stage of a timm ResNet or MobileNet); the map
    is stretched bilinearly to ``size`` (default: the image's, from ``batch["image"]`` or ``batch``)."""
    a, g = _acts_and_grads(model, batch, layer, target, score)
    w = g.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
    cam = F.relu((w * a).sum(dim=1, keepdim=True))  # (B, 1, h, w)
    if size is None:
        x = batch["image"] if isinstance(batch, dict) else batch
        size = tuple(x.shape[-2:])
    cam = F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[:, 0]
    return _scale_rows(cam)


def integrated_gradients(model: nn.Module, batch, target: int, key: str | None = "signal",
                         baseline: torch.Tensor | None = None, steps: int = 32, chunk: int = 16,
                         score: Callable[[object], torch.Tensor] | None = None) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017) of ``target`` for one input: same shape as it.

    ``batch`` is a tensor or a dict whose ``key`` entry is explained (the other entries are held fixed);
    ``baseline`` defaults to zeros (a flat line for a signal, a black image). The path integral uses the
    midpoint rule over ``steps`` points, ``chunk`` points per forward pass, so the attributions sum to
    ``f(x) - f(baseline)`` up to the integration error (completeness; tested)."""
    x = batch[key] if isinstance(batch, dict) else batch
    base = torch.zeros_like(x) if baseline is None else baseline.to(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    total = torch.zeros_like(x)
    was = model.training
    model.eval()
    try:
        for lo in range(0, steps, chunk):
            a = alphas[lo:lo + chunk]
            n = len(a)
            path = (base.unsqueeze(0) + a.view(-1, *([1] * x.dim())) * (x - base).unsqueeze(0))  # (n, B, ...)
            path = path.reshape(n * x.shape[0], *x.shape[1:]).requires_grad_(True)
            if isinstance(batch, dict):
                inp = {k: (path if k == key else v.repeat(n, *([1] * (v.dim() - 1))))
                       for k, v in batch.items()}
            else:
                inp = path
            with torch.enable_grad():
                s = _score(model(inp), score)[:, target].sum()
                (grad,) = torch.autograd.grad(s, path)
            total += grad.reshape(n, *x.shape).sum(dim=0)
    finally:
        model.train(was)
    return ((x - base) * total / steps).detach().numpy()


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
