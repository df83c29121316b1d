"""Confidence intervals of error means and SDs by resampling records (``ecg_core.evaluate.record_bootstrap``)."""

from __future__ import annotations

import numpy as np


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
