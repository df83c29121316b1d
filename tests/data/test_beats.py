"""Beat dataset on real records: class counts per split, labels, RR features, and real-time causality."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.data.beats import (
    AAMI_CLASSES,
    DS1,
    DS1_FOLDS,
    DS2,
    PACED,
    beat_features,
    label_beats,
    mitdb_beats,
    rr_feature_names,
)
from ecg_core.io import load_record
from ecg_core.record import Record
from ecg_core.signal import detect_rpeaks

# de Chazal, O'Dwyer & Reilly 2004, Table I (reference beats)
DE_CHAZAL = {"DS1": {"N": 45866, "S": 944, "V": 3788, "F": 415}, "DS2": {"N": 44259, "S": 1837, "V": 3221, "F": 388}}


def test_splits_are_disjoint_and_exclude_paced():
    assert len(DS1) == len(DS2) == 22 and not set(DS1) & set(DS2)
    assert not set(PACED) & (set(DS1) | set(DS2))
    assert sorted(r for f in DS1_FOLDS for r in f) == sorted(DS1)


@pytest.mark.slow
@pytest.mark.parametrize("split", ["DS1", "DS2"])
def test_class_counts_close_to_de_chazal(mitdb, tmp_path_factory, split, monkeypatch):
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    beats = mitdb_beats(DS1 if split == "DS1" else DS2, "diagnostic")
    counts = beats.counts()
    for c, ref in DE_CHAZAL[split].items():
        tol = 0.02 if c in ("N", "V") else 0.08  # S beats are the ones a detector misses most (aberrated APCs)
        assert abs(counts[c] - ref) <= tol * ref, (c, counts[c], ref)
    assert counts["unmatched"] < 0.015 * len(beats)


def test_labels_follow_aami_mapping(mitdb):
    rec = load_record(mitdb / "208.hea").crop(0, 600)
    r = detect_rpeaks(rec.signal, rec.fs)
    y = label_beats(rec, r)
    ann = rec.annotations["atr"].beats()
    n_f = sum(s == "F" for s in ann.symbol)
    assert n_f > 20
    n_v = sum(s in "VE" for s in ann.symbol)
    # every F and V reference beat is labelled, except the few the detector misses
    assert 0 <= n_f - int((y == AAMI_CLASSES.index("F")).sum()) <= 0.02 * n_f
    assert 0 <= n_v - int((y == AAMI_CLASSES.index("V")).sum()) <= 0.02 * n_v


def test_rr_features_diagnostic(mitdb):
    rec = load_record(mitdb / "100.hea").crop(0, 120)
    r = detect_rpeaks(rec.signal, rec.fs)
    f = beat_features(rec, r, "diagnostic")
    names = rr_feature_names("diagnostic")
    assert f.x.shape == (len(r), 1, 280) and f.rr.shape == (len(r), len(names))
    k = 10
    pre, post = f.rr[k, names.index("pre_rr_s")], f.rr[k, names.index("post_rr_s")]
    assert pre == pytest.approx((r[k] - r[k - 1]) / 360, rel=1e-5)
    assert post == pytest.approx((r[k + 1] - r[k]) / 360, rel=1e-5)
    assert f.rr[k, names.index("pre_local")] == pytest.approx(pre / f.rr[k, names.index("local_rr_s")], rel=1e-5)
    assert np.allclose(f.x.mean(axis=-1), 0, atol=1e-4) and np.allclose(f.x.std(axis=-1), 1, atol=1e-3)


def test_average_rr_is_the_mean_within_five_minutes():
    # a beat every 0.8 s for 10 minutes, with a 4 s pause before beat 301 (at 244 s)
    gaps = np.full(760, 0.8)
    gaps[300] = 4.0
    t = np.concatenate([[0.0], np.cumsum(gaps)])
    r = np.round(t * 360).astype(np.int64)
    pre = np.concatenate([[0.8], gaps])  # interval ending at each beat (the first beat's: the next one's)
    rec = Record(np.zeros((1, r[-1] + 400)), 360.0, ("MLII",))
    for mode, k in (("diagnostic", 100), ("diagnostic", 700), ("realtime", 500), ("realtime", 200)):
        f = beat_features(rec, r, mode)
        names = rr_feature_names(mode)
        # intervals ending within 300 s of beat k: either side (diagnostic) or before it, its own included
        near = np.abs(t - t[k]) <= 300 if mode == "diagnostic" else (t >= t[k] - 300) & (t <= t[k])
        want = pre[near].mean()
        assert (want > 0.8) == bool(near[301])  # the pause pulls the mean of the windows that hold it
        assert f.rr[k, names.index("avg_rr_s")] == pytest.approx(want, rel=1e-3)
        assert f.rr[k, names.index("pre_avg")] == pytest.approx(0.8 / want, rel=1e-3)



def test_realtime_mode_is_causal(mitdb):
    """No sample after a beat's window end, and no later beat, changes that beat's features."""
    rec = load_record(mitdb / "119.hea").crop(0, 120)
    r = detect_rpeaks(rec.signal, rec.fs)
    k = len(r) // 2
    end = r[k] + 140  # window end at 360 Hz
    changed = rec.signal.copy()
    changed[:, end:] = np.random.default_rng(0).normal(0, 2.0, changed[:, end:].shape)  # wreck the future
    a = beat_features(rec, r, "realtime", (0, 1))
    b = beat_features(rec.replace(signal=changed), r[: k + 1], "realtime", (0, 1))
    for name in ("x", "template", "rr"):
        assert np.array_equal(getattr(a, name)[: k + 1], getattr(b, name)[: k + 1]), name
    # the real-time premature-beat rule reads past beats only; a looser rule (fires on about a third of the
    # beats here) so that the comparison has something to compare
    from ecg_core.predict.beats import premature_s_rule, rr_irregularity

    loose = {"pre_local": 1.0, "pre_avg": 1.0, "qrs_corr": 0.0, "irregularity": 10.0}
    ra, rb = premature_s_rule(a, loose)[: k + 1], premature_s_rule(b, loose)[: k + 1]
    assert 0 < ra.sum() < k and np.array_equal(ra, rb)
    assert np.array_equal(rr_irregularity(a)[: k + 1], rr_irregularity(b)[: k + 1])
    # the diagnostic mode does look ahead: the same change alters it (so this test can fail)
    c = beat_features(rec, r, "diagnostic")
    d = beat_features(rec.replace(signal=changed), r, "diagnostic")
    assert not np.array_equal(c.x[k], d.x[k]) or not np.array_equal(c.rr[k], d.rr[k])


def test_realtime_model_output_is_causal(mitdb):
    import torch

    from ecg_core.models import create_model

    rec = load_record(mitdb / "119.hea").crop(0, 60)
    r = detect_rpeaks(rec.signal, rec.fs)
    k = len(r) // 2
    changed = rec.signal.copy()
    changed[:, r[k] + 140:] *= -3.0
    model = create_model("beat_template_resnet", n_rr=len(rr_feature_names("realtime"))).eval()
    outs = []
    for sig, rr in ((rec.signal, r), (changed, r[: k + 1])):
        f = beat_features(rec.replace(signal=sig), rr, "realtime")
        batch = {"x": torch.from_numpy(f.x[: k + 1]), "template": torch.from_numpy(f.template[: k + 1]),
                 "rr": torch.from_numpy(f.rr[: k + 1])}
        with torch.inference_mode():
            outs.append(model(batch).numpy())
    assert np.array_equal(outs[0], outs[1])


def test_other_sampling_rates_are_resampled_to_360(mitdb):
    from ecg_core.signal import resample

    rec = load_record(mitdb / "100.hea").crop(0, 60)
    r = detect_rpeaks(rec.signal, rec.fs)
    rec250 = rec.replace(signal=resample(rec.signal, 360, 250), fs=250.0)
    f = beat_features(rec250, np.round(r * 250 / 360).astype(int))
    g = beat_features(rec, r)
    assert f.x.shape == g.x.shape
    assert np.corrcoef(f.x[5, 0], g.x[5, 0])[0, 1] > 0.95  # same beat, up to a one-sample shift


def test_premature_rule_features_by_hand():
    from types import SimpleNamespace

    from ecg_core.data.beats import WINDOW, rr_feature_names
    from ecg_core.predict.beats import premature_s_rule, qrs_template_corr, rr_irregularity

    names = rr_feature_names("diagnostic")
    n = 40
    rr = np.ones((n, len(names)))
    rr[:, names.index("pre_rr_s")] = 0.8  # a steady 75 bpm ...
    rr[20:, names.index("pre_rr_s")] = 0.8 + 0.3 * (np.arange(20) % 2)  # ... then alternating 0.8 / 1.1 s
    x = np.zeros((n, 1, sum(WINDOW)), np.float32)
    x[:, 0, WINDOW[0]] = 1.0  # a spike at R
    x[:, 0, WINDOW[0] + 5] = -0.5
    tmpl = x.copy()
    tmpl[n // 2:] *= -1  # the second half's beats upside down against the usual beat
    beats = SimpleNamespace(rr=rr, x=x, template=tmpl, r_idx=np.arange(n) * 300, mode="diagnostic", record=None)
    irr = rr_irregularity(beats)
    assert np.allclose(irr[:11], 0.0)  # no change of RR within 8 beats
    assert irr[30] == pytest.approx(0.3 / 0.95, rel=0.1)  # |change| 0.3 s over a mean of about 0.95 s
    corr = qrs_template_corr(beats)
    assert np.allclose(corr[:20], 1.0) and np.allclose(corr[20:], -1.0)
    rr[5, names.index("pre_local")] = 0.7  # early: called S; the same beat late, not
    rr[6, names.index("pre_local")] = 1.2
    rule = premature_s_rule(beats)
    assert rule[5] and not rule[6] and rule.sum() == 1
    # causal: the irregularity window of a real-time beat holds the beats before it, not after
    names_rt = rr_feature_names("realtime")
    rr_rt = np.ones((n, len(names_rt)))
    rr_rt[:, names_rt.index("pre_rr_s")] = rr[:, names.index("pre_rr_s")]
    rt = SimpleNamespace(rr=rr_rt, x=x, template=tmpl, r_idx=beats.r_idx, mode="realtime", record=None)
    irr_rt = rr_irregularity(rt)
    assert np.allclose(irr_rt[:20], 0.0) and irr_rt[36] > 0.2  # no change behind beat 19; 36 has 16 behind
    assert irr[24] > 0.2 and irr_rt[24] == 0.0  # beat 24: most changes ahead of it, few behind


def test_premature_rule_finds_the_apcs_of_a_ds1_record_and_spares_atrial_fibrillation(mitdb, monkeypatch):
    """DS1 records (the rule's thresholds were chosen on DS1): 220's APCs in sinus rhythm are found with no
    false alarm; in 201's atrial fibrillation the irregularity guard keeps nine in ten early beats out."""
    monkeypatch.setenv("ECG_DATA_DIR", str(mitdb.parent))
    from ecg_core.predict.beats import premature_s_rule

    b = mitdb_beats(["220"], "diagnostic")
    s = premature_s_rule(b)
    assert (s & (b.y == 1)).sum() >= 55 and (s & (b.y != 1)).sum() <= 2  # measured 61 of 94, no false alarm
    b = mitdb_beats(["201"], "diagnostic")
    early = b.rr[:, rr_feature_names("diagnostic").index("pre_local")] < 0.85
    assert early.sum() > 400 and premature_s_rule(b).sum() <= 60  # measured 48 fired of 447 early beats
