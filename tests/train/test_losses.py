"""Losses against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ecg_core.train.losses import FocalLoss, LDAMLoss, build_loss, class_balanced_weights, inverse_frequency_weights


def test_focal_gamma_zero_is_cross_entropy():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    y = torch.tensor([0, 2])
    assert FocalLoss(0.0)(logits, y).item() == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)


def test_focal_by_hand():
    logits = torch.tensor([[2.0, 0.0]])
    p = math.exp(2) / (math.exp(2) + 1)
    want = -((1 - p) ** 2) * math.log(p) * 0.25
    loss = FocalLoss(2.0, alpha=torch.tensor([0.25, 0.75]))(logits, torch.tensor([0]))
    assert loss.item() == pytest.approx(want, rel=1e-5)


def test_class_balanced_weights_by_hand():
    w = class_balanced_weights([100, 10], beta=0.9)
    a, b = 0.1 / (1 - 0.9 ** 100), 0.1 / (1 - 0.9 ** 10)
    assert w.tolist() == pytest.approx([2 * a / (a + b), 2 * b / (a + b)], rel=1e-5)
    assert class_balanced_weights([100, 0, 10], beta=0.9)[1].item() == 0.0
    assert inverse_frequency_weights([300, 100]).tolist() == pytest.approx([400 / 600, 400 / 200])


def test_ldam_by_hand_and_drw():
    loss = LDAMLoss([10000, 100], max_m=0.5, s=30.0, drw_epoch=2, beta=0.9999)
    m_rare = 0.5
    m_common = 0.5 * (100 / 10000) ** 0.25
    assert loss.margins.tolist() == pytest.approx([m_common, m_rare], rel=1e-5)
    logits = torch.tensor([[2.0, 1.0]])
    z = torch.tensor([[2.0 * 30, (1.0 - m_rare) * 30]])
    want = F.cross_entropy(z, torch.tensor([1])).item()
    assert loss(logits, torch.tensor([1])).item() == pytest.approx(want, rel=1e-5)
    # deferred re-weighting changes the loss only from drw_epoch on
    two = torch.tensor([[0.10, 0.0], [0.0, 0.02]])
    y = torch.tensor([0, 1])
    before = loss(two, y).item()
    loss.set_epoch(2)
    assert loss(two, y).item() != pytest.approx(before)


def test_build_loss_names():
    assert isinstance(build_loss("cb_focal", [10, 5], gamma=2.0), FocalLoss)
    with pytest.raises(ValueError, match="valid: cb_ce, cb_focal, ce, focal, ldam, ldam_drw, weighted_ce"):
        build_loss("hinge", [1, 2])


def test_augmentation_only_while_training():
    import torch.nn as nn

    from ecg_core.train.beats import BeatTask

    class Probe(nn.Module):
        def forward(self, batch):
            self.seen = batch
            return torch.zeros(len(batch["x"]), 5, requires_grad=True)

    batch = {"x": torch.randn(8, 1, 280), "template": torch.randn(8, 1, 280), "rr": torch.rand(8, 9) + 0.5,
             "y": torch.zeros(8, dtype=torch.long)}
    task, probe = BeatTask(FocalLoss(1.0), augment=True), Probe()
    probe.eval()
    task.step(probe, batch)
    assert probe.seen["x"] is batch["x"] and probe.seen["rr"] is batch["rr"]
    probe.train()
    task.step(probe, batch)
    assert probe.seen["x"].shape == batch["x"].shape and not torch.equal(probe.seen["x"], batch["x"])
    ratio = probe.seen["rr"] / batch["rr"]
    assert ratio.min() >= 0.8 - 1e-6 and ratio.max() <= 1.2 + 1e-6
