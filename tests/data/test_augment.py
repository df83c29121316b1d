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


def test_muscle_noise_stays_in_its_band_at_each_rate():
    """The filters are designed once per rate and reused: a design made for one rate must never serve another."""
    x = np.zeros((2, 20_000), np.float32) + np.sin(np.arange(20_000) / 50.0).astype(np.float32)
    first = aug.muscle_noise(x, 360.0, np.random.default_rng(4))
    for fs in (360.0, 500.0, 250.0, 360.0):
        n = aug.muscle_noise(x, fs, np.random.default_rng(4)) - x
        f, p = np.fft.rfftfreq(n.shape[-1], 1 / fs), np.abs(np.fft.rfft(n, axis=-1)) ** 2
        share = p[:, (f >= 15) & (f <= min(150.0, 0.45 * fs) + 10)].sum() / p.sum()
        assert share > 0.95, (fs, share)  # 20-150 Hz (below Nyquist), 4th-order band-pass
    assert np.array_equal(aug.muscle_noise(x, 360.0, np.random.default_rng(4)), first)


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


def _demo_with_labels():
    rec = demo_record()
    r = rec.annotations["atr"].sample_idx
    labels = np.zeros(rec.signal.shape, dtype=int)
    for k in r:
        labels[:, k - 20:k + 21] = 2
    return rec, r, labels


@pytest.mark.parametrize("op", ["time_warp", "shift"])
def test_fiducial_marks_move_with_time_warp_and_shift(op):
    rec, r, labels = _demo_with_labels()
    lead = rec.lead_index("II")
    fn = getattr(aug, op)
    for seed in range(5):
        kw = {"strength": 0.25} if op == "time_warp" else {"max_s": 0.4}
        y, marks, lab = fn(rec.signal, rec.fs, np.random.default_rng(seed), marks=r, labels=labels, **kw)
        assert y.shape == rec.signal.shape and not np.shares_memory(y, rec.signal)
        inside = marks[(marks > 20) & (marks < rec.n_samples - 20)]
        assert len(inside) >= len(r) - 2
        for m in inside:  # the R peak is at its moved mark (within 2 samples) and inside its moved label run
            assert abs(int(np.argmax(y[lead, m - 15:m + 16])) - 15) <= 2
            assert lab[lead, m] == 2
    # a warp really moves marks (not a no-op), by tens of samples somewhere
    _, moved, _ = aug.time_warp(rec.signal, rec.fs, np.random.default_rng(0), strength=0.25, marks=r)
    assert np.abs(moved - r).max() > 10


def test_lead_dropout_unlabels_dropped_leads_and_keeps_one():
    rec, r, labels = _demo_with_labels()
    for seed in range(20):
        y, _, lab = aug.lead_dropout(rec.signal, rec.fs, np.random.default_rng(seed), p=0.9, labels=labels)
        dropped = ~y.any(axis=1)
        assert not dropped.all()
        assert (lab[dropped] == -1).all() and (lab[~dropped] == labels[~dropped]).all()


def test_frequency_transforms_keep_waves_in_place():
    rec, r, _ = _demo_with_labels()
    lead = rec.lead_index("II")
    rng = np.random.default_rng(0)
    for y in (aug.band_stop(rec.signal, rec.fs, rng), aug.spectral_perturb(rec.signal, rec.fs, rng)):
        assert y.shape == rec.signal.shape and not np.allclose(y, rec.signal)
        for m in r[1:-1]:
            assert abs(int(np.argmax(y[lead, m - 15:m + 16])) - 15) <= 3
    # a 4 Hz-wide band-stop at 10 Hz removes most of a 10 Hz sine and leaves a 30 Hz one
    t = np.arange(5000) / 500.0
    power = {}
    for f in (10.0, 30.0):
        x = np.sin(2 * np.pi * f * t)[None]
        y = aug.band_stop(x, 500.0, rng, centre_hz=10.0)
        power[f] = 10 * np.log10((y[0, 500:-500] ** 2).mean() / (x[0, 500:-500] ** 2).mean())
    assert power[10.0] < -20 and abs(power[30.0]) < 0.5


def test_mixup_and_cutmix_mix_labels_by_the_share_they_mix():
    rng = np.random.default_rng(0)
    x = np.stack([np.full((2, 100), float(i)) for i in range(6)]).astype(np.float32)
    y = np.eye(6)
    xm, ym, lam, perm = aug.mixup(x, y, rng)
    assert np.allclose(xm[:, 0, 0], lam * np.arange(6) + (1 - lam) * perm)
    assert np.allclose(ym.sum(axis=1), 1) and np.allclose(ym[np.arange(6), np.arange(6)][perm != np.arange(6)],
                                                           lam[perm != np.arange(6)])
    xc, yc, lam, perm = aug.cutmix(x, y, rng)
    own = (xc[:, 0, :] == np.arange(6)[:, None]).mean(axis=1)
    other = perm != np.arange(6)
    assert np.allclose(own[other], lam[other]) and np.allclose(yc[np.arange(6), np.arange(6)][other], lam[other])


def test_synthetic_ecg_has_the_asked_rate():
    rec = aug.synthetic_ecg(duration_s=20, fs=500, heart_rate=90, seed=3)
    assert rec.signal.shape == (12, 10000) and rec.lead_names[1] == "II"
    r = rec.annotations["qrs"].sample_idx
    assert 60 / np.median(np.diff(r) / rec.fs) == pytest.approx(90, abs=4)
    assert 28 <= len(r) <= 32  # every beat of the 20 s once (NeuroKit2's ecg_peaks on lead II found 13)
    one = aug.synthetic_ecg(duration_s=10, fs=360, heart_rate=60, seed=1, leads=1)
    assert one.signal.shape == (1, 3600) and 9 <= len(one.annotations["qrs"].sample_idx) <= 11


def test_augmenter_applies_named_ops_and_refuses_unknown_ones():
    rec, r, labels = _demo_with_labels()
    a = aug.SignalAugmenter(list(aug.AUGMENTATIONS), p=1.0)
    y, marks, lab = a(rec.signal, rec.fs, np.random.default_rng(0), marks=r, labels=labels)
    assert y.dtype == np.float32 and lab.shape[-1] == y.shape[-1] and len(marks) == len(r)
    with pytest.raises(ValueError, match="unknown augmentation nope"):
        aug.SignalAugmenter(["muscle", "nope"])


def test_augment_batch_keeps_shape_and_changes_only_what_it_should():
    import torch

    rec = demo_record()
    x = torch.from_numpy(np.stack([rec.signal[:, :2000], rec.signal[:, 2000:4000]]))
    a = aug.SignalAugmenter(["tachycardia", "muscle"], p=1.0)
    y = aug.augment_batch(x, rec.fs, a, np.random.default_rng(0))
    assert y.shape == x.shape and y.dtype == x.dtype and not torch.equal(x, y)
    assert torch.equal(x, torch.from_numpy(np.stack([rec.signal[:, :2000], rec.signal[:, 2000:4000]])))


def test_beat_and_multimodal_tasks_augment_only_while_training():
    import torch
    import torch.nn as nn

    from ecg_core.train.beats import BeatTask
    from ecg_core.train.multimodal import MultimodalTask

    seen = []

    class Probe(nn.Module):
        def forward(self, batch):
            seen.append(batch["x"].clone())
            return torch.zeros(len(batch["x"]), 5, requires_grad=True)

    task = BeatTask(nn.CrossEntropyLoss(), augment_ops=("time_warp", "gaussian"))
    batch = {"x": torch.randn(4, 1, 280), "template": torch.randn(4, 1, 280), "rr": torch.ones(4, 9),
             "y": torch.zeros(4, dtype=torch.long)}
    m = Probe()
    m.train()
    task.step(m, batch)
    m.eval()
    task.step(m, batch)
    assert not torch.equal(seen[0], batch["x"]) and torch.equal(seen[1], batch["x"])
    state = task.state_dict()  # the random state travels with a resumed run
    first = aug.augment_batch(batch["x"], 360.0, task.ops, task.rng)
    task.load_state_dict(state)
    assert torch.equal(first, aug.augment_batch(batch["x"], 360.0, task.ops, task.rng))
    assert MultimodalTask(("muscle",)).ops is not None and MultimodalTask().ops is None


def test_pacing_spikes_precede_every_qrs_of_a_ludb_record_and_leave_the_rest(ludb):
    from ecg_core.data.augment import pacing_spikes
    from ecg_core.train.delineation import ludb_arrays

    x, y = ludb_arrays(["1"])
    x, y = x[0], y[0]
    qrs_on = np.flatnonzero(np.diff(np.r_[0, (y == 2).any(axis=0).astype(int)]) == 1)
    assert len(qrs_on) == 6  # the beats inside the marked span
    for seed in range(5):
        added = pacing_spikes(x, 500.0, np.random.default_rng(seed), y, atrial=0.0, band=None) - x
        at = np.flatnonzero(np.abs(added).max(axis=0) > 1e-6)
        starts = at[np.r_[True, np.diff(at) > 3]]
        assert len(starts) == len(qrs_on)  # one pulse a beat
        lat_ms = (qrs_on - starts) * 2.0
        assert lat_ms.min() >= 4 - 2 and lat_ms.max() <= 60 + 2  # 4-60 ms before the QRS, a sample of jitter
        assert np.ptp(lat_ms) <= 4  # one latency for the segment
        assert 0.15 - 1e-6 <= np.abs(added).max() <= 0.8 + 1e-6
        assert (np.abs(added[:, starts]) > 0).sum(axis=0).min() >= 6  # seen in most leads at once
    # band-passed like the model's input: spread over a few samples, still one step-like spike
    added = pacing_spikes(x, 500.0, np.random.default_rng(0), y, atrial=0.0) - x
    assert np.abs(added).max() > 0.05 and np.abs(added[:, :qrs_on[0] - 40]).max() < 0.02
    # no wave labelled: nothing added
    assert pacing_spikes(x, 500.0, np.random.default_rng(0), np.full_like(y, -1)) is x
