"""The shared loop under torchrun: two processes on the gloo backend train one model and agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from tests.conftest import ROOT


def test_two_processes_on_gloo_train_the_same_model(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           "-m", "tests.train._ddp_job", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    runs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert runs[0]["world"] == runs[1]["world"] == 2
    # the same (all-reduced) losses and metrics; wall-clock seconds differ between processes
    strip = [[{k: v for k, v in r.items() if k != "seconds"} for r in run["history"]] for run in runs]
    assert strip[0] == strip[1]
    w0, w1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k  # gradients averaged: the ranks never drift apart
    hist = runs[0]["history"]
    assert hist[-1]["train_loss"] < 0.8 * hist[0]["train_loss"] and max(h["val_acc"] for h in hist) > 0.85
