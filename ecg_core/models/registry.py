"""Model registry and factory in the style of timm: ``@register_model`` entry points and
``create_model(name, **kwargs)``, which fails loudly on an unknown name and lists what exists."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

__all__ = ["register_model", "create_model", "list_models", "is_model"]

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Register an entry point under its function name."""
    if fn.__name__ in _MODELS:
        raise ValueError(f"model {fn.__name__!r} registered twice")
    _MODELS[fn.__name__] = fn
    return fn


def list_models(prefix: str = "") -> list[str]:
    """Registered model names, sorted, optionally only those starting with ``prefix``."""
    return sorted(n for n in _MODELS if n.startswith(prefix))


def is_model(name: str) -> bool:
    return name in _MODELS


def create_model(name: str, **kwargs) -> nn.Module:
    """Build registered model ``name`` with ``kwargs`` merged into its defaults.

    Raises ValueError for an unknown name, listing the registered ones.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    return _MODELS[name](**kwargs)
