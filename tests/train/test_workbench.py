"""The Training page's launcher (``ecg_core.workbench``): real background runs of each task, stop,
resume, the queue, promotion into weights/."""

from __future__ import annotations

import json
import time

import pytest

from ecg_core import workbench as wb
from ecg_core.errors import ECGError

TINY_DETR = {"dim": 32, "depth": 1, "heads": 2, "dec_layers": 1, "num_queries": 32, "query_grid": [4, 8]}


def _wait(run, statuses=wb.FINAL, timeout=240.0, until=None):
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = wb.list_runs(run.parent)
        job = next(j for j in job if j["id"] == run.name)
        if job["status"] in statuses or (until is not None and until()):
            return job
        time.sleep(0.3)
    raise AssertionError(f"run {run.name} still {job['status']} after {timeout} s:\n{wb.log_tail(run)}")


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:  # a finished child not yet reaped is a zombie: gone for this purpose
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


@pytest.fixture(scope="module")
def pages(ludb, tmp_path_factory):
    """A page cache of five LUDB records: two of the held-out fold 0, three to train on."""
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.train.keypoints import page_cache

    folds = ludb_folds()
    return page_cache(list(folds[0][:2]) + list(folds[1][:3]), tmp_path_factory.mktemp("wb") / "pages.npz")


def _kp_options(pages, epochs: int, **extra) -> dict:
    return {"cache": str(pages), "epochs": epochs, "batch_size": 1, "repeats": 1, "img_size": "96 192",
            "model_kwargs": json.dumps(TINY_DETR), "patience": 100, **extra}


def test_the_command_is_the_cli_command():
    argv = wb.build_command("beats", {"epochs": 3, "mode": "realtime", "augment": True, "balanced_sampling": False,
                                      "folds": "0 2"})
    assert argv == ["-v", "train", "beats", "--epochs", "3", "--mode", "realtime", "--augment", "--folds", "0", "2"]
    assert wb.display_command(argv).startswith("python -m ecg_core -v train beats --epochs 3")
    from ecg_core.cli import build_parser

    for task, info in wb.TASKS.items():  # every task's defaults and options parse as the CLI's own
        opts = {**info.defaults, **{k: (v[0] if isinstance(v, list) else v) for k, v in info.options.items()}}
        args = build_parser().parse_args(wb.build_command(task, opts, "/tmp/x"))
        assert args.epochs == info.defaults["epochs"] and args.run_dir == "/tmp/x/train"
    args = build_parser().parse_args(wb.build_command("delineation", {"augment_ops": "time_warp lead_dropout"}))
    assert args.augment_ops == ["time_warp", "lead_dropout"]
    with pytest.raises(ECGError, match="unknown task"):
        wb.build_command("nope", {})


def test_a_keypoint_run_trains_in_the_background_and_is_promoted(pages, tmp_path):
    root = tmp_path / "runs"
    run = wb.submit("keypoints", _kp_options(pages, epochs=2), root)
    job = _wait(run)
    assert job["status"] == "done", wb.log_tail(run)
    prog = wb.run_progress(run)
    assert prog["fraction"] == 1.0 and prog["seconds"] > 0
    rows = wb.run_metrics(run)
    assert [r["epoch"] for r in rows] == [0, 1] and all("val_f1_R" in r for r in rows)
    assert "saved" in wb.log_tail(run) and "--run-dir" in wb.log_tail(run)
    dest = wb.promote(run, tmp_path / "weights")
    card = json.loads(dest.with_suffix(".json").read_text())
    assert card["promoted_from"]["run"] == run.name and card["sha256"]
    from ecg_core.predict.keypoints import load_keypoint_model

    load_keypoint_model(dest)  # the sha256 in the card still matches the copied file
    with pytest.raises(ECGError, match="exists"):
        wb.promote(run, tmp_path / "weights")


def test_a_panel_run_trains_through_the_launcher(pages, tmp_path):
    run = wb.submit("panels", {"cache": str(pages), "epochs": 1, "batch_size": 1, "repeats": 1, "img_size": "96 192",
                               "model_kwargs": json.dumps({"box_dim": 32, "mask_channels": 16})}, tmp_path / "runs")
    job = _wait(run)
    assert job["status"] == "done", wb.log_tail(run, 60)
    rows = wb.run_metrics(run)
    assert len(rows) == 1 and "val_f1" in rows[0] and (run / "panels_maskrcnn.pt").exists()


def test_stop_keeps_finished_epochs_and_resume_goes_on(pages, tmp_path):
    root = tmp_path / "runs"
    run = wb.submit("keypoints", _kp_options(pages, epochs=200), root)
    _wait(run, until=lambda: len(wb.run_metrics(run)) >= 2, timeout=180)
    prog = wb.run_progress(run)
    assert 0 < prog["fraction"] < 1 and prog["eta_s"] is not None and prog["current"]["epochs"] == 200
    wb.stop(run)
    job = _wait(run, timeout=30)
    assert job["status"] == "stopped"
    before = wb.run_metrics(run)
    assert len(before) >= 2
    wb.resume(run)
    _wait(run, until=lambda: len(wb.run_metrics(run)) >= len(before) + 1, timeout=180)
    wb.stop(run)
    assert _wait(run, timeout=30)["status"] == "stopped"
    after = wb.run_metrics(run)
    assert after[:len(before)] == before  # the finished epochs are kept as they were
    assert "resumed" in wb.log_tail(run, 200)
    with pytest.raises(ECGError, match="only a finished run"):
        wb.promote(run, tmp_path / "weights")


def test_runs_queue_one_at_a_time(pages, tmp_path, monkeypatch):
    monkeypatch.setenv("ECG_MAX_RUNS", "1")
    root = tmp_path / "runs"
    first = wb.submit("keypoints", _kp_options(pages, epochs=200), root)
    second = wb.submit("keypoints", _kp_options(pages, epochs=1), root)
    status = {j["id"]: j["status"] for j in wb.list_runs(root)}
    assert status == {first.name: "running", second.name: "queued"}
    wb.stop(first)
    _wait(first, timeout=30)
    job = _wait(second)  # the first run's supervisor starts the next one when it ends
    assert job["status"] == "done", wb.log_tail(second)
    # the second run's supervisor schedules the queue after recording "done": let it finish first, or it
    # may start the third run submitted below
    t0 = time.time()
    while _alive(job["pid"]) and time.time() - t0 < 30:
        time.sleep(0.1)
    third = wb.submit("keypoints", _kp_options(pages, epochs=1), root, start=False)
    assert wb.stop(third)["status"] == "cancelled"


@pytest.mark.parametrize("task, options", [
    ("beats", {"epochs": 1, "folds": "0", "batch_size": 512, "threads": 1, "augment_ops": "time_warp muscle"}),
    ("delineation", {"epochs": 1, "folds": "0", "crop": 1024, "batch_size": 16, "threads": 1}),
    ("multimodal", {"epochs": 1, "folds": "0", "modalities": "signal meta", "threads": 1, "augment_ops": "shift"}),
    ("pretrain", {"epochs": 1, "db": "mitdb", "limit_records": 1, "threads": 1}),
])
def test_each_task_runs_through_the_launcher(mitdb, ludb, tmp_path, task, options):
    assert wb.data_available(task) is None
    run = wb.submit(task, options, tmp_path / "runs")
    job = _wait(run, timeout=400)
    assert job["status"] == "done", wb.log_tail(run, 60)
    rows = wb.run_metrics(run)
    assert len(rows) == 1 and wb.TASKS[task].monitor in rows[0]
    if task == "pretrain":  # one model, saved
        assert rows[0]["fold"] == "train" and (run / "hubert_ecg.pt").exists()
    else:
        assert rows[0]["fold"] == "fold0" and "nothing saved" in wb.log_tail(run)


def test_missing_data_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("ECG_DATA_DIR", str(tmp_path))
    assert "mitdb" in wb.data_available("beats")
    monkeypatch.delenv("ECG_DATA_DIR")
    assert "ECG_DATA_DIR" in wb.data_available("delineation")
