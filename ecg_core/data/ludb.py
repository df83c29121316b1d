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
import wfdb

from ..io import load_record
from ..io.records import data_dir, record_path
from ..record import Annotation, Record
from ..waves import WAVE_LABELS, WAVES, LeadWaves

__all__ = ["WAVES", "WAVE_LABELS", "LeadWaves", "waves_from_annotation", "annotated_span",
           "DIAGNOSIS_CLASSES", "ludb_diagnoses", "LEARNED_STATEMENTS", "ISCHAEMIA_WALLS", "ludb_learned_targets",
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


#: LUDB's digital samples taken as microvolts: with one gain for all leads the limb leads obey Einthoven's law
#: (I + III = II), the headers' per-lead gains do not (see :func:`load_ludb`); 1000 per mV gives lead ranges
#: of 0.5-3 mV, an assumption the files cannot confirm
LUDB_DIGITAL_PER_MV = 1000.0


def load_ludb(name: str, true_scale: bool = False) -> tuple[Record, list[LeadWaves]]:
    """LUDB record ``name`` (12 leads, 500 Hz, mV) with the waves marked in each of its leads (in the
    record's lead order).

    LUDB 1.0.1's headers give each lead its own gain, the one that makes its 10 s range exactly 1 mV, so as
    stored every lead is scaled on its own and amplitudes cannot be compared between leads (the limb leads
    break Einthoven's law, I + III = II: the residual is 1-235 % of II's SD, median 52 %, over the 200
    records); the digital samples obey it exactly under one common gain. ``true_scale``: the digital samples
    over :data:`LUDB_DIGITAL_PER_MV` (taken as microvolts), the amplitudes voltage criteria, ST levels and axes
    need. The shipped models were trained on the stored scaling."""
    rec = load_record(record_path("ludb", name))
    if true_scale:
        head = wfdb.rdheader(str(record_path("ludb", name).with_suffix("")))
        gains = np.asarray(head.adc_gain, dtype=np.float64)[:, None]
        digital = rec.signal.astype(np.float64) * gains  # the samples less their baseline
        rec = rec.replace(signal=(digital / LUDB_DIGITAL_PER_MV).astype(np.float32),
                          warnings=tuple(w for w in rec.warnings if "Einthoven" not in w))  # now they obey it
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


#: LUDB's conclusions (``ludb.csv`` cells, matched by prefix, case-insensitive) as this project's statement
#: codes (:mod:`ecg_core.interpret`); the same table is in docs/results.md. Codes no criterion makes yet
#: (AFL, WAP, 3AVB, SAB, PACE, ISCH, NSTT, ER) are listed so their cases are counted, not silently dropped.
LUDB_STATEMENTS: tuple[tuple[str, str], ...] = (
    ("Sinus rhythm", "SR"), ("Sinus bradycardia", "SB"), ("Sinus tachycardia", "STACH"),
    ("Sinus arrhythmia", "SARRH"), ("Irregular sinus rhythm", "SARRH"), ("Atrial fibrillation", "AF"),
    ("Atrial flutter", "AFL"), ("Wandering atrial pacemaker", "WAP"),
    ("Electric axis of the heart: normal", "NAXIS"), ("Electric axis of the heart: vertical", "NAXIS"),
    ("Electric axis of the heart: vertical", "VPOS"), ("Electric axis of the heart: horizontal", "NAXIS"),
    ("Electric axis of the heart: horizontal", "HPOS"), ("Electric axis of the heart: left axis deviation", "LAD"),
    ("Electric axis of the heart: right axis deviation", "RAD"),
    ("Incomplete right bundle branch block", "IRBBB"), ("Complete right bundle branch block", "CRBBB"),
    ("Incomplete left bundle branch block", "ILBBB"), ("Complete left bundle branch block", "CLBBB"),
    ("Left anterior hemiblock", "LAFB"), ("I degree av block", "1AVB"), ("Iii degree av-block", "3AVB"),
    ("Non-specific intravintricular conduction delay", "IVCD"), ("Sinoatrial blockade", "SAB"),
    ("Ventricular extrasystole", "PVC"), ("Atrial extrasystole", "PAC"),
    ("Left ventricular hypertrophy", "LVH"), ("Left ventricular overload", "LVH"),
    ("Left atrial hypertrophy", "LAE"), ("Left atrial overload", "LAE"), ("Right atrial hypertrophy", "RAE"),
    ("Right atrial overload", "RAE"), ("Right ventricular hypertrophy", "RVH"),
    ("Stemi", "STE"), ("Scar formation", "QWAVE"), ("Ischemia", "ISCH"), ("Undefined ischemia/scar", "ISCH"),
    ("Non-specific repolarization abnormalities", "NSTT"), ("Early repolarization", "ER"),
    ("Pacemaker presence", "PACE"), ("Unipolar ventricular pacing", "PACE"), ("Bipolar ventricular pacing", "PACE"),
    ("Unipolar atrial pacing", "PACE"), ("Biventricular pacing", "PACE"), ("P-synchrony", "PACE"),
)

_STATEMENT_COLUMNS = ("Rhythms", "Electric axis of the heart", "Conduction abnormalities", "Extrasystolies",
                      "Hypertrophies", "Cardiac pacing", "Ischemia", "Non-specific repolarization abnormalities",
                      "Other states")


def ludb_statements(csv_path: str | Path | None = None) -> dict[str, frozenset[str]]:
    """Each LUDB record's conclusions as statement codes (:data:`LUDB_STATEMENTS`). A cell no row matches
    raises ValueError naming it: the table must cover every conclusion the file holds."""
    import pandas as pd

    if csv_path is None:
        root = data_dir()
        if root is None or not (root / "ludb" / "ludb.csv").exists():
            raise FileNotFoundError("LUDB not found: set ECG_DATA_DIR to a folder holding ludb/ludb.csv")
        csv_path = root / "ludb" / "ludb.csv"
    out = {}
    for _, r in pd.read_csv(csv_path).iterrows():
        codes = set()
        for col in _STATEMENT_COLUMNS:
            for cell in _cells(r[col]):
                rows = [(text, code) for text, code in LUDB_STATEMENTS if cell.lower().startswith(text.lower())]
                # the most specific text's codes (a cell may map to two: an axis and its position)
                hit = [code for text, code in rows if len(text) == max(len(t) for t, _ in rows)]
                if not hit:
                    if cell == "Aberrant conduction":  # a beat's conduction, noted beside its rhythm
                        continue
                    raise ValueError(f"LUDB record {r['ID']}: no statement code for {cell!r}")
                codes.update(hit)
                if col == "Ischemia" and ":" in cell:  # the wall: "Stemi: anterior wall"
                    wall = ISCHAEMIA_WALLS.get(cell.rsplit(":", 1)[1].strip().lower())
                    if wall is None:
                        raise ValueError(f"LUDB record {r['ID']}: no wall code for {cell!r}")
                    codes.add(wall)
        out[str(int(r["ID"]))] = frozenset(codes)
    return out


#: LUDB's walls (the Ischemia column's "...: wall") as territory codes of ischaemia or scar of any kind
#: (STEMI, scar, ischaemia, undefined): anterior, septal and apical walls together (the LAD territory), the
#: lateral wall, and the inferior and posterior walls together (the RCA/LCx territory)
ISCHAEMIA_WALLS = {"anterior wall": "ISCH_ANT", "septal": "ISCH_ANT", "apical": "ISCH_ANT",
                   "lateral wall": "ISCH_LAT", "inferior wall": "ISCH_INF", "posterior wall": "ISCH_INF"}

#: the statements the 12-lead model learns from LUDB's conclusions, where criteria are weak
#: (:mod:`ecg_core.train.multimodal`, ``targets="statements"``): code -> (printed text, category)
LEARNED_STATEMENTS = {
    "LVH": ("Left ventricular hypertrophy", "hypertrophy"),
    "LAE": ("Left atrial enlargement", "hypertrophy"),
    "RAE": ("Right atrial enlargement", "hypertrophy"),
    "ISCH_ANT": ("Ischaemia or scar, anterior (anterior, septal or apical wall)", "ischaemia"),
    "ISCH_LAT": ("Ischaemia or scar, lateral wall", "ischaemia"),
    "ISCH_INF": ("Ischaemia or scar, inferior (inferior or posterior wall)", "ischaemia"),
    "NSTT": ("Nonspecific ST-T abnormality", "repolarisation"),
    "ER": ("Early repolarisation", "repolarisation"),
}


def ludb_learned_targets(names: list[str] | None = None, csv_path: str | Path | None = None) -> np.ndarray:
    """``(n, len(LEARNED_STATEMENTS))`` 0/1 targets of LUDB records (default all, in ``ludb_diagnoses``
    order) from their statement codes (:func:`ludb_statements`)."""
    truth = ludb_statements(csv_path)
    names = names or sorted(truth, key=int)
    return np.array([[int(c in truth[n]) for c in LEARNED_STATEMENTS] for n in names], dtype=np.int64)
