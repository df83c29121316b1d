"""Beat comparison (EC57 counting), heart rate and lead quality."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.signal import compare_beats, episode_mask_intervals, heart_rate, lead_quality


def test_compare_counts_tp_fn_fp():
    c = compare_beats(np.array([100, 460, 820]), np.array([105, 470, 1200]), fs=360)
    assert (c.tp, c.fn, c.fp) == (2, 1, 1)
    assert c.se == pytest.approx(2 / 3) and c.ppv == pytest.approx(2 / 3)


def test_compare_window_is_150_ms_by_default():
    ref = np.array([1000])
    assert compare_beats(ref, np.array([1000 + 54]), fs=360).tp == 1  # 150 ms
    assert compare_beats(ref, np.array([1000 + 55]), fs=360).tp == 0


def test_one_detection_matches_one_reference_only():
    c = compare_beats(np.array([100, 110]), np.array([105]), fs=360)
    assert (c.tp, c.fn, c.fp) == (1, 1, 0)
    c = compare_beats(np.array([100]), np.array([95, 104]), fs=360)
    assert (c.tp, c.fn, c.fp) == (1, 0, 1)


def test_start_and_exclusions():
    ref = np.arange(0, 360 * 600, 360)
    test = ref[::2]
    c = compare_beats(ref, test, fs=360, start_s=300)
    assert c.tp + c.fn == 300
    c = compare_beats(ref, test, fs=360, exclude=[(0, 360 * 600)])
    assert c.tp == c.fn == c.fp == 0
    assert episode_mask_intervals(np.array([5, 10, 20, 30]), ("[", "!", "]", "N")) == [(5, 20)]


def test_heart_rate_min_max_ignore_one_ectopic():
    r = np.arange(0, 360 * 60, 360).astype(np.int64)  # 60 bpm
    r[30] -= 150  # one premature beat
    hr = heart_rate(r, 360)
    assert hr.mean_bpm == pytest.approx(60, abs=0.1)
    assert hr.max_bpm == pytest.approx(60, abs=1) and hr.min_bpm == pytest.approx(60, abs=1)
    assert np.isnan(heart_rate(np.array([5]), 360).mean_bpm)


def test_lead_quality_labels(mitdb):
    from ecg_core.io import load_record

    rec = load_record(mitdb / "100.hea").crop(0, 60)
    sig = np.vstack([rec.signal, np.zeros((1, rec.n_samples)),
                     rec.signal[:1] + np.random.default_rng(0).normal(0, 0.3, rec.n_samples),
                     np.clip(rec.signal[:1], -0.2, 0.2)])
    q = lead_quality(sig, rec.fs, ["MLII", "V5", "flat", "noisy", "clipped"])
    assert [x.label for x in q] == ["good", "good", "flat", "noisy", "saturated"]
    assert q[0].score > 0.95 and q[3].score < 0.2
