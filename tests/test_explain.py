"""Explanation sanity checks: the known segment lights up; randomised weights change the map; rollout."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn

from ecg_core.explain import attention_rollout, grad_cam_1d, grad_cam_2d, integrated_gradients


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


def _fit(net: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 150) -> nn.Module:
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    assert (net(x).argmax(1) == y).float().mean() > 0.95
    return net


def _randomised(net: nn.Module) -> nn.Module:
    rand = copy.deepcopy(net)
    for m in rand.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            m.reset_parameters()
    return rand


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([np.corrcoef(u.ravel(), v.ravel())[0, 1] for u, v in zip(a, b) if u.std() and v.std()]))


def test_grad_cam_finds_the_known_segment_and_depends_on_the_weights():
    torch.manual_seed(0)
    x, y = _toy_data()
    net = _fit(_net(), x, y)
    pos = x[y == 1][:16]
    cam = grad_cam_1d(net, pos, net[3], target=1)  # the last convolution's activation
    assert cam.shape == (16, 400)
    peaks = cam.argmax(axis=1)
    assert np.mean((peaks >= 250) & (peaks <= 300)) >= 0.9  # the segment that decides the label
    rand = _randomised(net)
    cam_r = grad_cam_1d(rand, pos, rand[3], target=1)
    assert _similarity(cam, cam_r) < 0.5  # model-randomisation test (Adebayo et al. 2018)


def test_integrated_gradients_complete_find_the_segment_and_depend_on_the_weights():
    torch.manual_seed(0)
    x, y = _toy_data()
    net = _fit(_net(), x, y)
    pos = x[y == 1][:8]
    ig = integrated_gradients(net, pos, target=1, key=None, steps=64)
    assert ig.shape == pos.shape
    # completeness: attributions add up to f(x) - f(baseline), within the midpoint rule's error
    with torch.no_grad():
        gap = (net(pos)[:, 1] - net(torch.zeros_like(pos))[:, 1]).numpy()
    np.testing.assert_allclose(ig.sum(axis=(1, 2)), gap, rtol=0.05, atol=0.05)
    mag = np.abs(ig).sum(axis=1)  # over leads
    in_seg = mag[:, 240:310].sum(axis=1) / mag.sum(axis=1)
    assert np.mean(in_seg) > 0.5  # 70 of 400 samples carry most of the attribution
    assert np.mean((mag.argmax(axis=1) >= 240) & (mag.argmax(axis=1) <= 310)) >= 0.9
    ig_r = integrated_gradients(_randomised(net), pos, target=1, key=None, steps=64)
    # signed maps: |IG| of any network follows the input's energy (Adebayo et al. 2018), the signs do not
    assert _similarity(ig, ig_r) < 0.5


def test_integrated_gradients_on_a_dict_batch_hold_the_other_inputs():
    from ecg_core.models import create_model

    torch.manual_seed(0)
    m = create_model("multimodal_ecg", dim=32, image_model=None)
    batch = {"signal": torch.randn(1, 12, 1000), "meta_num": torch.tensor([[60.0, float("nan"), float("nan")]]),
             "meta_cat": torch.tensor([1])}
    ig = integrated_gradients(m, batch, target=2, key="signal", steps=16, chunk=8)
    assert ig.shape == (1, 12, 1000) and np.isfinite(ig).all() and np.abs(ig).sum() > 0
    with torch.no_grad():
        m.eval()
        flat = {**batch, "signal": torch.zeros_like(batch["signal"])}
        gap = m(batch)["diagnosis"][0, 2] - m(flat)["diagnosis"][0, 2]
    assert abs(ig.sum() - float(gap)) < 0.1 * max(1.0, abs(float(gap)))


def _toy_images(n: int = 192, seed: int = 0):
    """Label 1: a bright blob somewhere in the top-left quadrant; label 0: no blob. Noise everywhere."""
    g = torch.Generator().manual_seed(seed)
    x = 0.2 * torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    for i in range(n):
        if y[i] == 1:
            cy, cx = (int(torch.randint(4, 12, (1,), generator=g)) for _ in range(2))
            x[i] += 2.0 * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
    return x, y


def test_grad_cam_2d_finds_the_known_region_and_depends_on_the_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1, stride=2), nn.ReLU(),
                        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(16, 2))
    x, y = _toy_images()
    net = _fit(net, x, y)
    pos = x[y == 1][:16]
    cam = grad_cam_2d(net, pos, net[3], target=1)
    assert cam.shape == (16, 32, 32) and cam.max() == 1.0
    peak_y, peak_x = np.unravel_index(cam.reshape(16, -1).argmax(axis=1), (32, 32))
    assert np.mean((peak_y < 16) & (peak_x < 16)) >= 0.9  # the blob's quadrant
    assert np.mean(cam[:, :16, :16].sum(axis=(1, 2)) / cam.sum(axis=(1, 2))) > 0.5  # a quarter of the image
    sims = []  # one random draw can land near the trained map by chance; eight cannot on average
    for draw in range(8):
        torch.manual_seed(100 + draw)
        rand = _randomised(net)
        sims.append(_similarity(cam, grad_cam_2d(rand, pos, rand[3], target=1)))
    assert np.nanmean(sims) < 0.4


def test_grad_cam_2d_on_a_timm_resnet_image_encoder():
    from ecg_core.models import create_model

    torch.manual_seed(0)
    m = create_model("multimodal_ecg", dim=32, image_model="resnet18")
    batch = {"image": torch.rand(1, 3, 224, 224)}
    cam = grad_cam_2d(m, batch, m.image_enc.backbone.layer4, target=0)
    assert cam.shape == (1, 224, 224) and np.isfinite(cam).all()


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


def test_attention_rollout_finds_the_known_region_of_a_trained_vit():
    import timm

    torch.manual_seed(0)
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=4, embed_dim=32,
                            depth=2, num_heads=2, num_classes=2)
    x, y = _toy_images(n=128)
    vit = _fit(vit, x, y, steps=150)
    pos = x[y == 1][:16]
    roll = attention_rollout(vit, pos)
    assert roll.shape == (16, 8, 8)
    peak_y, peak_x = np.unravel_index(roll.reshape(16, -1).argmax(axis=1), (8, 8))
    assert np.mean((peak_y < 4) & (peak_x < 4)) >= 0.9  # the class token attends to the blob's quadrant
    sims = []
    for draw in range(4):
        torch.manual_seed(100 + draw)
        rand = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=4, embed_dim=32,
                                 depth=2, num_heads=2, num_classes=2)
        sims.append(_similarity(roll, attention_rollout(rand, pos)))
    assert np.nanmean(sims) < 0.5
