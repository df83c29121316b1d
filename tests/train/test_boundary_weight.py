"""Boundary-weighted cross-entropy for the delineator (``train delineation --boundary-weight W``): samples near
a wave's onset or offset count up to 1 + W times, unlabelled samples not at all."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F


def test_weights_peak_at_each_boundary_and_vanish_off_the_labels():
    from ecg_core.train.delineation import boundary_weights

    y = torch.full((1, 1, 200), -1)
    y[..., 20:180] = 0
    y[..., 100:130] = 2  # a QRS: onset at 100, offset after 129
    w = boundary_weights(y, 4.0, sigma=5.0)[0, 0].numpy()
    assert w[100] == pytest.approx(5.0) and w[130] == pytest.approx(5.0)
    assert w[105] == pytest.approx(1 + 4 * np.exp(-0.5), rel=1e-5)  # one sigma in
    assert w[60] == pytest.approx(1.0) and w[150] == pytest.approx(1.0)  # far from any boundary
    assert (w[:20] == 0).all() and (w[180:] == 0).all()  # unlabelled
    assert w[20] == pytest.approx(1.0)  # the edge of the marked span is not a wave boundary


def test_weighted_loss_is_plain_cross_entropy_at_weight_zero_and_favours_boundaries_otherwise():
    from ecg_core.train.delineation import DelineationTask

    torch.manual_seed(0)
    y = torch.zeros(2, 12, 300, dtype=torch.long)
    y[..., 100:160] = 2
    y[:, 5] = -1
    logits = torch.randn(2, 4, 12, 300)

    class Fixed(torch.nn.Module):
        def __init__(self, out):
            super().__init__()
            self.out = out

        def forward(self, batch):
            return self.out

    plain = DelineationTask(0.0).step(Fixed(logits), {"x": None, "y": y})["loss"]
    assert plain.item() == pytest.approx(F.cross_entropy(logits, y, ignore_index=-1).item())
    # a model wrong only at the QRS boundaries loses more under the weighting than one wrong as often far from them
    good = torch.full((2, 4, 12, 300), -5.0)
    good.scatter_(1, y.clamp_min(0)[:, None], 5.0)
    at_edges, far = good.clone(), good.clone()
    for t in (100, 101, 102, 103, 156, 157, 158, 159):
        at_edges[..., t] = good[..., 60]  # the QRS's first and last 4 samples called background
    for t in (30, 31, 32, 33, 230, 231, 232, 233):
        far[..., t] = good[..., 130]  # as many background samples far from it called QRS
    weighted = DelineationTask(4.0)
    edge_loss = weighted.step(Fixed(at_edges), {"x": None, "y": y})["loss"].item()
    far_loss = weighted.step(Fixed(far), {"x": None, "y": y})["loss"].item()
    assert edge_loss > 2 * far_loss
    plain_task = DelineationTask(0.0)
    assert plain_task.step(Fixed(at_edges), {"x": None, "y": y})["loss"].item() == pytest.approx(
        plain_task.step(Fixed(far), {"x": None, "y": y})["loss"].item(), rel=0.05)
