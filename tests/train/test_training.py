"""A small real training run learns; checkpoints round-trip with their hash checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ecg_core.data.beats import mitdb_beats
from ecg_core.metrics import class_report, confusion
from ecg_core.models import create_model, list_models
from ecg_core.predict.beats import beat_tensors, load_beat_ensemble, predict_beats
from ecg_core.train.beats import BeatSpec, BeatTask, save_beat_model
from ecg_core.train.loop import TensorBatches, TrainConfig, fit
from ecg_core.train.losses import build_loss


def test_registry_lists_and_refuses_unknown():
    assert {"beat_dualbranch", "beat_template_resnet"} <= set(list_models("beat"))
    with pytest.raises(ValueError, match="registered: .*beat_dualbranch"):
        create_model("beat_transformer_xl")


def test_reference_net_size_matches_the_reference():
    m = create_model("beat_dualbranch", n_rr=2)
    mb = sum(p.numel() for p in m.parameters()) * 4 / 1e6
    assert 4.0 < mb < 5.5  # the reference's 4.7 MB fp32


def test_small_training_run_learns(mitdb, monkeypatch, tmp_path):
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    monkeypatch.setenv("ECG_CACHE_DIR", str(tmp_path / "cache"))
    torch.set_num_threads(2)
    spec = BeatSpec(model="beat_template_resnet", model_kwargs={"width": 16, "depth": 2},
                    train=TrainConfig(epochs=3, batch_size=128, lr=2e-3, patience=3))
    tr = mitdb_beats(["106", "119", "209", "118"], spec.mode)
    tr = tr.subset(tr.y >= 0)
    va = mitdb_beats(["223"], spec.mode)  # another patient: N, S and V beats
    va = va.subset(va.y >= 0)
    counts = np.bincount(tr.y, minlength=5)
    model = create_model(spec.model, n_rr=len(spec.rr_names()), **spec.model_kwargs)
    res = fit(model, BeatTask(build_loss("focal", counts)), TensorBatches(beat_tensors(tr, spec), 128, shuffle=True),
              TensorBatches(beat_tensors(va, spec), 1024), spec.train, run_dir=tmp_path / "run")
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < losses[0]
    pred = predict_beats(model, beat_tensors(va, spec, with_labels=False)).argmax(1)
    learned = class_report(confusion(va.y, pred, 5), tuple("NSVFQ"))["macro_f1_nsvf"]
    majority = class_report(confusion(va.y, np.zeros_like(va.y), 5), tuple("NSVFQ"))["macro_f1_nsvf"]
    assert learned > majority + 0.15, (learned, majority)
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") == len(res.history)

    from ecg_core.models.ensemble import MeanEnsemble

    ens = MeanEnsemble([model.cpu()]).eval()
    card = save_beat_model(ens, spec, tmp_path / "w" / "beat_test.pt", {"note": "test"})
    back, spec2, card2 = load_beat_ensemble(tmp_path / "w" / "beat_test.pt")
    p1 = predict_beats(ens, beat_tensors(va, spec, with_labels=False))
    p2 = predict_beats(back, beat_tensors(va, spec2, with_labels=False))
    assert np.abs(p1 - p2).max() < 0.02  # fp16 storage
    assert card2["sha256"] == card["sha256"]
    raw = (tmp_path / "w" / "beat_test.pt").read_bytes()
    (tmp_path / "w" / "beat_test.pt").write_bytes(raw[:-100])
    with pytest.raises(ValueError, match="does not match its model card"):
        load_beat_ensemble(tmp_path / "w" / "beat_test.pt")
