"""Model zoo: 1-D ResNet / MobileNet backbones and beat nets, timm image backbones in the multimodal
model, and ensembles (mean, weighted, stacked) with deep-ensemble uncertainty."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from ecg_core.models import create_model, list_models
from ecg_core.models.ensemble import MeanEnsemble, StackedEnsemble, WeightedEnsemble, ensemble_uncertainty


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_signal_backbones_shapes_and_cost():
    x = torch.randn(2, 12, 5000)
    res, mob = create_model("resnet1d", in_ch=12, num_classes=6), create_model("mobilenet1d", in_ch=12, num_classes=6)
    assert res(x).shape == (2, 6) and mob(x).shape == (2, 6)
    assert _n_params(mob) < _n_params(res) / 3  # depthwise blocks: several times fewer weights


def _beats(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    t = torch.linspace(0, 1, 280)
    x = torch.randn(n, 1, 280, generator=g) * 0.3 + torch.sin(2 * torch.pi * (y[:, None, None] + 1) * t)
    rr = torch.exp(torch.randn(n, 9, generator=g) * 0.1) * (1 + 0.3 * (y == 1).float())[:, None]
    return {"x": x, "template": torch.sin(2 * torch.pi * t).expand(n, 1, 280).clone(), "rr": rr, "y": y}


@pytest.mark.parametrize("name", ["beat_resnet1d", "beat_mobilenet1d"])
def test_beat_zoo_models_learn_a_separable_task(name):
    assert name in list_models("beat_")
    torch.manual_seed(0)
    model = create_model(name, num_classes=3, in_leads=1, n_rr=9)
    train, test = _beats(256, 0), _beats(128, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(50):  # enough steps for BatchNorm's running statistics to settle (eval mode below)
        loss = nn.functional.cross_entropy(model(train), train["y"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(test).argmax(1) == test["y"]).float().mean()
    assert acc > 0.9


def test_multimodal_takes_timm_resnet_and_mobilenet_image_encoders():
    batch = {"image": torch.rand(2, 3, 224, 224), "signal": torch.randn(2, 12, 2500)}
    for image_model in ("resnet18", "mobilenetv3_small_100"):
        m = create_model("multimodal_ecg", image_model=image_model, dim=32, heads=2).eval()
        with torch.no_grad():
            assert m(batch)["diagnosis"].shape == (2, 6)


class _Fixed(nn.Module):
    """A 'member' that returns stored logits for the indices in the batch."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits)

    def forward(self, idx):
        return self.logits[idx]


def _members(seed=0, n=600):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    good = 4 * nn.functional.one_hot(y, 3).float() + torch.randn(n, 3, generator=g)
    noise = 3 * torch.randn(n, 3, generator=g)
    # the third member is right about class 2 only and says class 0 otherwise
    third = torch.where((y == 2)[:, None], 5 * nn.functional.one_hot(y, 3).float(),
                        5 * nn.functional.one_hot(torch.zeros_like(y), 3).float())
    return [good, noise, third], y


def test_weighted_and_stacked_ensembles_learn_from_held_out_predictions():
    (good, noise, third), y = _members(0)
    (good2, noise2, third2), y2 = _members(1)
    members = [_Fixed(good), _Fixed(noise), _Fixed(third)]
    idx = torch.arange(len(y))
    probs = torch.stack([m(idx).softmax(1) for m in members])
    w = WeightedEnsemble(members).fit_weights(probs, y)
    assert int(w.weights.argmax()) == 0 and w.weights[1] < 0.1  # the noisy member is all but ignored
    s = StackedEnsemble(members, 3).fit_stacker(probs, y)
    # scored on fresh predictions of the same members
    fresh = [_Fixed(good2), _Fixed(noise2), _Fixed(third2)]
    for ens in (w, s):
        ens.members = nn.ModuleList(fresh)
    mean = MeanEnsemble(fresh)

    def acc(m):
        return float((m(idx).argmax(1) == y2).float().mean())

    assert acc(w) > acc(mean) + 0.05 and acc(s) >= acc(w) - 0.01
    out = w(idx)
    assert torch.allclose(out.exp().sum(1), torch.ones(len(idx)), atol=1e-4)


def test_ensemble_uncertainty_separates_disagreement_from_noise():
    agree_unsure = torch.full((4, 1, 2), 0.5)  # every member says 50/50: uncertain, but no disagreement
    disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 0.0]], [[0.0, 1.0]]])
    u1, u2 = ensemble_uncertainty(agree_unsure), ensemble_uncertainty(disagree)
    ln2 = torch.log(torch.tensor(2.0))
    assert torch.allclose(u1["entropy"], ln2) and torch.allclose(u2["entropy"], ln2, atol=1e-4)
    assert u1["mutual_info"].item() == pytest.approx(0.0, abs=1e-6)
    assert u2["mutual_info"].item() == pytest.approx(ln2.item(), abs=1e-4)
    assert torch.allclose(u2["std"], torch.full((1, 2), 0.5))
