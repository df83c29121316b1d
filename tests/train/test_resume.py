"""A training run killed with SIGKILL mid-epoch and resumed ends exactly as the uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from tests.conftest import ROOT
from tests.train._resume_job import job


def test_killed_mid_epoch_and_resumed_equals_uninterrupted(tmp_path):
    ref, ref_model = job()
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.train._resume_job", str(run), "3"], cwd=ROOT, env=env,
                          capture_output=True, timeout=120)
    assert proc.returncode == -9  # SIGKILL, in the middle of epoch 3
    st = torch.load(run / "last.pt", weights_only=True)
    assert st["epoch"] == 2  # epochs 0-2 finished and saved; epoch 3 was lost mid-way
    assert not (run / "last.pt.tmp").exists()
    res, model = job(run_dir=run, resume=True)
    assert [r["epoch"] for r in res.history] == list(range(6))
    for a, b in zip(ref.history, res.history):  # the same losses and metrics, epoch by epoch
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-6 and a["val_acc"] == b["val_acc"]
    assert res.best_epoch == ref.best_epoch
    for (k, v), (_, w) in zip(ref_model.state_dict().items(), model.state_dict().items()):
        assert torch.allclose(v, w, atol=1e-6), k
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == list(range(6))  # one line per finished epoch, none twice
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return
    acc = EventAccumulator(str(run / "tb"))
    acc.Reload()
    steps = [e.step for e in acc.Scalars("train_loss")]
    assert steps == list(range(6))  # the event files too: every epoch once


def test_metrics_reach_tensorboard_event_files(tmp_path):
    import pytest

    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    res, _ = job(run_dir=tmp_path / "run")
    acc = EventAccumulator(str(tmp_path / "run" / "tb"))
    acc.Reload()
    assert {"train_loss", "val_acc", "val_loss"} <= set(acc.Tags()["scalars"])
    got = [(e.step, e.value) for e in acc.Scalars("train_loss")]
    assert [s for s, _ in got] == list(range(6))
    assert all(abs(v - r["train_loss"]) < 1e-5 for (_, v), r in zip(got, res.history))
