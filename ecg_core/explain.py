"""Explanations: Grad-CAM on 1-D signal encoders (mapped back onto time) and CNN image encoders, integrated
gradients, and attention rollout for ViTs.

Grad-CAM (Selvaraju et al. 2017: a layer's feature maps weighted by the mean gradient of the target
score, positive part kept) and integrated gradients (Sundararajan et al. 2017: the gradient averaged
along the straight path from a baseline to the input, midpoint rule) are captum's ``LayerGradCam`` and
``IntegratedGradients``, adapted here to the models' dict inputs and mapped back onto time or the image.
Attention rollout (Abnar & Zuidema 2020), which captum lacks, is written here: the identity added to
each layer's head-averaged attention, rows renormalised, layers multiplied through, so the class token's
row says how much each patch fed the output.
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


def _forward(model: nn.Module, batch, score, key: str | None = None):
    """``(f, x, extra)`` for captum: ``f(x, *extra)`` gives ``(B, n_classes)`` scores, ``x`` the explained
    input (``batch`` itself, or its ``key`` entry), ``extra`` the other entries of a dict ``batch`` in its
    order (captum repeats them along the integration path; ``None`` when there are none)."""
    if not isinstance(batch, dict):
        return (lambda x: _score(model(x), score)), batch, None
    others = [k for k in batch if k != key]

    def f(x, *rest):
        return _score(model({key: x, **dict(zip(others, rest))}), score)

    return f, batch[key], tuple(batch[k] for k in others) or None


def _grad_cam(model: nn.Module, batch, layer: nn.Module, target: int, score, tokens: bool = False) -> torch.Tensor:
    """captum's LayerGradCam of ``layer`` (channels on dim 1; ``tokens``: a ``(B, T, C)`` output, seen
    through a transposing identity so its channels come first): ``(B, 1, ...)`` before resizing."""
    from captum.attr import LayerGradCam

    key = next(iter(batch)) if isinstance(batch, dict) else None  # any input: the gradient is the layer's
    f, x, extra = _forward(model, batch, score, key)
    seen, handle = layer, None
    if tokens:
        seen = nn.Identity()
        handle = layer.register_forward_hook(lambda _m, _i, out: seen(out.transpose(1, 2)).transpose(1, 2))
    was = model.training
    model.eval()
    try:
        with torch.enable_grad():
            cam = LayerGradCam(f, seen).attribute(x, target=target, additional_forward_args=extra,
                                                  relu_attributions=True)
    finally:
        if handle is not None:
            handle.remove()
        model.train(was)
    return cam.detach()


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
    cam = _grad_cam(model, batch, layer, target, score, tokens)  # (B, 1, T')
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
    cam = _grad_cam(model, batch, layer, target, score)  # (B, 1, h, w)
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
    ``baseline`` defaults to zeros (a flat line for a signal, a black image). captum's
    ``IntegratedGradients`` with the midpoint rule over ``steps`` points, ``chunk`` points per forward
    pass, so the attributions sum to ``f(x) - f(baseline)`` up to the integration error (completeness;
    tested)."""
    from captum.attr import IntegratedGradients

    f, x, extra = _forward(model, batch, score, key)
    base = torch.zeros_like(x) if baseline is None else baseline.to(x)
    was = model.training
    model.eval()
    try:
        with torch.enable_grad():
            attr = IntegratedGradients(f).attribute(x, baselines=base, target=target,
                                                    additional_forward_args=extra, n_steps=steps,
                                                    method="riemann_middle",
                                                    internal_batch_size=chunk * x.shape[0])
    finally:
        model.train(was)
    return attr.detach().numpy()


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
