"""The delineator's training batches: an epoch of ``CropBatches`` draws each record once, in a shuffled
order, and a crop keeps the record it came from."""

from __future__ import annotations

import numpy as np


def _batches():
    from ecg_core.train.delineation import CropBatches

    x = np.zeros((5, 12, 400), dtype=np.float32)
    for i in range(5):
        x[i, 0, 0] = i  # each record's own tag, read back from the crops
    y = np.zeros((5, 12, 400), dtype=np.int64)
    return CropBatches(x, y, batch_size=4, crop=400, augment=False, seed=3)


def test_an_epoch_draws_each_record_once():
    b = _batches()
    seen = np.concatenate([batch["x"][:, 0, 0].numpy() for batch in b]).astype(int)
    assert len(b) == 2 and sorted(seen.tolist()) == [0, 1, 2, 3, 4]
    again = np.concatenate([batch["x"][:, 0, 0].numpy() for batch in b]).astype(int)
    assert sorted(again.tolist()) == [0, 1, 2, 3, 4] and again.tolist() != seen.tolist()  # reshuffled
