"""R-peak detection on real MIT-BIH records (EC57 counting) and on synthetic stress cases."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.io import load_record
from ecg_core.signal import RPEAK_METHODS, compare_beats, detect_rpeaks, episode_mask_intervals


def _score(rec, peaks):
    ann = rec.annotations["atr"]
    return compare_beats(ann.beats().sample_idx, peaks, rec.fs,
                         exclude=episode_mask_intervals(ann.sample_idx, ann.symbol))


# records chosen for what makes them hard: 105 noise, 108 large P/T waves, 203 multiform PVCs and noise,
# 207 flutter and blocks, 222 junctional/AF runs, 107 paced (pacing spikes)
@pytest.mark.parametrize("name, se_min, ppv_min", [
    ("100", 0.999, 0.999), ("105", 0.995, 0.98), ("108", 0.995, 0.91), ("203", 0.98, 0.99),
    ("207", 0.995, 0.995), ("222", 0.995, 0.995), ("107", 0.995, 0.995),
])
def test_ecgcore_on_hard_mitdb_records(mitdb, name, se_min, ppv_min):
    rec = load_record(mitdb / f"{name}.hea")
    c = _score(rec, detect_rpeaks(rec.signal, rec.fs))
    assert c.se >= se_min, (c.tp, c.fn, c.fp)
    assert c.ppv >= ppv_min, (c.tp, c.fn, c.fp)


def test_inverted_lead_gives_the_same_beats(mitdb):
    rec = load_record(mitdb / "100.hea")
    x = rec.signal[:1, : 360 * 300]
    a = detect_rpeaks(x, rec.fs)
    b = detect_rpeaks(-x, rec.fs)
    c = compare_beats(a, b, rec.fs, window_ms=20)
    assert c.tp >= len(a) - 1 and abs(len(a) - len(b)) <= 1


def test_flat_first_lead_falls_back_to_a_good_one(mitdb):
    rec = load_record(mitdb / "100.hea")
    x = rec.signal[:, : 360 * 300].copy()
    x[0] = np.random.default_rng(0).normal(0, 0.005, x.shape[1])
    ref = rec.crop(0, 300).annotations["atr"].beats().sample_idx
    c = compare_beats(ref, detect_rpeaks(x, rec.fs), rec.fs)
    assert c.se > 0.99 and c.ppv > 0.99


def test_noise_robustness_on_synthetic_ecg(ecg_like):
    sig, fs = ecg_like
    clean_peaks = detect_rpeaks(sig, fs)
    noisy = sig + np.random.default_rng(1).normal(0, 0.08, sig.shape)
    c = compare_beats(clean_peaks, detect_rpeaks(noisy, fs), fs)
    assert c.se == 1.0 and c.ppv == 1.0


def test_pacing_spikes_do_not_double_count(ecg_like):
    sig, fs = ecg_like
    peaks = detect_rpeaks(sig, fs)
    spiky = sig.copy()
    for p in peaks:  # a 2 ms, 4 mV pacing spike 40 ms before each QRS
        spiky[:, p - int(0.04 * fs): p - int(0.04 * fs) + 1] += 4.0
    c = compare_beats(peaks, detect_rpeaks(spiky, fs), fs)
    assert c.se == 1.0 and c.ppv == 1.0


def test_demo_record_beats_are_found_exactly():
    from ecg_core.data import demo_record

    rec = demo_record()
    c = compare_beats(rec.annotations["atr"].sample_idx, detect_rpeaks(rec.signal, rec.fs), rec.fs, window_ms=20)
    assert (c.tp, c.fn, c.fp) == (12, 0, 0)


@pytest.mark.parametrize("method", sorted(RPEAK_METHODS))
def test_every_method_finds_the_beats_of_a_clean_record(mitdb, method):
    rec = load_record(mitdb / "100.hea").crop(0, 120)
    c = _score(rec, detect_rpeaks(rec.signal, rec.fs, method=method))
    assert c.se > 0.99 and c.ppv > 0.99


def test_unknown_method_lists_valid_ones():
    with pytest.raises(ValueError, match="valid: ecgcore, neurokit, xqrs"):
        detect_rpeaks(np.zeros(1000), 250, method="magic")


def test_other_sampling_rates(mitdb):
    from ecg_core.signal import resample

    rec = load_record(mitdb / "119.hea").crop(0, 300)
    ref = rec.annotations["atr"].beats().sample_idx
    for fs in (128.0, 250.0, 1000.0):
        x = resample(rec.signal, rec.fs, fs)
        peaks = detect_rpeaks(x, fs) * rec.fs / fs
        c = compare_beats(ref, peaks, rec.fs)
        assert c.se > 0.995 and c.ppv > 0.995, fs


def test_ludb_is_a_held_out_check(ludb, monkeypatch):
    """LUDB was never looked at while writing the detector: lead II QRS marks of 40 records."""
    from ecg_core.evaluate import evaluate_rpeaks

    monkeypatch.setenv("ECG_DATA_DIR", str(ludb.parent.parent if ludb.name == "data" else ludb.parent))
    res = evaluate_rpeaks("ludb", records=[str(i) for i in range(1, 41)])
    assert res["annotation"] == "ii" and res["tp"] + res["fn"] > 350
    assert res["se"] > 0.99 and res["ppv"] > 0.99
