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

from .atomic import atomic_path, atomic_write_text
from .errors import WeightsIntegrityError

__all__ = ["save_checkpoint", "load_checkpoint", "half_state", "int8_state", "atomic_save", "atomic_write_text"]

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


def atomic_save(obj, path: str | Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: a crash never leaves half a file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(payload: dict, path: str | Path, card: dict) -> dict:
    """Write ``payload`` to ``path`` (atomically) and ``card`` plus file name, sha256 and size beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(payload, path)
    card = {**card, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size_bytes": path.stat().st_size}
    atomic_write_text(path.with_suffix(".json"), json.dumps(card, indent=2))
    return card


def load_checkpoint(path: str | Path, verify: bool = True) -> tuple[dict, dict]:
    """``(payload, card)`` of a checkpoint; floating tensors of ``payload["state_dict"]`` back in fp32.

    Raises :class:`~ecg_core.errors.WeightsIntegrityError` (a ValueError too) when the file or its model
    card is missing or unreadable, or the file's sha256 is not the one its card records."""
    path = Path(path)
    card_path = path.with_suffix(".json")
    if not path.is_file():
        raise WeightsIntegrityError(f"{path.name}: the weights file is missing.")
    try:
        card = json.loads(card_path.read_text())
        want = card["sha256"]
    except FileNotFoundError:
        raise WeightsIntegrityError(f"{path.name}: its model card {card_path.name} is missing; weights without "
                                    "a card (and the hash it records) are not loaded.") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise WeightsIntegrityError(f"{path.name}: its model card {card_path.name} is damaged or has no sha256 "
                                    f"({type(exc).__name__}).") from None
    if verify:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != want:
            raise WeightsIntegrityError(f"{path.name}: sha256 {digest[:12]}... does not match its model card "
                                        f"({str(want)[:12]}...); the file was changed or truncated. Restore it from "
                                        "the release (git checkout weights/) rather than using it.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling (weights_only) refuses anything but tensors and plain values
        raise WeightsIntegrityError(f"{path.name}: not a weights file that can be loaded safely "
                                    f"({type(exc).__name__}: {str(exc)[:120]}).") from None
    if "state_dict" in payload:
        payload["state_dict"] = _unpack(payload["state_dict"])
    return payload, card
