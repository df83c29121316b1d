"""Augmentation: labels and marks follow the signal; noise lands at the asked SNR."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.data import augment as aug
from ecg_core.data.demo import demo_record


def test_time_scale_moves_marks_and_labels_with_the_waves():
    rec = demo_record()
    r = rec.annotations["atr"].sample_idx
    labels = np.zeros(rec.n_samples, dtype=int)
    for k in r:
        labels[k - 20:k + 21] = 2  # an 80 ms "QRS" around each R
    y, marks, lab = aug.time_scale(rec.signal, rec.fs, 1.5, marks=r, labels=labels)
    assert y.shape == (12, round(rec.n_samples / 1.5))
    lead = rec.lead_index("II")
    # each R (the largest value near its mark) is still at its moved mark, and inside its moved label run
    for m in marks[1:-1]:
        assert abs(int(np.argmax(y[lead, m - 15:m + 16])) - 15) <= 2
        assert lab[m] == 2
    assert (lab == 2).sum() == pytest.approx((labels == 2).sum() / 1.5, rel=0.05)


@pytest.mark.parametrize("kind", sorted(aug.NOISE_KINDS))
def test_noise_has_the_asked_snr_and_leaves_the_input_alone(kind):
    rec = demo_record()
    before = rec.signal.copy()
    y = aug.add_noise(rec.signal, rec.fs, kind, snr_db=6.0, seed=1)
    assert np.array_equal(rec.signal, before)
    x = rec.signal - rec.signal.mean(axis=1, keepdims=True)
    n = (y - rec.signal) - (y - rec.signal).mean(axis=1, keepdims=True)
    snr = 10 * np.log10((x ** 2).mean(axis=1) / (n ** 2).mean(axis=1))
    assert np.allclose(snr, 6.0, atol=0.05)
    assert np.array_equal(aug.add_noise(rec.signal, rec.fs, kind, 6.0, seed=1), y)  # reproducible


def test_invert_and_gain():
    rec = demo_record()
    rng = np.random.default_rng(0)
    assert np.array_equal(aug.invert(rec.signal, rec.fs, rng, leads=[0])[0], -rec.signal[0])
    g = aug.amplitude_scale(rec.signal, rec.fs, rng, 2.0, 2.0)
    big = np.abs(rec.signal) > 0.05
    ratio = g[big] / rec.signal[big]
    assert ratio.min() >= 1.8 - 1e-4 and ratio.max() <= 2.2 + 1e-4  # record gain 2, lead gains 0.9-1.1
    per_lead = [np.ptp(g[i][big[i]] / rec.signal[i][big[i]]) for i in range(12)]
    assert max(per_lead) < 1e-3  # one gain per lead
    with pytest.raises(ValueError, match="muscle"):
        aug.add_noise(rec.signal, rec.fs, "thermal", 10.0)
