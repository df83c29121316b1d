"""Explanation sanity checks: the known segment lights up; randomised weights change the map; rollout."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn

from ecg_core.explain import attention_rollout, grad_cam_1d


def _toy_data(n: int = 256, length: int = 400, seed: int = 0):
    """Label 1: a bump somewhere in samples 250-300; label 0: no bump. Noise everywhere."""
    g = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.randn(n, 2, length, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    t = torch.arange(length)
    for i in range(n):
        if y[i] == 1:
            pos = int(torch.randint(255, 296, (1,), generator=g))
            x[i, :, :] += 2.0 * torch.exp(-0.5 * ((t - pos) / 6.0) ** 2)
    return x, y


def _net():
    return nn.Sequential(nn.Conv1d(2, 16, 9, padding=4), nn.ReLU(), nn.Conv1d(16, 16, 9, padding=4), nn.ReLU(),
                         nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(16, 2))


def test_grad_cam_finds_the_known_segment_and_depends_on_the_weights():
    torch.manual_seed(0)
    net = _net()
    x, y = _toy_data()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    assert (net(x).argmax(1) == y).float().mean() > 0.95
    pos = x[y == 1][:16]
    cam = grad_cam_1d(net, pos, net[3], target=1)  # the last convolution's activation
    assert cam.shape == (16, 400)
    peaks = cam.argmax(axis=1)
    assert np.mean((peaks >= 250) & (peaks <= 300)) >= 0.9  # the segment that decides the label
    rand = copy.deepcopy(net)
    for m in rand.modules():
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            m.reset_parameters()
    cam_r = grad_cam_1d(rand, pos, rand[3], target=1)
    sim = np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(cam, cam_r) if a.std() and b.std()])
    assert sim < 0.5  # model-randomisation test (Adebayo et al. 2018)


def test_grad_cam_on_the_multimodal_signal_tokens_and_attention_rollout():
    from ecg_core.models import create_model

    torch.manual_seed(0)
    m = create_model("multimodal_ecg", dim=32, image_kwargs={"depth": 2})
    batch = {"signal": torch.randn(2, 12, 1000), "image": torch.rand(2, 3, 224, 224)}
    cam = grad_cam_1d(m, batch, m.signal_enc, target=0, tokens=True)
    assert cam.shape == (2, 1000) and np.isfinite(cam).all() and cam.max() == 1.0
    roll = attention_rollout(m.image_enc.backbone, batch["image"])
    assert roll.shape == (2, 14, 14) and roll.max() == 1.0 and roll.min() >= 0
    assert all(getattr(b.attn, "fused_attn", False) in (True, False) for b in m.image_enc.backbone.blocks)
    # rollout follows the weights: another initialisation gives another map
    torch.manual_seed(1)
    m2 = create_model("multimodal_ecg", dim=32, image_kwargs={"depth": 2})
    assert not np.allclose(roll, attention_rollout(m2.image_enc.backbone, batch["image"]))
