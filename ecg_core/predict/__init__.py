"""Inference: the shipped models loaded once (through one weights resolver) and run on a ``Record`` or an
image. Training lives in :mod:`ecg_core.train`, which builds on these rooms, never the other way round."""

from .weights import weights_dir, weights_path

__all__ = ["weights_dir", "weights_path"]
