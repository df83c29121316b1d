"""Uncertainty: MC dropout leaves BatchNorm alone, temperature scaling calibrates, ECE by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from ecg_core.uncertainty import TemperatureScaler, ece, ensemble_predict, mc_dropout, mc_predict, selective_accuracy


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv1d(2, 8, 3), nn.BatchNorm1d(8), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5),
                         nn.Linear(8 * 30, 3))


def test_mc_dropout_samples_dropout_only_and_batchnorm_stays_in_eval():
    net = _net()
    net.train()
    x = torch.randn(16, 2, 32)
    for _ in range(3):
        net(x)  # give BatchNorm non-trivial running statistics
    net.eval()
    bn = net[1]
    stats = (bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked))
    with mc_dropout(net):
        assert not bn.training and net[4].training
        pred = mc_predict(net, x, n_samples=10, multilabel=False)
    assert torch.equal(bn.running_mean, stats[0]) and torch.equal(bn.running_var, stats[1])
    assert int(bn.num_batches_tracked) == stats[2]
    assert not net.training and not net[4].training  # modes restored
    assert pred.samples.shape == (10, 16, 3) and pred.std.max() > 0  # dropout does sample
    # no batch statistics leak in: with dropout off, a record alone gives what it gives inside a batch
    net[4].p = 0.0
    with mc_dropout(net), torch.inference_mode():
        assert torch.allclose(net(x[:1]), net(x)[:1], atol=1e-6)
    net.train()
    with torch.inference_mode():
        assert not torch.allclose(net(x[:1]), net(x)[:1], atol=1e-3)  # what whole-model train() would do
    net.eval()
    det = ensemble_predict([net, net], x, multilabel=False)
    assert det.std.max() == 0  # identical members: no spread


def test_temperature_scaling_lowers_ece_on_held_out_data():
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.integers(0, 2, (n, 4))
    true_logit = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.5, (n, 4))
    logits = 4.0 * true_logit  # an over-confident model
    fit, test = slice(0, n // 2), slice(n // 2, n)
    before = ece(1 / (1 + np.exp(-logits[test])), y[test])
    ts = TemperatureScaler(multilabel=True).fit(logits[fit], y[fit])
    after = ece(ts.transform(logits[test]), y[test])
    assert ts.temperature > 2.0 and after < before / 2 and after < 0.05


def test_ece_and_selective_accuracy_by_hand():
    # two bins used: 0.9 (acc 1.0, gap 0.1) and 0.6 (acc 0.5, gap 0.1) -> ECE 0.1
    assert ece(np.array([[0.9], [0.9], [0.6], [0.6]]), np.array([[1], [1], [1], [0]])) == pytest.approx(0.1)
    # multi-class: top-label confidence
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1]])
    assert ece(p, np.array([0, 0]), multilabel=False) == pytest.approx(0.5 * 0.3 + 0.5 * 0.5)
    correct = np.array([1, 1, 0, 1, 0])
    unc = np.array([0.1, 0.2, 0.9, 0.3, 0.8])
    assert selective_accuracy(correct, unc, 0.6) == 1.0 and selective_accuracy(correct, unc, 1.0) == 0.6
