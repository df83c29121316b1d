"""Weights integrity: every shipped file loads only as the exact bytes its model card measured; a tampered,
truncated, card-less or code-carrying file is refused with a message, on the page too."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from ecg_core.checkpoints import atomic_write_text, load_checkpoint, save_checkpoint
from ecg_core.errors import ECGError, WeightsIntegrityError
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "weights").glob("*.pt"))


def _copy(src, tmp_path):
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    shutil.copyfile(src.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_weights_match_their_cards_and_refuse_tampering(path, tmp_path):
    payload, card = load_checkpoint(path)  # loads: the bytes are the ones the card measured
    assert card["file"] == path.name and payload
    w = _copy(path, tmp_path)
    data = bytearray(w.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, deep inside a tensor
    w.write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="does not match its model card"):
        load_checkpoint(w)
    w.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(WeightsIntegrityError, match="changed or truncated"):
        load_checkpoint(w)


def test_missing_or_damaged_card_is_refused(tmp_path):
    p = tmp_path / "m.pt"
    save_checkpoint({"state_dict": {"w": torch.ones(3)}}, p, {"architecture": "test"})
    assert load_checkpoint(p)[0]["state_dict"]["w"].sum() == 3
    p.with_suffix(".json").write_text("{not json")
    with pytest.raises(WeightsIntegrityError, match="damaged"):
        load_checkpoint(p)
    p.with_suffix(".json").unlink()
    with pytest.raises(WeightsIntegrityError, match="model card m.json is missing"):
        load_checkpoint(p)
    with pytest.raises(WeightsIntegrityError, match="missing"):
        load_checkpoint(tmp_path / "absent.pt")


class _RunsCode:
    def __reduce__(self):
        return (print, ("this would run on load",))


def test_a_pickle_that_would_run_code_is_refused_even_with_a_matching_card(tmp_path):
    """Someone who replaces a file and its card's hash still cannot run code: weights_only unpickling."""
    import hashlib

    p = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "extra": _RunsCode()}, p)
    card = {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    atomic_write_text(p.with_suffix(".json"), json.dumps(card))
    with pytest.raises(WeightsIntegrityError, match="cannot be loaded safely|can be loaded safely"):
        load_checkpoint(p)


def test_integrity_errors_are_project_errors():
    assert issubclass(WeightsIntegrityError, ECGError) and issubclass(WeightsIntegrityError, ValueError)


@pytest.mark.skipif(not (ROOT / "weights" / "beat_diagnostic.pt").exists(), reason="no shipped beat model")
def test_diagnosis_page_names_a_tampered_beat_model(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    import app_pages._common as common

    bad = _copy(ROOT / "weights" / "beat_diagnostic.pt", tmp_path)  # a weights folder with one damaged file
    bad.write_bytes(bad.read_bytes()[:-100])
    monkeypatch.setenv("ECG_WEIGHTS_DIR", str(bad.parent))  # the one resolver every loader asks
    common._load_beat_model.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page("app_pages/diagnosis.py").run()
        assert not at.exception
        assert any("beat_diagnostic.pt" in e.value and "does not match its model card" in e.value for e in at.error)
    finally:
        common._load_beat_model.clear()
