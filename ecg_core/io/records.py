"""Databases on disk: where ``ECG_DATA_DIR`` points and which records each database folder holds."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir", "find_records", "record_path", "MITDB_RECORDS", "MITDB_PACED"]

MITDB_RECORDS = tuple(str(r) for r in (
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119, 121, 122,
    123, 124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212, 213, 214, 215, 217, 219, 220, 221, 222, 223,
    228, 230, 231, 232, 233, 234))
MITDB_PACED = ("102", "104", "107", "217")


def data_dir() -> Path | None:
    """The folder named by ``ECG_DATA_DIR`` (one sub-folder per database), or None when unset/absent."""
    env = os.environ.get("ECG_DATA_DIR")
    if not env:
        return None
    p = Path(env).expanduser()
    return p if p.is_dir() else None


def _db_folder(db: str) -> Path | None:
    root = data_dir()
    if root is None or not (root / db).is_dir():
        return None
    folder = root / db
    # LUDB keeps its records in a data/ sub-folder
    return folder / "data" if (folder / "data").is_dir() and not list(folder.glob("*.hea")) else folder


def find_records(db: str | None = None) -> dict[str, list[str]]:
    """Records found under ``ECG_DATA_DIR``: ``{db: [record names]}`` (a header is a record)."""
    root = data_dir()
    if root is None:
        return {}
    dbs = [db] if db else sorted(p.name for p in root.iterdir() if p.is_dir())
    found = {}
    for name in dbs:
        folder = _db_folder(name)
        if folder is None:
            continue
        recs = sorted((p.stem for p in folder.glob("*.hea")), key=lambda s: (len(s), s))
        if recs:
            found[name] = recs
    return found


def record_path(db: str, record: str) -> Path:
    """Path of ``record``'s header in database ``db`` under ``ECG_DATA_DIR``; FileNotFoundError if absent."""
    folder = _db_folder(db)
    if folder is None:
        raise FileNotFoundError(f"database {db!r} not found under ECG_DATA_DIR")
    path = folder / f"{record}.hea"
    if not path.exists():
        raise FileNotFoundError(f"record {record!r} not found in {db}")
    return path
