"""Where shipped weights are found: ``ECG_WEIGHTS_DIR``, else the ``weights/`` folder beside the package
(the one place that decides; pages, CLI and library all ask here)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["weights_dir", "weights_path"]

_PACKAGE_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"


def weights_dir() -> Path:
    """The folder of shipped weights and model cards."""
    env = os.environ.get("ECG_WEIGHTS_DIR")
    return Path(env) if env else _PACKAGE_WEIGHTS


def weights_path(name: str) -> Path:
    """The path of shipped weights file ``name`` (``"delineation_unet.pt"``)."""
    return weights_dir() / name
