"""Mixed precision and callbacks in the shared loop."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from ecg_core.train.loop import TensorBatches, TrainConfig, autocast, fit


class _Task:
    monitor = "acc"

    def __init__(self):
        self.dtypes = set()

    def step(self, model, batch):
        logits = model(batch["x"])
        self.dtypes.add(logits.dtype)
        return {"loss": nn.functional.cross_entropy(logits.float(), batch["y"]), "logits": logits}

    def metrics(self, logits, targets):
        return {"acc": float((logits.argmax(1) == targets).float().mean())}


def _data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(600, 8, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    train = TensorBatches({"x": x[:500], "y": y[:500]}, 32, shuffle=True)
    return train, TensorBatches({"x": x[500:], "y": y[500:]}, 50)


@pytest.mark.parametrize("amp, dtype", [("bf16", torch.bfloat16), ("auto", torch.float32), ("off", torch.float32)])
def test_fit_trains_under_the_asked_precision(amp, dtype):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    task = _Task()
    train, val = _data()
    res = fit(model, task, train, val, TrainConfig(epochs=5, batch_size=32, lr=3e-3, seed=0, device="cpu", amp=amp))
    assert task.dtypes == {dtype}  # "auto" is float32 on the CPU
    assert res.history[-1]["train_loss"] < 0.75 * res.history[0]["train_loss"] and res.best_metrics["acc"] > 0.85
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay float32


def test_autocast_refuses_unknown_modes():
    with pytest.raises(ValueError, match="amp must be"):
        autocast(torch.device("cpu"), "fp8")


def test_a_callback_sees_every_epoch_and_can_stop_the_run():
    class StopAt:
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, epoch, row, model):
            self.seen.append((epoch, row["val_acc"]))
            return epoch == 2

    cb = StopAt()
    train, val = _data()
    model = nn.Sequential(nn.Linear(8, 2))
    res = fit(model, _Task(), train, val, TrainConfig(epochs=10, seed=0, device="cpu"), callbacks=[cb, object()])
    assert [e for e, _ in cb.seen] == [0, 1, 2] and len(res.history) == 3
    assert [a for _, a in cb.seen] == [r["val_acc"] for r in res.history]


def test_the_cosine_can_follow_the_clock_to_a_time_limit():
    from ecg_core.train.loop import cosine_with_warmup

    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    spent = {"share": 0.0}
    sched = cosine_with_warmup(opt, 1.0, total_steps=1000, warmup_steps=0, clock=lambda: spent["share"])
    sched()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0, abs=1e-4)  # one step of 1000, no time spent
    spent["share"] = 0.5  # half the time gone after 2 steps: the clock leads, lr = 0.5 (1 + cos(pi / 2))
    sched()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5, abs=1e-6)
    spent["share"] = 1.3  # past the limit: the end of the cosine
    sched()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)
    plain = cosine_with_warmup(opt, 1.0, total_steps=4, warmup_steps=0)
    plain(2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5, abs=1e-6)  # without a clock: steps only
