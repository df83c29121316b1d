"""Paced records drawn more often (``train delineation --paced-repeat N``): an epoch of ``CropBatches`` draws
each record as many times as its count says, and nothing else changes."""

from __future__ import annotations

import numpy as np


def _batches(repeat):
    from ecg_core.train.delineation import CropBatches

    x = np.zeros((5, 12, 400), dtype=np.float32)
    for i in range(5):
        x[i, 0, 0] = i  # each record's own tag, read back from the crops
    y = np.zeros((5, 12, 400), dtype=np.int64)
    return CropBatches(x, y, batch_size=4, crop=400, augment=False, seed=3, repeat=repeat)


def test_an_epoch_draws_each_record_as_often_as_its_count():
    b = _batches([1, 4, 1, 1, 2])
    seen = np.concatenate([batch["x"][:, 0, 0].numpy() for batch in b]).astype(int)
    assert len(b) == 3 and len(seen) == 9  # ceil(9 / 4) batches
    assert np.bincount(seen, minlength=5).tolist() == [1, 4, 1, 1, 2]


def test_without_counts_each_record_is_drawn_once():
    b = _batches(None)
    seen = np.concatenate([batch["x"][:, 0, 0].numpy() for batch in b]).astype(int)
    assert len(b) == 2 and sorted(seen.tolist()) == [0, 1, 2, 3, 4]
