"""LUDB (Lobachevsky University Database) for delineation: manual P/QRS/T marks per lead, the fixed
patient-wise 5-fold split, and sample-wise wave labels for training a segmentation model.

LUDB marks every wave as three annotations in a row: ``(`` onset, the peak (``p``, ``N`` for QRS, ``t``)
and ``)`` offset, separately in each of the 12 leads (annotation files ``i``, ``ii``, ... ``v6``). Only the
middle of each 10 s record is marked (the first and last beats are not), so scoring and training use the
annotated span of each lead and nothing outside it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..record import Annotation, Record
from ..waves import WAVE_LABELS, WAVES, LeadWaves

__all__ = ["WAVES", "WAVE_LABELS", "LeadWaves", "waves_from_annotation", "annotated_span",
           "DIAGNOSIS_CLASSES", "ludb_diagnoses",
           "ludb_folds", "ludb_fold_split", "ludb_records", "label_mask", "load_ludb"]

_PEAK_SYMBOL = {"p": "P", "N": "QRS", "t": "T"}
_FOLDS_FILE = Path(__file__).with_name("ludb_folds.json")


def _empty() -> np.ndarray:
    return np.zeros((0, 3), dtype=np.int64)


def waves_from_annotation(ann: Annotation) -> LeadWaves:
    """Waves from LUDB-style marks ``( peak )``; a peak without both of its brackets is skipped."""
    out: dict[str, list] = {k: [] for k in WAVES}
    s, sym = ann.sample_idx, ann.symbol
    for i, c in enumerate(sym):
        kind = _PEAK_SYMBOL.get(c)
        if kind is None or i == 0 or i + 1 >= len(sym) or sym[i - 1] != "(" or sym[i + 1] != ")":
            continue
        out[kind].append((s[i - 1], s[i], s[i + 1]))
    return LeadWaves(**{k: np.asarray(v, dtype=np.int64).reshape(-1, 3) if v else _empty()
                        for k, v in out.items()})


def annotated_span(waves: LeadWaves) -> tuple[int, int] | None:
    """First onset and last offset marked in a lead (inclusive), or None when nothing is marked."""
    ons = [waves[k][:, 0] for k in WAVES if len(waves[k])]
    if not ons:
        return None
    offs = [waves[k][:, 2] for k in WAVES if len(waves[k])]
    return int(min(a.min() for a in ons)), int(max(a.max() for a in offs))


def label_mask(waves: LeadWaves, n_samples: int, ignore: int = -1) -> np.ndarray:
    """Sample-wise labels (0 background, 1 P, 2 QRS, 3 T) of one lead; ``ignore`` outside the annotated
    span, where the truth is unknown."""
    y = np.full(n_samples, ignore, dtype=np.int64)
    span = annotated_span(waves)
    if span is None:
        return y
    y[span[0]:span[1] + 1] = 0
    for kind in WAVES:
        for on, _, off in waves[kind]:
            y[max(on, 0):min(off, n_samples - 1) + 1] = WAVE_LABELS[kind]
    return y


@lru_cache(maxsize=1)
def ludb_folds() -> tuple[tuple[str, ...], ...]:
    """The fixed patient-wise 5-fold split of LUDB's 200 records (one patient each), saved with the
    package so every method is scored on the same held-out records."""
    data = json.loads(_FOLDS_FILE.read_text())
    return tuple(tuple(f) for f in data["folds"])


def ludb_fold_split(held_fold: int, keep=None) -> tuple[list[str], list[str]]:
    """(records to fit, inner-validation records) for the model that holds out fold ``held_fold``: the
    records of the other folds (only those in ``keep``, if given), every 8th of them validating (early
    stopping and any choice made while training), the rest fitting."""
    train = [r for j, f in enumerate(ludb_folds()) if j != held_fold for r in f if keep is None or r in keep]
    inner_val = train[::8]
    return [r for r in train if r not in set(inner_val)], inner_val


def ludb_records() -> list[str]:
    return [r for f in ludb_folds() for r in f]


def load_ludb(name: str) -> tuple[Record, list[LeadWaves]]:
    """LUDB record ``name`` (12 leads, 500 Hz, mV) with the waves marked in each of its leads (in the
    record's lead order)."""
    from ..io import load_record
    from ..io.records import record_path

    rec = load_record(record_path("ludb", name))
    waves = []
    for lead in rec.lead_names:
        ann = rec.annotations.get(lead.lower())
        waves.append(waves_from_annotation(ann) if ann is not None else
                     LeadWaves(_empty(), _empty(), _empty()))
    return rec, waves


#: LUDB's cardiologists' conclusions grouped into a multi-label set (columns of ``ludb.csv``); a record
#: is positive for a class when any listed column holds anything (or, for rhythm, anything but sinus rhythm)
DIAGNOSIS_CLASSES = {
    "rhythm_abnormal": "Rhythms other than 'Sinus rhythm' (bradycardia, tachycardia, arrhythmia, AF, flutter...)",
    "axis_deviation": "Electric axis: left or right axis deviation",
    "conduction": "Conduction abnormalities (bundle-branch blocks, hemiblocks, AV blocks, IVCD)",
    "hypertrophy": "Hypertrophies (atrial/ventricular hypertrophy or overload)",
    "ischaemia_scar": "Ischemia (ischaemia, STEMI, scar, undefined ischaemia/scar)",
    "repolarisation": "Non-specific repolarization abnormalities or early repolarization",
}


def _cells(v) -> list[str]:
    if not isinstance(v, str):
        return []
    return [p.strip() for p in v.replace("\r", "").split("\n") if p.strip()]


def ludb_diagnoses(csv_path: str | Path | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Records, their multi-label targets ``(n, len(DIAGNOSIS_CLASSES))`` (0/1) and metadata (age, sex,
    pacing) from LUDB's ``ludb.csv``. Paced records are flagged in the metadata, not dropped."""
    import pandas as pd

    if csv_path is None:
        from ..io.records import data_dir

        root = data_dir()
        if root is None or not (root / "ludb" / "ludb.csv").exists():
            raise FileNotFoundError("LUDB not found: set ECG_DATA_DIR to a folder holding ludb/ludb.csv")
        csv_path = root / "ludb" / "ludb.csv"
    df = pd.read_csv(csv_path)
    names, rows, meta = [], [], {}
    for _, r in df.iterrows():
        name = str(int(r["ID"]))
        rhythm = _cells(r["Rhythms"])
        axis = " ".join(_cells(r["Electric axis of the heart"])).lower()
        y = [int(any(c != "Sinus rhythm" for c in rhythm)),
             int("axis deviation" in axis),
             int(bool(_cells(r["Conduction abnormalities"]))),
             int(bool(_cells(r["Hypertrophies"]))),
             int(bool(_cells(r["Ischemia"]))),
             int(bool(_cells(r["Non-specific repolarization abnormalities"])) or
                 any("repolarization" in c.lower() for c in _cells(r["Other states"])))]
        names.append(name)
        rows.append(y)
        age = "".join(_cells(str(r["Age"])))
        meta[name] = {"sex": "".join(_cells(str(r["Sex"]))) or None,
                      "age": float(age) if age.replace(".", "", 1).isdigit() else None,
                      "paced": bool(_cells(r["Cardiac pacing"]))}
    return names, np.asarray(rows, dtype=np.int64), meta
