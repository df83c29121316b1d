"""The shipped learned delineator: held-out LUDB figures, other databases and rates, long records, integrity."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import ROOT

WEIGHTS = ROOT / "weights" / "delineation_unet.pt"
pytestmark = pytest.mark.skipif(not WEIGHTS.exists(), reason="no shipped delineation model")


@pytest.fixture(scope="module")
def model():
    from ecg_core.train.delineation import load_delineation_model

    return load_delineation_model(WEIGHTS)


def test_card_describes_five_patient_wise_fold_models(model):
    from ecg_core.data.ludb import ludb_folds

    ens, spec, card = model
    assert len(ens.members) == 5 and card["size_bytes"] <= 10 * 2 ** 20
    assert [f["held_out"] for f in card["folds"]] == [list(f) for f in ludb_folds()]
    for f in card["folds"]:  # inner validation records come from the training folds only
        assert not set(f["inner_val"]) & set(f["held_out"])


def test_held_out_records_of_every_fold(model, ludb):
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.evaluate import evaluate_delineation, paired_sd_difference

    records = [f[i] for f in ludb_folds() for i in range(2)]  # two held-out records of each fold
    res = evaluate_delineation("unet", records=records, weights=WEIGHTS, keep_errors=True)
    f1 = {k: v["f1"] for k, v in res["waves"].items()}
    assert f1["QRS"] >= 0.98 and f1["P"] >= 0.9 and f1["T"] >= 0.9, f1
    assert abs(res["fiducials"]["qrs_on"]["mean_ms"]) < 10 and res["fiducials"]["qrs_on"]["sd_ms"] < 15
    # global fiducials (one boundary per beat from all leads, the CSE way): within the CSE SDs on these records
    g = res["global_fiducials"]
    assert g["qrs_on"]["n"] >= 0.9 * res["waves"]["QRS"]["tp"] / 12  # (nearly) every beat paired
    assert all(g[k]["within_cse"] for k in ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")), g
    # each SD with its interval from resampling these ten records: around the SD, and wide (ten records)
    lo, hi = g["qrs_on"]["sd_ci95_ms"]
    assert lo < g["qrs_on"]["sd_ms"] < hi and hi - lo > 0.5
    # far better than the peer on the same records
    nk = evaluate_delineation("neurokit_dwt", records=records, keep_errors=True)
    assert all(f1[k] > nk["waves"][k]["f1"] for k in f1)
    assert g["qrs_on"]["sd_ms"] < nk["global_fiducials"]["qrs_on"]["sd_ms"]
    # the kept errors are the ones scored, by record name; compared record by record, ours are narrower
    ours, peer = (r["errors_by_record"]["global_fiducials"]["qrs_on"] for r in (res, nk))
    assert {name for name, _ in ours} <= set(records)
    assert np.std(np.concatenate([e for _, e in ours]), ddof=1) == pytest.approx(g["qrs_on"]["sd_ms"], abs=1e-6)
    d = paired_sd_difference(ours, peer)
    assert d["n_records"] >= 8 and d["sd_diff_ci95_ms"][1] < 0, d


def test_two_lead_mitdb_record_at_360_hz(model, mitdb):
    from ecg_core.io import load_record
    from ecg_core.pipeline import delineate

    rec = load_record(mitdb / "100.hea").crop(0, 10)
    d = delineate(rec, "unet", model=model[0])
    ref = rec.annotations["atr"].beats().sample_idx
    qrs = d.lead("MLII").QRS
    assert abs(len(qrs) - len(ref)) <= 1  # record 100: sinus rhythm, every beat found
    assert np.all(np.abs(qrs[:, 1][:, None] - ref[None, :]).min(axis=1) < 0.05 * rec.fs)
    assert d.lead("MLII").count()["P"] >= len(ref) - 2  # P waves before (almost) every beat
    m = d.measure()
    assert 65 <= m.hr_bpm <= 85 and 60 <= m.qrs_ms <= 120 and 120 <= m.pr_ms <= 240


def test_long_records_go_through_in_pieces(model, mitdb):
    from ecg_core.io import load_record
    from ecg_core.predict.delineation import model_input, predict_probs

    rec = load_record(mitdb / "100.hea").crop(0, 60)
    x, _ = model_input(rec)
    whole = predict_probs(model[0].members[0], x, chunk=x.shape[-1] + 1).argmax(0)
    pieces = predict_probs(model[0].members[0], x, chunk=8000, overlap=1000).argmax(0)
    assert (whole[1] == pieces[1]).mean() > 0.99  # lead II slot


def test_a_changed_file_is_refused(model, tmp_path):
    from ecg_core.train.delineation import load_delineation_model

    bad = tmp_path / "delineation_unet.pt"
    shutil.copy(WEIGHTS, bad)
    shutil.copy(WEIGHTS.with_suffix(".json"), bad.with_suffix(".json"))
    with open(bad, "r+b") as f:
        f.seek(-100, 2)
        f.write(b"\x00" * 10)
    with pytest.raises(ValueError, match="sha256"):
        load_delineation_model(bad)


def test_unnamed_leads_are_each_delineated_from_their_own_signal(model, mitdb):
    from ecg_core.io import load_record
    from ecg_core.pipeline import delineate

    rec = load_record(mitdb / "100.hea").crop(0, 10)
    unnamed = rec.replace(lead_names=("ECG1", "ECG2"))  # both would fill the lead II slot
    d = delineate(unnamed, "unet", model=model[0])
    alone = delineate(unnamed.replace(signal=unnamed.signal[1:], lead_names=("ECG2",), units=()), "unet",
                      model=model[0])
    assert np.array_equal(d.waves[1].QRS, alone.waves[0].QRS)
    assert not np.array_equal(d.waves[0].T, d.waves[1].T)  # not a copy of the first lead's marks
