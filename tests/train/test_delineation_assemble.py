"""Fold models trained apart (``train delineation --folds k --run-dir D``, e.g. five processes on one GPU)
put together into one checkpoint (``--assemble D``)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch


def _fold(run_dir, k, spec, seed, **report):

    from ecg_core.checkpoints import half_state
    from ecg_core.predict.delineation import build_delineation_model

    torch.manual_seed(seed)
    model = build_delineation_model(asdict(spec))
    d = run_dir / f"fold{k}"
    d.mkdir(parents=True)
    torch.save(half_state(model.state_dict()), d / "model.pt")
    (d / "report.json").write_text(json.dumps({"fold": k, "best_epoch": 3, "inner_val_macro_f1": 0.5,
                                               "spec": asdict(spec), "command": f"train fold {k}", **report}))
    return model


@pytest.fixture
def spec():
    from ecg_core.train.delineation import DelineationSpec

    return DelineationSpec(model_kwargs={"width": 4, "depth": 2})


def test_folds_from_two_run_dirs_make_one_checkpoint(tmp_path, spec):
    from ecg_core.cli import main
    from ecg_core.train.delineation import load_delineation_model

    trained = [_fold(tmp_path / ("a" if k < 3 else "b"), k, spec, seed=k) for k in range(5)]
    out = tmp_path / "delineation.pt"
    assert main(["train", "delineation", "--assemble", str(tmp_path / "a"), str(tmp_path / "b"),
                 "--out", str(out)]) == 0
    ens, got_spec, card = load_delineation_model(out)
    assert got_spec.model_kwargs == {"width": 4, "depth": 2}
    assert [f["command"] for f in card["folds"]] == [f"train fold {k}" for k in range(5)]
    x = torch.randn(1, 12, 500)
    for k, m in enumerate(ens.members):  # member k is fold k's model, up to fp16 and int8 storage
        ref = trained[k].eval()({"x": x}).softmax(1)
        assert (m({"x": x}).softmax(1) - ref).abs().max() < 0.05
    assert (ens.members[0]({"x": x}) - ens.members[1]({"x": x})).abs().max() > 1e-3  # not one model five times


def test_a_missing_duplicated_or_mismatched_fold_is_refused(tmp_path, spec):
    from ecg_core.train.delineation import DelineationSpec, assemble_folds

    for k in range(4):
        _fold(tmp_path / "a", k, spec, seed=k)
    with pytest.raises(ValueError, match=r"fold\(s\) \[4\]"):
        assemble_folds([tmp_path / "a"])
    _fold(tmp_path / "b", 3, spec, seed=9)
    with pytest.raises(ValueError, match="fold 3 found twice"):
        assemble_folds([tmp_path / "a", tmp_path / "b"])
    _fold(tmp_path / "c", 4, DelineationSpec(model_kwargs={"width": 8, "depth": 2}), seed=4)
    with pytest.raises(ValueError, match="different specs"):
        assemble_folds([tmp_path / "a", tmp_path / "c"])
