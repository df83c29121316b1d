"""PTB-XL (Wagner et al. 2020): 21,799 10 s 12-lead records with SCP-ECG statements, the standard 12-lead
benchmark. Not shipped here; a user with it under ``ECG_DATA_DIR/ptbxl`` gets the loader below.

Labels follow the benchmark's ``superdiagnostic`` task (Strodthoff et al. 2021): every statement of a
record's ``scp_codes`` that ``scp_statements.csv`` marks as diagnostic maps to its ``diagnostic_class``
(NORM, MI, STTC, CD, HYP), whatever its likelihood. Split by ``strat_fold``: 1-8 train, 9 validation,
10 test. Signals: ``records100`` (100 Hz) by default, ``records500`` on request.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from ..io import load_record
from ..io.records import data_dir
from ..record import Record

__all__ = ["SUPERCLASSES", "PTBXL_SPLITS", "PTBXL_STATEMENTS", "PTBXL_AXES", "ptbxl_index", "load_ptbxl_record",
           "ptbxl_arrays", "ptbxl_statements", "ptbxl_root"]

SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
PTBXL_SPLITS = {"train": tuple(range(1, 9)), "val": (9,), "test": (10,)}


def ptbxl_root(root: str | Path | None = None) -> Path:
    """PTB-XL's folder: ``root``, else ECG_DATA_DIR/ptbxl (FileNotFoundError naming where to put it)."""
    if root is not None:
        return Path(root)
    base = data_dir()
    if base is None or not (base / "ptbxl" / "ptbxl_database.csv").exists():
        raise FileNotFoundError("PTB-XL not found: put it under ECG_DATA_DIR/ptbxl (ptbxl_database.csv, "
                                "scp_statements.csv, records100/) or run `python -m ecg_core data download ptbxl`")
    return base / "ptbxl"


def ptbxl_index(root: str | Path | None = None):
    """``ptbxl_database.csv`` indexed by ``ecg_id`` with ``superclasses`` (tuple), one 0/1 column per
    superclass, ``split`` (train/val/test) and metadata (age, sex as "M"/"F", height, weight; NaN when
    unknown)."""
    import pandas as pd

    root = ptbxl_root(root)
    df = pd.read_csv(root / "ptbxl_database.csv", index_col="ecg_id")
    scp = pd.read_csv(root / "scp_statements.csv", index_col=0)
    diag = scp[scp["diagnostic"] == 1]["diagnostic_class"].to_dict()

    def supers(codes: str) -> tuple[str, ...]:
        found = {diag[c] for c in ast.literal_eval(codes) if c in diag}
        return tuple(c for c in SUPERCLASSES if c in found)

    df["superclasses"] = df["scp_codes"].map(supers)
    for c in SUPERCLASSES:
        df[c] = df["superclasses"].map(lambda s, c=c: int(c in s))
    fold_split = {f: name for name, folds in PTBXL_SPLITS.items() for f in folds}
    df["split"] = df["strat_fold"].map(fold_split)
    df["sex"] = df["sex"].map({0: "M", 1: "F"})  # PTB-XL: 0 male, 1 female
    return df


def load_ptbxl_record(row, root: str | Path | None = None, rate: int = 100) -> Record:
    """The Record of one row of :func:`ptbxl_index` (``rate`` 100 or 500 Hz), with age, sex, height and
    weight in its metadata."""
    root = ptbxl_root(root)
    column = {100: "filename_lr", 500: "filename_hr"}[rate]
    rec = load_record(root / f"{row[column]}.hea")
    meta = {**rec.metadata, **{k: (None if row[k] != row[k] else row[k]) for k in ("age", "sex", "height", "weight")}}
    return rec.replace(metadata=meta, name=str(row.name))


def ptbxl_arrays(split: str, root: str | Path | None = None, rate: int = 100,
                 limit: int | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Signals ``(n, 12, 10 * rate)`` (mV), superclass targets ``(n, 5)`` and record ids of a split."""
    df = ptbxl_index(root)
    df = df[df["split"] == split]
    if limit:
        df = df.iloc[:limit]
    xs = [load_ptbxl_record(row, root, rate).signal[:, :10 * rate] for _, row in df.iterrows()]
    return np.stack(xs).astype(np.float32), df[list(SUPERCLASSES)].to_numpy(), [str(i) for i in df.index]


#: PTB-XL's SCP-ECG statements (``scp_codes``, any likelihood) as this project's statement codes; the
#: ``heart_axis`` column gives the axis (MID normal, LAD / ALAD left, RAD / ARAD right)
PTBXL_STATEMENTS = {
    "SR": "SR", "SBRAD": "SB", "STACH": "STACH", "SARRH": "SARRH", "AFIB": "AF", "AFLT": "AFL", "PACE": "PACE",
    "1AVB": "1AVB", "3AVB": "3AVB", "CRBBB": "CRBBB", "IRBBB": "IRBBB", "CLBBB": "CLBBB", "ILBBB": "ILBBB",
    "LAFB": "LAFB", "LPFB": "LPFB", "IVCD": "IVCD", "WPW": "WPW", "LVH": "LVH", "RVH": "RVH", "LAO/LAE": "LAE",
    "RAO/RAE": "RAE", "LVOLT": "LVOLT", "LNGQT": "LQT", "PVC": "PVC", "PAC": "PAC", "NORM": "NORM",
}
PTBXL_AXES = {"MID": "NAXIS", "LAD": "LAD", "ALAD": "LAD", "RAD": "RAD", "ARAD": "RAD"}


def ptbxl_statements(root: str | Path | None = None, folds: tuple[int, ...] | None = None) -> dict[str, frozenset[str]]:
    """Each PTB-XL record's statements as statement codes (:data:`PTBXL_STATEMENTS`, :data:`PTBXL_AXES`),
    by ``ecg_id``; only records of ``folds`` (``strat_fold``) when given."""
    df = ptbxl_index(root)
    if folds is not None:
        df = df[df["strat_fold"].isin(folds)]
    out = {}
    for eid, row in df.iterrows():
        codes = {PTBXL_STATEMENTS[c] for c in ast.literal_eval(row["scp_codes"]) if c in PTBXL_STATEMENTS}
        axis = row.get("heart_axis")
        if isinstance(axis, str) and axis in PTBXL_AXES:
            codes.add(PTBXL_AXES[axis])
        out[str(eid)] = frozenset(codes)
    return out
