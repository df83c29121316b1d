"""Zip archives (one record inside, safely unpacked) and the PhysioNet downloader's offline message."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from ecg_core.errors import DataUnavailableError, FileTooLargeError, RecordFormatError
from ecg_core.io import load_record


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_with_wfdb_record_in_a_folder(mitdb, tmp_path):
    members = {f"mit/101.{e}": (mitdb / f"101.{e}").read_bytes() for e in ("hea", "dat", "atr")}
    rec = load_record(_zip(tmp_path / "r.zip", members))
    assert rec.name == "101" and rec.signal.shape == (2, 650000)
    assert "atr" in rec.annotations


def test_zip_with_one_csv(tmp_path, demo_csv):
    rec = load_record(_zip(tmp_path / "c.zip", {"readme.md": b"hi", "demo.csv": demo_csv.read_bytes()}))
    assert rec.lead_names == ("II", "V1")


def test_zip_without_header(tmp_path, mitdb):
    p = _zip(tmp_path / "n.zip", {"101.dat": (mitdb / "101.dat").read_bytes()[:1000], "notes.txt.bak": b"x"})
    with pytest.raises(RecordFormatError, match="one WFDB header"):
        load_record(p)


def test_zip_path_traversal_is_refused_and_nothing_written(tmp_path):
    p = _zip(tmp_path / "t.zip", {"../../evil.hea": b"evil 1 250 1000\n", "ok.txt": b"x"})
    with pytest.raises(RecordFormatError, match="unsafe file name"):
        load_record(p)
    assert not (tmp_path.parent / "evil.hea").exists()


def test_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    monkeypatch.setenv("ECG_MAX_UNPACKED_MB", "5")
    p = _zip(tmp_path / "b.zip", {"big.csv": b"0" * 20_000_000})  # compresses to ~20 kB
    assert p.stat().st_size < 100_000
    with pytest.raises(FileTooLargeError, match="unpacks to 20 MB, over the 5 MB"):
        load_record(p)


def test_zip_with_too_many_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ECG_MAX_ARCHIVE_FILES", "10")
    p = _zip(tmp_path / "m.zip", {f"f{i}.txt": b"x" for i in range(11)})
    with pytest.raises(FileTooLargeError, match="holds 11 files"):
        load_record(p)


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(np.arange(100).tobytes())
    with pytest.raises(RecordFormatError, match="not a readable zip"):
        load_record(tmp_path / "x.zip")


def test_download_offline_gives_a_clear_message(monkeypatch, tmp_path):
    import wfdb

    def offline(*a, **k):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(wfdb, "dl_database", offline)
    from ecg_core.io.physionet import download

    with pytest.raises(DataUnavailableError, match="could not download mitdb from PhysioNet.*internet"):
        download("mitdb", dest=tmp_path)
    with pytest.raises(DataUnavailableError, match="unknown database 'nope'; known: incartdb, ludb, mitdb"):
        download("nope", dest=tmp_path)
