"""Shared fixtures: real databases via ECG_DATA_DIR (tests skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ECG_DEBUG", "1")  # app.py re-raises unexpected page errors instead of a message
ROOT = Path(__file__).resolve().parents[1]


def _db(name: str) -> Path | None:
    env = os.environ.get("ECG_DATA_DIR")
    if not env:
        return None
    p = Path(env) / name
    return p if p.is_dir() else None


def _db_or_skip(name: str, what: str) -> Path:
    p = _db(name)
    if p is None:
        pytest.skip(f"{what} not found: set ECG_DATA_DIR to a folder holding {name}/")
    return p


@pytest.fixture(scope="session")
def mitdb() -> Path:
    return _db_or_skip("mitdb", "MIT-BIH")


@pytest.fixture(scope="session")
def ludb() -> Path:
    p = _db_or_skip("ludb", "LUDB")
    return p / "data" if (p / "data").is_dir() else p


@pytest.fixture(scope="session")
def cinc2017() -> Path:
    return _db_or_skip("cinc2017", "CinC 2017")


@pytest.fixture(scope="session")
def wfdb_samples() -> Path:
    return _db_or_skip("wfdb-samples", "wfdb-samples")


@pytest.fixture
def ecg_like():
    """A seeded 3-lead synthetic ECG (12 s at 250 Hz) from the demo generator, as (signal, fs)."""
    from ecg_core.data import demo_record

    rec = demo_record(duration_s=12.0, fs=250.0, seed=3)
    return rec.signal[[1, 6, 10]], rec.fs


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def demo_csv(tmp_path) -> Path:
    from ecg_core.data import demo_record

    rec = demo_record(duration_s=6.0, fs=250.0)
    t = np.arange(rec.n_samples) / rec.fs
    lines = ["time,II,V1"] + [f"{a:.4f},{b:.4f},{c:.4f}" for a, b, c in zip(t, rec.signal[1], rec.signal[6])]
    return write_csv(tmp_path / "demo.csv", "\n".join(lines) + "\n")
