"""Model architectures (one per file) and the registry/factory."""

from . import beat_context, beat_dualbranch, detr, hubert, multimodal, panels, unet1d, zoo1d  # noqa: F401  (registers)
from .registry import create_model, is_model, list_models, register_model

__all__ = ["create_model", "is_model", "list_models", "register_model"]
