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


_HEAD_BYTES = 1 << 18  # the part of the file read to find the separator, the header and a units row
_NA = ["", "nan", "NaN", "NAN", "Nan", "na", "NA", "null", "NULL", "Null"]


def _head_lines(path: Path, what: str) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4 or len(head) < _HEAD_BYTES:  # not a character cut at the head's end
            raise RecordFormatError(f"{what}: this is not a text file (CSV/TSV expected).") from None
        text = head[:exc.start].decode("utf-8-sig")
    lines = text.splitlines()
    return lines[:-1] if len(head) == _HEAD_BYTES and len(lines) > 1 else lines  # the last may be cut


def _parse_error(exc: Exception, what: str) -> RecordFormatError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if m:
        return RecordFormatError(f"{what}: row {m.group(2)} has {m.group(3)} values but the header has {m.group(1)} "
                                 "columns (ragged rows).")
    return RecordFormatError(f"{what}: the table cannot be parsed ({exc}).")


def read_csv(path: str | Path, *, fs: float | None = None, units: str | None = None,
             display_name: str | None = None) -> Record:
    """Read a CSV/TSV of leads (columns) over time (rows).

    Header: lead names; a column named ``time``/``time_s``/``time_ms`` gives ``fs`` (else pass ``fs``).
    A second header row of units like ``'(mV)'`` (PhysioNet exports) is understood. ``units`` overrides.
    Columns may be split by ',', ';', tabs or spaces; numbers may use a decimal comma ('0,125', as
    European spreadsheets export them with ';' between columns).
    Raises RecordFormatError for text cells, ragged rows or no rows, naming the row and column.

    Memory: pandas parses numbers straight into float arrays (about 3 x the file at peak, measured by
    ``bench/memory.py``); only a column that holds text is read again as strings, to name the bad cell.
    """
    path = Path(path)
    what = display_name or path.name
    raw_lines = _head_lines(path, what)
    lines = [ln for ln in raw_lines if ln.strip()]
    if not lines:
        raise RecordFormatError(f"{what}: the file is empty.")
    if path.suffix.lower() == ".tsv":
        sep = "\t"
    else:
        try:
            sep = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t ").delimiter
        except csv.Error:
            sep = ","
    opts = dict(sep=sep, skipinitialspace=True, keep_default_na=False, engine="c")
    try:
        head = pd.read_csv(io.StringIO("\n".join(lines[:3])), dtype=str, **opts)
    except pd.errors.ParserError as exc:
        raise _parse_error(exc, what) from None
    except pd.errors.EmptyDataError:
        raise RecordFormatError(f"{what}: the file is empty.") from None
    col_units: dict[str, str] = {}
    skip = None
    if len(head) and all(_UNIT_RE.match(_clean(v) or "x") for v in head.iloc[0]):
        col_units = {_clean(c): _clean(v).strip("()").strip() for c, v in zip(head.columns, head.iloc[0])}
        skip = [raw_lines.index(lines[1])] if lines[1] in raw_lines else None
    try:
        df = pd.read_csv(path, na_values=_NA, encoding="utf-8-sig", skiprows=skip, low_memory=False, **opts)
    except UnicodeDecodeError:
        raise RecordFormatError(f"{what}: this is not a text file (CSV/TSV expected).") from None
    except pd.errors.ParserError as exc:
        raise _parse_error(exc, what) from None
    except pd.errors.EmptyDataError:
        raise RecordFormatError(f"{what}: the file is empty.") from None
    except (ValueError, OverflowError, MemoryError) as exc:
        raise RecordFormatError(f"{what}: the table cannot be parsed ({exc}).") from None
    if col_units and skip is None and len(df):  # a units row pandas could not be told to skip: drop it here
        df = df.iloc[1:]
    df.columns = [_clean(c) for c in df.columns]
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
        values[j] = _numbers(df[c], c, what, bool(col_units))
    if time_col is not None:
        try:
            t = _numbers(df[time_col], time_col, what, bool(col_units)) if df[time_col].dtype == object \
                else df[time_col].to_numpy(dtype=np.float64)
        except RecordFormatError:
            t = np.array([np.nan])
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
    values *= np.asarray(factors)[:, None]  # in place: a long record is not copied again
    rec = Record(signal=values.astype(np.float32), fs=round(fs, 6), lead_names=tuple(lead_cols), name=path.stem,
                 metadata={"source_format": "CSV"})
    return finish(rec, what, units_given=units)


def _numbers(col: pd.Series, name: str, what: str, units_row_dropped: bool) -> np.ndarray:
    """A column as float64; for a column pandas left as text, the first cell that is not a number is
    named by its row (the file's line number, header counted)."""
    if col.dtype != object:
        return col.to_numpy(dtype=np.float64)
    txt = col.astype(str).str.strip()
    empty = txt == ""
    if _decimal_commas(txt[~empty]):  # European exports: '0,125' (columns split by ';' or tabs)
        txt = txt.str.replace(",", ".", regex=False)
    num = pd.to_numeric(txt.where(~empty, "nan"), errors="coerce")
    bad = num.isna() & ~empty & ~txt.str.lower().isin({"nan", "na", "null"}) & col.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        cell = txt.iloc[row]
        hint = (" Numbers are read with '.' or ',' as the decimal mark, not a mix of both in one column."
                if _DECIMAL_COMMA.match(col.astype(str).iloc[row].strip()) else "")
        raise RecordFormatError(
            f"{what}: column {name!r} holds text where a number is expected "
            f"(row {row + 2 + units_row_dropped}: {cell!r}).{hint}"
        )
    return num.to_numpy(dtype=np.float64)


_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")


def _decimal_commas(cells: pd.Series) -> bool:
    """Whether a text column writes its numbers with a decimal comma: no cell holds a '.', and the
    cells with a comma are all numbers written that way."""
    if not len(cells) or cells.str.contains(".", regex=False).any():
        return False
    has = cells[cells.str.contains(",", regex=False)]
    return bool(len(has)) and bool(has.str.match(_DECIMAL_COMMA).all())


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
