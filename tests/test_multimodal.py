"""Multimodal 12-lead model: any subset of modalities, explicit missing metadata, gates."""

from __future__ import annotations

import math

import pytest
import torch

from ecg_core.models import create_model


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("multimodal_ecg", image_kwargs={"depth": 2}, dim=64).eval()


def _batch():
    g = torch.Generator().manual_seed(1)
    return {"signal": torch.randn(2, 12, 1000, generator=g), "image": torch.rand(2, 3, 224, 224, generator=g),
            "meta_num": torch.tensor([[50.0, float("nan"), 70.0], [60.0, 170.0, 80.0]]),
            "meta_cat": torch.tensor([1, 0])}


@pytest.mark.parametrize("keys", [("signal",), ("image",), ("signal", "meta_num", "meta_cat"),
                                  ("signal", "image", "meta_num", "meta_cat")])
def test_runs_with_any_subset_of_modalities(model, keys):
    b = _batch()
    with torch.inference_mode():
        out = model({k: b[k] for k in keys})
    assert out["diagnosis"].shape == (2, 6) and out["severity"].shape == (2, 2) and out["confidence"].shape == (2,)
    present = {"signal": "signal" in keys, "image": "image" in keys, "meta": "meta_num" in keys}
    for i, m in enumerate(("signal", "image", "meta")):
        assert math.isnan(out["gates"][0, i]) != present[m]  # a gate only for modalities given
    assert torch.isfinite(out["diagnosis"]).all()


def test_unknown_metadata_is_not_zero(model):
    b = _batch()
    zero = {**b, "meta_num": torch.nan_to_num(b["meta_num"], nan=0.0)}
    with torch.inference_mode():
        a, z = model(b)["diagnosis"], model(zero)["diagnosis"]
    assert not torch.allclose(a[0], z[0])  # height unknown differs from height 0
    assert torch.allclose(a[1], z[1])  # nothing missing in the second record


def test_no_modality_is_an_error_and_gradients_reach_every_encoder(model):
    with pytest.raises(ValueError, match="no modality"):
        model({})
    m = create_model("multimodal_ecg", image_kwargs={"depth": 1}, dim=32).train()
    out = m(_batch())
    out["diagnosis"].sum().backward()
    for enc in (m.signal_enc, m.image_enc, m.meta_enc):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())
