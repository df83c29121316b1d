"""Confidence intervals of error means and SDs by resampling records (``ecg_core.evaluate.record_bootstrap``)."""

from __future__ import annotations

import numpy as np
import pytest


def test_intervals_follow_records_not_beats():
    from ecg_core.evaluate import record_bootstrap

    rng = np.random.default_rng(1)
    offsets = rng.normal(0.0, 5.0, 20)  # each record off by its own constant, 50 beats each
    parts = [(r, off + rng.normal(0.0, 0.5, 50)) for r, off in enumerate(offsets)]
    ci = record_bootstrap(parts)
    all_e = np.concatenate([e for _, e in parts])
    lo, hi = ci["mean_ci95_ms"]
    assert lo < all_e.mean() < hi
    # 20 records: the mean is known to about +-2 SD/sqrt(20), not to the +-2 SD/sqrt(1000) of 1000 beats
    between = offsets.std(ddof=1)
    assert 2.5 * between / np.sqrt(20) < hi - lo < 5 * between / np.sqrt(20)
    assert hi - lo > 4 * (2 * 1.96 * all_e.std(ddof=1) / np.sqrt(len(all_e)))
    lo, hi = ci["sd_ci95_ms"]
    assert lo < all_e.std(ddof=1) < hi and hi - lo > 1.5
    assert record_bootstrap(parts) == ci  # fixed seed
    # a record's errors may come in pieces (leads, waves): the same record, the same interval
    split = [(r, e[:20]) for r, e in parts] + [(r, e[20:]) for r, e in parts]
    assert record_bootstrap(split) == ci


def test_too_few_records_give_no_interval():
    from ecg_core.evaluate import record_bootstrap

    assert record_bootstrap([(0, np.arange(10.0)), (0, np.arange(3.0))]) == {"mean_ci95_ms": [], "sd_ci95_ms": []}
    assert record_bootstrap([]) == {"mean_ci95_ms": [], "sd_ci95_ms": []}


def test_paired_difference_sees_what_separate_intervals_cannot():
    from ecg_core.evaluate import paired_sd_difference, record_bootstrap

    rng = np.random.default_rng(2)
    offsets = rng.normal(0.0, 5.0, 25)  # hard records are hard for both methods
    a = [(f"r{r}", off + rng.normal(0.0, 2.0, 40)) for r, off in enumerate(offsets)]
    b = [(name, e + rng.normal(0.0, 1.5, len(e))) for name, e in a]  # b: a's errors plus some of its own
    sd = lambda parts: np.concatenate([e for _, e in parts]).std(ddof=1)  # noqa: E731
    d = paired_sd_difference(a, b)
    assert d["n_records"] == 25 and d["sd_diff_ms"] == pytest.approx(sd(a) - sd(b), abs=1e-3)
    lo, hi = d["sd_diff_ci95_ms"]
    assert lo < d["sd_diff_ms"] < hi < 0  # a is narrower, and these records show it
    # the separate intervals overlap: they cannot tell the two apart
    ahi, blo = record_bootstrap(a)["sd_ci95_ms"][1], record_bootstrap(b)["sd_ci95_ms"][0]
    assert blo < ahi
    swapped = paired_sd_difference(b, a)
    assert swapped["sd_diff_ms"] == -d["sd_diff_ms"] and swapped["sd_diff_ci95_ms"] == [-hi, -lo]
    assert paired_sd_difference(a, a)["sd_diff_ci95_ms"] == [0.0, 0.0]
    # records without errors on one side do not count; fewer than two records give no interval
    assert paired_sd_difference(a + [("x", np.arange(5.0))], b)["n_records"] == 25
    assert paired_sd_difference(a[:1], b)["sd_diff_ci95_ms"] == []
