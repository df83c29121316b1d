"""Quantised variants of a trained model and their comparison (size, latency, accuracy, agreement)."""

from .variants import VARIANTS, Variant, build_variants, compare_variants

__all__ = ["VARIANTS", "Variant", "build_variants", "compare_variants"]
