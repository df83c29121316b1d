"""The shipped LUDB multimodal model: integrity, and it beats a trivial baseline on a held-out fold."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ROOT

WEIGHTS = ROOT / "weights" / "multimodal_ludb.pt"
pytestmark = pytest.mark.skipif(not WEIGHTS.exists(), reason="no shipped multimodal model")


def test_fold_model_beats_the_prevalence_baseline_on_its_held_out_fold(ludb):
    import torch

    from ecg_core.data.ludb import ludb_folds
    from ecg_core.predict.diagnosis import load_multimodal, model_inputs
    from ecg_core.train.multimodal import ludb_multimodal_arrays, macro_auc

    members, spec, card = load_multimodal(WEIGHTS)
    assert len(members) == 5 and card["size_bytes"] <= 20 * 2 ** 20
    assert card["report"]["ece_after"] <= 0.05  # the calibration target, pooled over held-out folds
    held = list(ludb_folds()[1])
    arrays = ludb_multimodal_arrays(held)
    inputs = {k: v for k, v in model_inputs(arrays, spec.modalities).items() if k not in ("y", "severity")}
    with torch.inference_mode():
        logits = members[1](inputs)["diagnosis"].numpy()
    probs = 1 / (1 + np.exp(-logits))
    auc, per = macro_auc(probs, arrays["y"])
    assert auc > 0.6  # a constant (prevalence) predictor scores 0.5
    # the temperature this fold model fitted on its inner-validation records lowers ECE on the held-out fold
    from ecg_core.uncertainty import ece

    t = card["report"]["folds"][1]["temperature"]
    assert t > 1.0 and ece(1 / (1 + np.exp(-logits / t)), arrays["y"]) < ece(probs, arrays["y"])
    with torch.inference_mode():
        gates = members[1](inputs)["gates"].numpy()
    assert np.isfinite(gates).all() and gates.shape[1] == len(spec.modalities)  # every modality gated
