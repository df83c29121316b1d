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
                    window_ms: float = 150.0, annotation: str | None = None,
                    progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Gross beat-detection Se and +P of ``method`` over every record of ``db`` (all 48 for MIT-BIH).

    Reference: every beat annotation (WFDB beat symbols; ``!`` flutter waves are not beats) of the
    ``atr`` file. Ventricular flutter episodes (``[`` to ``]``, record 207) are left out on both sides,
    as ANSI/AAMI EC57 does. ``seconds`` counts detection only (reading files is the same for every
    method and is not counted). All leads are given to the detector; the peers use the first.

    LUDB (``db="ludb"``) marks QRS complexes per lead (annotation ``"ii"`` by default) and only in the
    middle of each 10 s record, so there detections are scored inside the annotated span (plus 100 ms),
    and lead II is put first.

    Returns:
        ``{"se", "ppv", "tp", "fn", "fp", "n_records", "seconds", "method", "db", "window_ms",
        "per_record": {name: {"tp", "fn", "fp"}}}``; ``se``/``ppv`` are fractions.

    Raises:
        FileNotFoundError: when the database is not under ECG_DATA_DIR.
    """
    names = records or (list(MITDB_RECORDS) if db == "mitdb" else find_records(db).get(db, []))
    if not names:
        raise FileNotFoundError(f"database {db!r} not found under ECG_DATA_DIR")
    ann_name = annotation or ("ii" if db == "ludb" else "atr")
    total = None
    seconds = 0.0
    per_record = {}
    for k, name in enumerate(names):
        rec = load_record(record_path(db, name))
        ann = rec.annotations.get(ann_name)
        if ann is None:
            raise FileNotFoundError(f"{db}/{name} has no reference annotation ({ann_name})")
        ref = ann.beats().sample_idx
        exclude = episode_mask_intervals(ann.sample_idx, ann.symbol)
        sig = rec.signal
        if db == "ludb":
            lead = rec.lead_names.index("II")
            sig = sig[[lead] + [i for i in range(rec.n_leads) if i != lead]]
        t0 = time.perf_counter()
        peaks = detect_rpeaks(sig, rec.fs, method=method)
        seconds += time.perf_counter() - t0
        if db == "ludb" and len(ann):
            pad = int(0.1 * rec.fs)
            peaks = peaks[(peaks >= ann.sample_idx.min() - pad) & (peaks <= ann.sample_idx.max() + pad)]
        c = compare_beats(ref, peaks, rec.fs, window_ms=window_ms, exclude=exclude)
        per_record[name] = {"tp": c.tp, "fn": c.fn, "fp": c.fp}
        total = c if total is None else total + c
        if progress:
            progress(k + 1, len(names), name)
    return {"method": method, "db": db, "se": float(total.se), "ppv": float(total.ppv), "tp": int(total.tp),
            "fn": int(total.fn), "fp": int(total.fp), "n_records": len(names), "seconds": round(seconds, 3),
            "window_ms": window_ms, "annotation": ann_name, "per_record": per_record,
            "f1": float(2 * total.tp / (2 * total.tp + total.fn + total.fp)) if total.tp else float(np.nan)}
