"""Quantised variants: every variant builds and runs; int8 files are smaller; outputs agree with fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecg_core.models import create_model
from ecg_core.models.ensemble import MeanEnsemble
from ecg_core.quantize import VARIANTS, build_variants


@pytest.fixture(scope="module")
def trained_like():
    """A small model trained for a few steps on separable fake beats, so its outputs mean something."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 1200
    y = rng.integers(0, 3, n)
    t = np.linspace(-1, 1, 280, dtype=np.float32)
    x = np.stack([np.exp(-((t - 0.3 * (k - 1)) / (0.05 + 0.05 * k)) ** 2) for k in y])[:, None, :]
    x = (x + rng.normal(0, 0.05, x.shape)).astype(np.float32)
    rr = (1 + 0.2 * y[:, None] * np.ones((1, 9))).astype(np.float32)
    inputs = {"x": x, "template": np.repeat(x[:1], n, 0), "rr": rr}
    model = create_model("beat_template_resnet", n_rr=9, width=16, depth=2)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    tx = {k: torch.from_numpy(v) for k, v in inputs.items()}
    for _ in range(60):
        idx = torch.randint(0, n, (128,))
        loss = torch.nn.functional.cross_entropy(model({k: v[idx] for k, v in tx.items()}), torch.from_numpy(y)[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return MeanEnsemble([model]).eval(), inputs, y


def test_all_variants(trained_like, tmp_path):
    model, inputs, y = trained_like
    variants = {v.name: v for v in build_variants(model, {k: v[:400] for k, v in inputs.items()}, tmp_path)}
    assert set(variants) == set(VARIANTS)
    ref = variants["torch_fp32"].predict(inputs).argmax(1)
    assert (ref == y).mean() > 0.9  # the fixture model learned its task
    onnx = variants["onnx_fp32"].predict(inputs)
    assert np.allclose(onnx, variants["torch_fp32"].predict(inputs), atol=1e-3)
    for name in ("torch_dynamic_int8", "torch_static_int8_fx", "onnx_int8"):
        agree = (variants[name].predict(inputs).argmax(1) == ref).mean()
        assert agree > 0.95, (name, agree)
    fp32 = variants["torch_fp32"].size_bytes
    # a tiny model: file overheads weigh more than at full size, where the bench measures the ratio
    assert variants["torch_static_int8_fx"].size_bytes < fp32 / 1.8
    assert variants["onnx_int8"].size_bytes < variants["onnx_fp32"].size_bytes / 1.4
