"""A small deterministic training job for the resume test (run in-process and as a killed subprocess)."""

from __future__ import annotations

import os
import signal
import sys

import torch
import torch.nn as nn

from ecg_core.train.loop import TensorBatches, TrainConfig, fit


class _Task:
    monitor = "acc"

    def step(self, model, batch):
        logits = model(batch["x"])
        return {"loss": nn.functional.cross_entropy(logits, batch["y"]), "logits": logits}

    def metrics(self, logits, targets):
        return {"acc": float((logits.argmax(1) == targets).float().mean())}


class _KillAt(TensorBatches):
    """Batches that SIGKILL their own process at batch ``at`` of epoch ``epoch`` (mid-epoch)."""

    def __init__(self, *a, epoch: int, at: int, **kw):
        super().__init__(*a, **kw)
        self.kill_epoch, self.at, self.epoch = epoch, at, 0

    def __iter__(self):
        for i, b in enumerate(super().__iter__()):
            if self.epoch == self.kill_epoch and i == self.at:
                os.kill(os.getpid(), signal.SIGKILL)
            yield b
        self.epoch += 1


def job(run_dir=None, resume=False, kill_epoch=None):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(600, 8, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    cfg = TrainConfig(epochs=6, batch_size=32, lr=3e-3, patience=10, seed=0, device="cpu")
    tensors = {"x": x[:500], "y": y[:500]}
    train = (_KillAt(tensors, 32, shuffle=True, seed=0, epoch=kill_epoch, at=7) if kill_epoch is not None
             else TensorBatches(tensors, 32, shuffle=True, seed=0))
    val = TensorBatches({"x": x[500:], "y": y[500:]}, 50)
    res = fit(model, _Task(), train, val, cfg, run_dir=run_dir, resume=resume)
    return res, model


if __name__ == "__main__":
    job(sys.argv[1], resume=False, kill_epoch=int(sys.argv[2]))
