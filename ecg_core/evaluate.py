"""Evaluation protocols as functions; the CLI's ``evaluate`` commands and ``bench/`` call these."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from .io import load_record
from .io.records import MITDB_RECORDS, find_records, record_path
from .signal import compare_beats, detect_rpeaks, episode_mask_intervals

__all__ = ["evaluate_rpeaks"]

log = logging.getLogger(__name__)


def evaluate_rpeaks(db: str = "mitdb", method: str = "ecgcore", *, records: list[str] | None = None,
                    window_ms: float = 150.0, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Gross beat-detection Se and +P of ``method`` over every record of ``db`` (all 48 for MIT-BIH).

    Reference: every beat annotation (WFDB beat symbols; ``!`` flutter waves are not beats) of the
    ``atr`` file. Ventricular flutter episodes (``[`` to ``]``, record 207) are left out on both sides,
    as ANSI/AAMI EC57 does. ``seconds`` counts detection only (reading files is the same for every
    method and is not counted). All leads are given to the detector; the peers use the first.

    Returns:
        ``{"se", "ppv", "tp", "fn", "fp", "n_records", "seconds", "method", "db", "window_ms",
        "per_record": {name: {"tp", "fn", "fp"}}}``; ``se``/``ppv`` are fractions.

    Raises:
        FileNotFoundError: when the database is not under ECG_DATA_DIR.
    """
    names = records or (list(MITDB_RECORDS) if db == "mitdb" else find_records(db).get(db, []))
    if not names:
        raise FileNotFoundError(f"database {db!r} not found under ECG_DATA_DIR")
    total = None
    seconds = 0.0
    per_record = {}
    for k, name in enumerate(names):
        rec = load_record(record_path(db, name))
        ann = rec.annotations.get("atr")
        if ann is None:
            raise FileNotFoundError(f"{db}/{name} has no reference annotation (.atr)")
        ref = ann.beats().sample_idx
        exclude = episode_mask_intervals(ann.sample_idx, ann.symbol)
        t0 = time.perf_counter()
        peaks = detect_rpeaks(rec.signal, rec.fs, method=method)
        seconds += time.perf_counter() - t0
        c = compare_beats(ref, peaks, rec.fs, window_ms=window_ms, exclude=exclude)
        per_record[name] = {"tp": c.tp, "fn": c.fn, "fp": c.fp}
        total = c if total is None else total + c
        if progress:
            progress(k + 1, len(names), name)
    return {"method": method, "db": db, "se": float(total.se), "ppv": float(total.ppv), "tp": int(total.tp),
            "fn": int(total.fn), "fp": int(total.fp), "n_records": len(names), "seconds": round(seconds, 3),
            "window_ms": window_ms, "per_record": per_record,
            "f1": float(2 * total.tp / (2 * total.tp + total.fn + total.fp)) if total.tp else float(np.nan)}
