"""Datasets and generated records."""

from .demo import demo_record

__all__ = ["demo_record"]
