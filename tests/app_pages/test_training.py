"""AppTest of the Training page: launch a real background run, see its progress, stop it."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")
TINY = {"dim": 32, "depth": 1, "heads": 2, "dec_layers": 1, "num_queries": 32, "query_grid": [4, 8]}


def test_training_page_launches_shows_progress_and_stops(ludb, tmp_path, monkeypatch):
    from ecg_core import workbench as wb
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.train.keypoints import page_cache

    folds = ludb_folds()
    cache = page_cache(list(folds[0][:1]) + list(folds[1][:2]), tmp_path / "pages.npz")
    monkeypatch.setenv("ECG_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)
    at.selectbox(key="tr_task").set_value("keypoints").run()
    at.number_input(key="tr_epochs_keypoints").set_value(100)
    at.number_input(key="tr_bs_keypoints").set_value(1)
    at.text_input(key="tr_keypoints_img_size").set_value("96 192")
    at.number_input(key="tr_keypoints_repeats").set_value(1)
    at.text_input(key="tr_model_kwargs").set_value(json.dumps(TINY))
    at.text_input(key="tr_cache").set_value(str(cache))
    at.text_input(key="tr_note").set_value("page test").run()
    assert not at.error, [e.value for e in at.error]
    command = at.code[0].value
    assert command.startswith("python -m ecg_core -v train keypoints") and "--epochs 100" in command
    assert "--img-size 96 192" in command and "--cache" in command
    at.button(key="tr_launch").click().run()
    assert not at.exception and not at.error
    (job,) = wb.list_runs(tmp_path / "runs")
    assert job["status"] == "running" and job["note"] == "page test"
    run = tmp_path / "runs" / job["id"]
    t0 = time.time()
    while len(wb.run_metrics(run)) < 1 and time.time() - t0 < 120:
        time.sleep(0.5)
    at.run()
    table = at.dataframe[0].value
    assert table["status"][0] == "running" and table["note"][0] == "page test"
    bar = at.get("progress")[0]
    assert 0 < bar.value < 100 and "epoch" in bar.proto.text  # progress in per cent of the run
    assert len(at.get("plotly_chart")) >= 2  # loss and validation curves
    at.button(key=f"tr_stop_{job['id']}").click().run()
    assert not at.exception
    (job,) = wb.list_runs(tmp_path / "runs")
    assert job["status"] == "stopped"
    assert at.dataframe[0].value["status"][0] == "stopped"
    assert any(b.key == f"tr_resume_{job['id']}" for b in at.button)


def test_training_can_be_switched_off_for_a_shared_server(tmp_path, monkeypatch):
    import pytest

    from ecg_core import workbench as wb
    from ecg_core.errors import ECGError

    monkeypatch.setenv("ECG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ECG_ALLOW_TRAINING", "0")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/training.py").run()
    assert not at.exception
    assert any("switched off" in i.value for i in at.info)
    assert not any(b.key == "tr_launch" for b in at.button) and not at.expander  # no form to launch from
    with pytest.raises(ECGError, match="switched off"):
        wb.submit("beats", {"epochs": 1}, tmp_path / "runs")
