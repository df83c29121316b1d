"""Each training task's loop defaults, written once: the training specs (:mod:`ecg_core.train`), the CLI's
``train`` options and the Training page's fields all start from these. Plain data, no imports, so the
CLI can build its options without loading torch."""

from __future__ import annotations

__all__ = ["LOOP_DEFAULTS", "loop_defaults"]

#: epochs, batch size, learning rate, early-stopping patience and mixed precision per ``train`` subcommand
LOOP_DEFAULTS: dict[str, dict] = {
    "beats": {"epochs": 15, "batch_size": 256, "lr": 1e-3, "patience": 4, "amp": "auto"},
    "delineation": {"epochs": 60, "batch_size": 8, "lr": 2e-3, "patience": 12, "amp": "auto"},
    "multimodal": {"epochs": 40, "batch_size": 16, "lr": 1e-3, "patience": 10, "amp": "auto"},
    "keypoints": {"epochs": 200, "batch_size": 16, "lr": 3e-4, "patience": 30, "amp": "auto"},
    "panels": {"epochs": 30, "batch_size": 8, "lr": 1e-3, "patience": 8, "amp": "off"},
    "pretrain": {"epochs": 8, "batch_size": 128, "lr": 1e-3, "patience": 3, "amp": "auto"},
}


def loop_defaults(task: str) -> dict:
    """A copy of ``task``'s loop defaults."""
    return dict(LOOP_DEFAULTS[task])
