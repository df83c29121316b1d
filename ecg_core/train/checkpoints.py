"""Checkpoint files with a model card: written atomically, read with ``weights_only=True``, hash-checked.

A checkpoint is ``NAME.pt`` (a dict of tensors and plain values; floating tensors stored fp16, or large
weights as int8 with per-channel scales, :func:`int8_state`) and its
model card ``NAME.json``, which records the file's sha256. Loading refuses a file whose hash differs
from its card's, so the model that runs is exactly the one that was measured.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

__all__ = ["save_checkpoint", "load_checkpoint", "half_state", "int8_state"]

_Q, _S = "::int8", "::scale"


def half_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating tensors as fp16 (half the file; the models run in fp32 after loading)."""
    return {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}


def int8_state(state: dict[str, torch.Tensor], min_numel: int = 1024) -> dict[str, torch.Tensor]:
    """Weight-only int8 storage: each floating weight of at least ``min_numel`` values and 2+ dimensions
    becomes int8 with one fp32 scale per output channel (symmetric, max-abs); the rest fp16. A quarter of
    fp32; :func:`load_checkpoint` turns it back into fp32, so the model runs as before, up to rounding
    (figures of a model stored this way are measured on the stored file)."""
    out = {}
    for k, v in state.items():
        if v.is_floating_point() and v.dim() >= 2 and v.numel() >= min_numel:
            scale = v.detach().abs().flatten(1).amax(dim=1).clamp_min(1e-12) / 127.0
            shape = (-1,) + (1,) * (v.dim() - 1)
            out[k + _Q] = torch.round(v / scale.view(shape)).clamp(-127, 127).to(torch.int8)
            out[k + _S] = scale.float()
        else:
            out[k] = v.half() if v.is_floating_point() else v
    return out


def _unpack(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in state.items():
        if k.endswith(_S):
            continue
        if k.endswith(_Q):
            name = k[:-len(_Q)]
            scale = state[name + _S]
            out[name] = v.float() * scale.view((-1,) + (1,) * (v.dim() - 1))
        else:
            out[k] = v.float() if v.is_floating_point() else v
    return out


def save_checkpoint(payload: dict, path: str | Path, card: dict) -> dict:
    """Write ``payload`` to ``path`` (atomically) and ``card`` plus file name, sha256 and size beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    card = {**card, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size_bytes": path.stat().st_size}
    path.with_suffix(".json").write_text(json.dumps(card, indent=2))
    return card


def load_checkpoint(path: str | Path, verify: bool = True) -> tuple[dict, dict]:
    """``(payload, card)`` of a checkpoint; floating tensors of ``payload["state_dict"]`` back in fp32.

    Raises ValueError when the file's sha256 is not the one its model card records."""
    path = Path(path)
    card = json.loads(path.with_suffix(".json").read_text())
    if verify:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != card["sha256"]:
            raise ValueError(f"{path.name}: sha256 {digest[:12]}... does not match its model card "
                             f"({card['sha256'][:12]}...); the file was changed or truncated.")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if "state_dict" in payload:
        payload["state_dict"] = _unpack(payload["state_dict"])
    return payload, card
