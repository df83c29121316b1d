"""Download PhysioNet databases or single records into ``ECG_DATA_DIR`` (through wfdb's downloader)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import wfdb

from ..errors import DataUnavailableError

__all__ = ["download", "KNOWN_DATABASES", "cache_dir"]

log = logging.getLogger(__name__)

#: database name -> PhysioNet slug (version folder)
KNOWN_DATABASES = {"mitdb": "mitdb/1.0.0", "ludb": "ludb/1.0.1", "ptbxl": "ptb-xl/1.0.3", "qtdb": "qtdb/1.0.0",
                   "nsrdb": "nsrdb/1.0.0", "incartdb": "incartdb/1.0.0"}


def cache_dir() -> Path:
    """Where downloads go: ``ECG_DATA_DIR`` if set, else ``~/.cache/ecg_core/data``."""
    env = os.environ.get("ECG_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ecg_core" / "data"


def download(db: str, records: list[str] | None = None, dest: str | Path | None = None) -> Path:
    """Fetch database ``db`` (all records, or ``records``) into ``dest`` (default :func:`cache_dir`/``db``).

    Raises DataUnavailableError with a plain message when the name is unknown or PhysioNet cannot be
    reached (no internet); files already there are kept.
    """
    if db not in KNOWN_DATABASES:
        raise DataUnavailableError(f"unknown database {db!r}; known: {', '.join(sorted(KNOWN_DATABASES))}.")
    target = Path(dest) if dest else cache_dir() / db
    target.mkdir(parents=True, exist_ok=True)
    try:
        wfdb.dl_database(KNOWN_DATABASES[db].split("/")[0], dl_dir=str(target), records=records or "all",
                         annotators="all", keep_subdirs=True, overwrite=False)
    except (OSError, ConnectionError, TimeoutError) as exc:
        raise DataUnavailableError(
            f"could not download {db} from PhysioNet ({type(exc).__name__}: {exc}). Check the internet "
            f"connection, or copy the database into {target} by hand."
        ) from None
    except Exception as exc:  # requests' own errors are not OSError subclasses in every version
        if type(exc).__module__.startswith(("requests", "urllib3")):
            raise DataUnavailableError(
                f"could not download {db} from PhysioNet: the server cannot be reached ({type(exc).__name__})."
            ) from None
        raise
    log.info("downloaded %s into %s", db, target)
    return target
