"""Delimited text (CSV/TSV): one column per lead with a header row, optionally a time column.

pandas parses; this module decides what the columns mean and says precisely what is wrong when a file
is not a table of numbers (which row, which column).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RecordFormatError, RecordValueError
from ..record import Record
from ._checks import check_fs, finish, to_mv_factor

__all__ = ["read_csv"]

_TIME_COLS = {"time": 1.0, "t": 1.0, "time_s": 1.0, "seconds": 1.0, "sec": 1.0, "s": 1.0,
              "elapsed time": 1.0, "time_ms": 1e-3, "ms": 1e-3, "milliseconds": 1e-3}
_INDEX_COLS = {"sample", "sample #", "sample#", "index", "sample_idx", "n"}
_UNIT_RE = re.compile(r"^\(?\s*(mv|uv|µv|μv|v|s|sec|ms|hh:mm:ss\.mmm)\s*\)?$", re.IGNORECASE)


def _clean(name: str) -> str:
    return str(name).strip().strip("'\"").strip()


def read_csv(path: str | Path, *, fs: float | None = None, units: str | None = None,
             display_name: str | None = None) -> Record:
    """Read a CSV/TSV of leads (columns) over time (rows).

    Header: lead names; a column named ``time``/``time_s``/``time_ms`` gives ``fs`` (else pass ``fs``).
    A second header row of units like ``'(mV)'`` (PhysioNet exports) is understood. ``units`` overrides.
    Raises RecordFormatError for text cells, ragged rows or no rows, naming the row and column.
    """
    path = Path(path)
    what = display_name or path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordFormatError(f"{what}: this is not a text file (CSV/TSV expected).") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise RecordFormatError(f"{what}: the file is empty.")
    if path.suffix.lower() == ".tsv":
        sep = "\t"
    else:
        try:
            sep = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ").delimiter
        except csv.Error:
            sep = ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, dtype=str,
                         keep_default_na=False, engine="c")
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise RecordFormatError(
                f"{what}: row {m.group(2)} has {m.group(3)} values but the header has {m.group(1)} columns "
                "(ragged rows)."
            ) from None
        raise RecordFormatError(f"{what}: the table cannot be parsed ({exc}).") from None
    except pd.errors.EmptyDataError:
        raise RecordFormatError(f"{what}: the file is empty.") from None
    df.columns = [_clean(c) for c in df.columns]
    col_units: dict[str, str] = {}
    if len(df) and all(_UNIT_RE.match(_clean(v) or "x") for v in df.iloc[0]):
        col_units = {c: _clean(v).strip("()").strip() for c, v in zip(df.columns, df.iloc[0])}
        df = df.iloc[1:]
    if len(df) == 0:
        raise RecordFormatError(f"{what}: the table has a header but no rows of samples.")
    if any(c.lower().startswith("unnamed") or c == "" for c in df.columns) or all(
            _is_number(c) for c in df.columns):
        raise RecordFormatError(
            f"{what}: the first row must name the leads (for example: time,I,II,V1); found "
            f"{', '.join(map(str, df.columns[:6]))}."
        )
    time_col = next((c for c in df.columns if c.lower() in _TIME_COLS), None)
    lead_cols = [c for c in df.columns if c != time_col and c.lower() not in _INDEX_COLS]
    if not lead_cols:
        raise RecordFormatError(f"{what}: no lead columns found (only {', '.join(df.columns)}).")
    values = np.empty((len(lead_cols), len(df)), dtype=np.float64)
    for j, c in enumerate(lead_cols):
        col = df[c].str.strip()
        empty = col == ""
        num = pd.to_numeric(col.where(~empty, "nan"), errors="coerce")
        bad = num.isna() & ~empty & ~col.str.lower().isin({"nan", "na", "null"})
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise RecordFormatError(
                f"{what}: column {c!r} holds text where a number is expected "
                f"(row {row + 2 + bool(col_units)}: {col.iloc[row]!r})."
            )
        values[j] = num.to_numpy(dtype=np.float64)
    if time_col is not None:
        t = pd.to_numeric(df[time_col].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
        scale = _TIME_COLS[time_col.lower()]
        unit = col_units.get(time_col, "").lower()
        if unit in {"ms"}:
            scale = 1e-3
        if np.isnan(t).any() or len(t) < 2:
            raise RecordFormatError(f"{what}: the time column {time_col!r} has missing or non-numeric values.")
        t = t * scale
        dt = np.diff(t)
        if float(np.median(dt)) <= 0 or np.any(dt <= 0):
            raise RecordValueError(f"{what}: the time column {time_col!r} does not increase.")
        # times printed to a fixed resolution (e.g. ms at 360 Hz) jitter around the true grid: accept a
        # quarter of a step of rounding; a missing or repeated sample moves the grid by a whole step
        step = float((t[-1] - t[0]) / (len(t) - 1))
        if np.max(np.abs(t - (t[0] + step * np.arange(len(t))))) > 0.25 * step + 1e-9:
            raise RecordValueError(f"{what}: the time column {time_col!r} is not evenly spaced (samples missing or "
                                   "irregular); resample first.")
        fs_from_time = 1.0 / step
        if fs is not None and abs(float(fs) - fs_from_time) > 0.01 * fs_from_time:
            raise RecordValueError(
                f"{what}: the rate given ({float(fs):g} Hz) disagrees with the time column ({fs_from_time:.4g} Hz)."
            )
        fs = fs_from_time if fs is None else fs
    fs = check_fs(fs, what)
    factors = []
    for c in lead_cols:
        unit = units or col_units.get(c) or "mV"
        factors.append(to_mv_factor(unit, what))
    signal = values * np.asarray(factors)[:, None]
    rec = Record(signal=signal.astype(np.float32), fs=round(fs, 6), lead_names=tuple(lead_cols), name=path.stem,
                 metadata={"source_format": "CSV"})
    return finish(rec, what, units_given=units is not None)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
