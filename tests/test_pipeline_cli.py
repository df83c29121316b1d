"""The full read (pipeline.analyse) and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg_core.cli import main
from ecg_core.data import demo_record
from ecg_core.io import load_record
from ecg_core.pipeline import FilterSettings, analyse


def test_demo_analysis_finds_the_ectopic_beats():
    res = analyse(demo_record())
    assert len(res.r_idx) == 12
    assert list(res.beats["label"]).count("V") == 2 and list(res.beats["label"]).count("A") == 1
    assert res.rhythm_lead == "II"
    assert 65 < res.heart_rate.mean_bpm < 80


def test_mitdb_100_heart_rate_and_labels(mitdb):
    res = analyse(load_record(mitdb / "100.hea"), FilterSettings(0.5, 40, 60))
    assert res.heart_rate.n_beats == pytest.approx(2273, abs=3)
    assert res.heart_rate.mean_bpm == pytest.approx(75.5, abs=0.5)  # 2273 beats in 30:05
    assert (res.beats["label"] == "A").sum() == 33  # all 33 APCs of record 100 are matched
    assert res.filtered.shape == (2, 650000)


def test_cli_analyse_writes_json_csv_and_wfdb(tmp_path, mitdb, capsys):
    rc = main(["analyse", str(mitdb / "101.hea"), "--json", str(tmp_path / "s.json"),
               "--beats-csv", str(tmp_path / "b.csv"), "--wfdb-dir", str(tmp_path / "w")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "beats: 18" in out and "heart rate: mean" in out
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["n_beats"] == pytest.approx(1865, abs=5) and s["quality"]["MLII"]["label"] == "good"
    back = load_record(tmp_path / "w" / "101.hea")
    assert len(back.annotations["qrs"]) == s["n_beats"]
    assert np.allclose(back.signal, load_record(mitdb / "101.hea").signal, atol=2e-3)


def test_cli_reports_bad_input_without_traceback(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("time,II\n0,1\n0.004,abc\n")
    assert main(["analyse", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.csv:") and "Traceback" not in err


def test_cli_evaluate_rpeaks_json(tmp_path, mitdb, monkeypatch):
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    path = tmp_path / "r.json"
    assert main(["evaluate", "rpeaks", "--db", "mitdb", "--records", "100", "203", "--json", str(path)]) == 0
    res = json.loads(path.read_text())
    assert {"se", "ppv", "tp", "fn", "fp", "n_records", "seconds"} <= set(res)
    assert res["n_records"] == 2 and res["tp"] + res["fn"] == 2273 + 2980
    assert res["se"] > 0.985 and res["ppv"] > 0.995


def test_cli_data_list(monkeypatch, mitdb, capsys):
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    assert main(["data", "list"]) == 0
    assert "mitdb: 48 records" in capsys.readouterr().out


def test_cli_read_prints_statements_with_evidence_and_writes_the_versioned_json(tmp_path, capsys):
    from ecg_core.io import write_wfdb

    hea = write_wfdb(demo_record(), tmp_path)
    assert main(["read", str(hea), "--json", str(tmp_path / "read.json")]) == 0
    out = capsys.readouterr().out
    assert "Statements (unconfirmed: requires physician review):" in out and "Measurements: Heart rate" in out
    got = json.loads((tmp_path / "read.json").read_text())
    assert got["schema"] == "ecg_core.read/1" and got["leads"] == list(demo_record().lead_names)
    assert got["statements"] and all(s["evidence"] and s["reference"] for s in got["statements"])
    assert got["beat_classes"]["V"] == 2  # the demo's two premature ventricular beats
    assert "PVC" in {s["code"] for s in got["statements"]}


def test_cli_read_of_a_ludb_record(ludb, capsys, tmp_path):
    assert main(["read", str(ludb / "24.hea"), "--no-beats", "--pdf", str(tmp_path / "r.pdf"),
                 "--html", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert "QRS duration" in out and "Statements" in out
    assert "Complete left bundle branch block" in out  # LUDB 24: complete LBBB by its cardiologists
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Complete left bundle branch block" in (tmp_path / "r.html").read_text()


def test_training_command_in_a_card_holds_no_path_of_the_machine(tmp_path, monkeypatch):
    from ecg_core.cli import _portable

    monkeypatch.chdir(tmp_path)
    assert _portable(str(tmp_path / "weights" / "m.pt")) == "weights/m.pt"
    assert _portable("/elsewhere/runs/stmt") == "DIR/stmt"
    assert _portable("--run-dir=/elsewhere/runs/stmt/") == "--run-dir=DIR/stmt"
    assert _portable("--epochs") == "--epochs" and _portable("runs/x") == "runs/x"
