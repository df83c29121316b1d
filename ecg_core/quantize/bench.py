"""``bench quantize``: every serving variant of each shipped beat model, measured on MIT-BIH DS2."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..data.beats import DS1, DS2, mitdb_beats
from ..predict.beats import beat_tensors, load_beat_ensemble
from ..train.beats import beat_report
from .variants import build_variants, compare_variants

__all__ = ["bench_quantize"]

log = logging.getLogger(__name__)


def bench_quantize(weights: list[str | Path], n_calib: int = 2000, repeats: int = 30, seed: int = 0,
                   workdir: str | Path | None = None) -> list[dict]:
    """Rows ``{"model", "variant", "size_bytes", "ms_batch1", "ms_batch256", "macro_f1_nsvf", "agreement"}``.

    Calibration beats come from DS1 (training data); the macro-F1 is the gross DS2 figure of
    :func:`ecg_core.train.beats.beat_report` (detected beats; missed and extra beats counted), so the
    fp32 row equals the model card's DS2 figure.
    """
    rows = []
    for w in weights:
        model, spec, _ = load_beat_ensemble(w)
        ds1 = mitdb_beats(DS1, spec.mode, spec.leads)
        idx = np.random.default_rng(seed).choice(len(ds1), size=min(n_calib, len(ds1)), replace=False)
        calib = {k: v.numpy() for k, v in beat_tensors(ds1.subset(np.sort(idx)), spec, with_labels=False).items()}
        ds2 = mitdb_beats(DS2, spec.mode, spec.leads)
        inputs = {k: v.numpy() for k, v in beat_tensors(ds2, spec, with_labels=False).items()}
        variants = build_variants(model, calib, workdir=Path(workdir) / Path(w).stem if workdir else None)

        def score(y: np.ndarray, pred: np.ndarray, _ds2=ds2) -> float:
            return beat_report(_ds2, pred, list(DS2))["macro_f1_nsvf"]

        rows += compare_variants(variants, inputs, ds2.y, score, Path(w).stem, repeats=repeats)
    return rows
