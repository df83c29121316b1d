"""A delineator that also marks the waves of all leads together (``model_kwargs {"global_row": true}``): its
labels from LUDB's per-lead marks, its start from a per-lead model, and the global boundaries it gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _w(p=(), qrs=(), t=()):
    from ecg_core.waves import LeadWaves

    def arr(v):
        return np.asarray(v, dtype=np.int64).reshape(-1, 3)

    return LeadWaves(arr(p), arr(qrs), arr(t))


def test_global_labels_of_a_ludb_record_span_the_leads_marks(ludb):
    from ecg_core.data.ludb import annotated_span, global_label_mask, load_ludb
    from ecg_core.waves import runs as _runs

    rec, waves = load_ludb("1")
    y = global_label_mask(waves, rec.n_samples, rec.fs)
    spans = [annotated_span(w) for w in waves]
    a, b = min(s[0] for s in spans), max(s[1] for s in spans)
    assert (y[:a] == -1).all() and (y[b + 1:] == -1).all() and (y[a:b + 1] >= 0).all()
    qrs = _runs(y == 2)
    ons = np.array([w["QRS"][:, 0] for w in waves])  # (12 leads, beats): record 1 has every beat in every lead
    offs = np.array([w["QRS"][:, 2] for w in waves])
    assert len(qrs) == ons.shape[1] == 6
    # one run per beat, from about the 15th percentile of the leads' onsets to the 85th of their offsets
    assert np.allclose(qrs[:, 0], np.percentile(ons, 15, axis=0), atol=1)
    assert np.allclose(qrs[:, 1], np.percentile(offs, 85, axis=0), atol=1)
    assert (qrs[:, 0] <= np.median(ons, axis=0)).all() and (qrs[:, 1] >= np.median(offs, axis=0)).all()
    assert len(_runs(y == 1)) == len(_runs(y == 3)) == 5  # as marked in every lead: 5 P and 5 T waves


def test_a_grown_head_starts_as_the_leads_model_with_their_mean_as_the_global_row():
    from ecg_core.models import create_model
    from ecg_core.train.delineation import grown_state

    torch.manual_seed(0)
    leads = create_model("delineation_unet", width=4, depth=2).eval()
    grown = create_model("delineation_unet", width=4, depth=2, global_row=True).eval()
    grown.load_state_dict(grown_state(leads.state_dict(), grown))
    x = torch.randn(2, 12, 600)
    with torch.no_grad():
        a, b = leads({"x": x}), grown({"x": x})
    assert b.shape == (2, 4, 13, 600)
    assert torch.allclose(b[:, :, :12], a, atol=1e-5)
    assert torch.allclose(b[:, :, 12], a.mean(dim=2), atol=1e-5)  # the head is 1 x 1: mean weights, mean logits


def test_global_boundaries_come_from_the_global_waves_where_they_have_the_beat():
    from ecg_core.signal.intervals import global_fiducials

    fs = 500.0
    # three leads, two beats (R at 500 and 1000); P before and T after each
    leads = [_w(p=[(400 + d, 420, 440), (900 + d, 920, 940)], qrs=[(480 + d, 500, 520 - d), (980 + d, 1000, 1020)],
                t=[(600, 650, 700 + d), (1100, 1150, 1200)]) for d in (0, 2, 4)]
    rule = global_fiducials(leads, fs)
    assert rule.shape == (2, 7) and rule[0, 2] == pytest.approx(480.6)  # 15th percentile of 480, 482, 484
    g = _w(p=[(395, 420, 445)], qrs=[(470, 500, 530)], t=[(590, 650, 710)])  # the first beat only
    both = global_fiducials(leads, fs, global_waves=g)
    assert both[0, [0, 1, 2, 4, 6]].tolist() == [395, 445, 470, 530, 710]
    assert np.allclose(both[1], rule[1], equal_nan=True)  # no global waves there: the leads' rule
    assert both[0, 3] == rule[0, 3] and both[0, 5] == rule[0, 5]  # R and the T peak stay the leads'


def test_delineate_with_a_global_row_model_fills_global_waves_and_measures_with_them(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.models import create_model
    from ecg_core.pipeline import delineate
    from ecg_core.train.delineation import grown_state, load_delineation_model
    from ecg_core.waves import LeadWaves
    from tests.conftest import ROOT

    shipped = load_delineation_model(ROOT / "weights" / "delineation_unet.pt")[0].members[0]
    model = create_model("delineation_unet", global_row=True)
    model.load_state_dict(grown_state(shipped.state_dict(), model))
    rec, _ = load_ludb("9")  # held out from fold 0's model
    d = delineate(rec, "unet", model=model)
    plain = delineate(rec, "unet", model=shipped)
    assert plain.global_waves is None and isinstance(d.global_waves, LeadWaves)
    assert len(d.global_waves["QRS"]) == len(plain.beats("II"))  # one global QRS per beat
    m = d.measure()
    assert 60 <= m.qrs_ms <= 140 and 300 <= m.qt_ms <= 500, m


def test_dropped_leads_lose_their_labels_and_the_global_row_keeps_its():
    from ecg_core.data.augment import lead_dropout

    x = np.ones((12, 100), dtype=np.float32)
    labels = np.ones((13, 100), dtype=np.int64)
    out, _, lab = lead_dropout(x, 500.0, np.random.default_rng(3), p=0.5, labels=labels)
    dropped = (out == 0).all(axis=1)
    assert 0 < dropped.sum() < 12
    assert (lab[:12][dropped] == -1).all() and (lab[:12][~dropped] == 1).all() and (lab[12] == 1).all()
