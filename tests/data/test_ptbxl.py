"""PTB-XL loader on a small fixture written in PTB-XL's own format."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from ecg_core.data.ptbxl import SUPERCLASSES, load_ptbxl_record, ptbxl_arrays, ptbxl_index

LEADS = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]


@pytest.fixture
def ptbxl_dir(tmp_path):
    root = tmp_path / "ptbxl"
    (root / "records100" / "00000").mkdir(parents=True)
    rows = [  # ecg_id, patient, age, sex, height, weight, scp_codes, strat_fold
        (1, 15709, 56.0, 1, "", 63.0, "{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}", 3),
        (2, 13243, 19.0, 0, "", 70.0, "{'IMI': 35.0, 'ISCAL': 50.0, 'SR': 0.0}", 9),
        (3, 20372, 37.0, 1, 160.0, 69.0, "{'CLBBB': 100.0, 'LVH': 50.0}", 10),
        (4, 17014, 24.0, 0, "", 82.0, "{'SR': 0.0}", 2),  # rhythm only: no diagnostic superclass
    ]
    lines = ["ecg_id,patient_id,age,sex,height,weight,scp_codes,strat_fold,filename_lr,filename_hr,heart_axis"]
    axes = {1: "MID", 2: "", 3: "ALAD", 4: "RAD"}
    rng = np.random.default_rng(0)
    for eid, pid, age, sex, h, w, codes, fold in rows:
        name = f"{eid:05d}_lr"
        lines.append(f'{eid},{pid},{age},{sex},{h},{w},"{codes}",{fold},records100/00000/{name},'
                     f"records500/00000/{eid:05d}_hr,{axes[eid]}")
        sig = rng.normal(0, 0.1, (1000, 12))
        wfdb.wrsamp(name, fs=100, units=["mV"] * 12, sig_name=LEADS, p_signal=sig, fmt=["16"] * 12,
                    write_dir=str(root / "records100" / "00000"))
    (root / "ptbxl_database.csv").write_text("\n".join(lines) + "\n")
    (root / "scp_statements.csv").write_text(
        ",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass\n"
        "NORM,normal ECG,1.0,,,NORM,NORM\nIMI,inferior MI,1.0,,,MI,IMI\nISCAL,ischemic lateral,1.0,,,STTC,ISC_\n"
        "CLBBB,complete LBBB,1.0,,,CD,CLBBB\nLVH,left ventricular hypertrophy,1.0,,,HYP,LVH\n"
        "LVOLT,low QRS voltages,,1.0,,,\nSR,sinus rhythm,,,1.0,,\n")
    return root


def test_superclasses_splits_and_metadata(ptbxl_dir):
    df = ptbxl_index(ptbxl_dir)
    assert df.loc[1, "superclasses"] == ("NORM",)  # LVOLT (form) and SR (rhythm) are not diagnostic
    assert df.loc[2, "superclasses"] == ("MI", "STTC")  # any likelihood counts, as in the benchmark
    assert df.loc[3, "superclasses"] == ("CD", "HYP") and df.loc[4, "superclasses"] == ()
    assert df["split"].tolist() == ["train", "val", "test", "train"]
    assert df.loc[1, "sex"] == "F" and df.loc[2, "sex"] == "M"
    rec = load_ptbxl_record(df.loc[3], ptbxl_dir)
    assert rec.fs == 100 and rec.n_samples == 1000 and rec.lead_names[3] == "aVR"
    assert rec.metadata["height"] == 160.0 and rec.metadata["age"] == 37.0
    assert load_ptbxl_record(df.loc[1], ptbxl_dir).metadata["height"] is None  # unknown stays unknown
    x, y, ids = ptbxl_arrays("train", ptbxl_dir)
    assert x.shape == (2, 12, 1000) and ids == ["1", "4"]
    assert y.tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]] and len(SUPERCLASSES) == 5


def test_missing_ptbxl_says_where_to_put_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ECG_DATA_DIR/ptbxl"):
        ptbxl_index()


def test_train_multimodal_on_ptbxl_runs_end_to_end(ptbxl_dir, tmp_path, monkeypatch, capsys):
    import json

    from ecg_core.cli import main
    from ecg_core.predict.diagnosis import load_multimodal

    monkeypatch.setenv("ECG_DATA_DIR", str(ptbxl_dir.parent))
    out = tmp_path / "mm.pt"
    rc = main(["train", "multimodal", "--db", "ptbxl", "--modalities", "signal", "meta", "--epochs", "1",
               "--json", str(tmp_path / "r.json"), "--out", str(out)])
    assert rc == 0 and "PTB-XL fold 10" in capsys.readouterr().out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_test"] == 1 and report["modalities"] == ["signal", "meta"]
    members, spec, card = load_multimodal(out)
    assert len(members) == 1 and card["classes"] == ["NORM", "MI", "STTC", "CD", "HYP"]


def test_statements_of_ptbxl_records_and_their_evaluation(ptbxl_dir, tmp_path, monkeypatch):
    """PTB-XL's scp_codes and heart_axis as statement codes, and `evaluate statements --db ptbxl` reading
    the records of the test fold at the rate that is there (the fixture has only 100 Hz files)."""
    import json

    from ecg_core.cli import main
    from ecg_core.data.ptbxl import ptbxl_statements

    st = ptbxl_statements(ptbxl_dir)
    assert st["1"] == {"NORM", "LVOLT", "SR", "NAXIS"} and st["3"] == {"CLBBB", "LVH", "LAD"}
    assert st["2"] == {"SR"} and st["4"] == {"SR", "RAD"}  # IMI, ISCAL: no code of ours; RAD from the axis
    assert set(ptbxl_statements(ptbxl_dir, folds=(10,))) == {"3"}
    monkeypatch.setenv("ECG_DATA_DIR", str(ptbxl_dir.parent))
    out = tmp_path / "st.json"
    assert main(["evaluate", "statements", "--db", "ptbxl", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["n_records"] == 1 and res["records"]["3"]["reference"] == ["CLBBB", "LAD", "LVH"]
    assert set(res["statements"]) == {"CLBBB", "LAD", "LVH"} and res["statements"]["LVH"]["n"] == 1
