"""LUDB conclusions as a multi-label set (the 12-lead diagnosis targets) and the fold splits (nested ones included)."""

from __future__ import annotations

from ecg_core.data.ludb import DIAGNOSIS_CLASSES, ludb_diagnoses, ludb_fold_split, ludb_folds


def test_ludb_diagnoses_counts_and_metadata(ludb):
    names, y, meta = ludb_diagnoses()
    assert len(names) == 200 and y.shape == (200, len(DIAGNOSIS_CLASSES))
    counts = dict(zip(DIAGNOSIS_CLASSES, y.sum(axis=0).tolist()))
    # from ludb.csv: 143 records in sinus rhythm, 66 left + 3 right axis deviations, 10 with a pacemaker
    assert counts["rhythm_abnormal"] == 200 - 143 + 1  # record 'Sinus rhythm' + 'Aberrant conduction'
    assert counts["axis_deviation"] == 69
    assert sum(m["paced"] for m in meta.values()) == 10
    assert meta["1"] == {"sex": "F", "age": 51.0, "paced": False}
    assert y.sum(axis=1).max() <= len(DIAGNOSIS_CLASSES) and (y.sum(axis=1) == 0).sum() < 40


def test_fold_split_fits_on_the_other_folds_and_validates_on_every_eighth():
    folds = ludb_folds()
    fit, inner = ludb_fold_split(1)
    assert (len(fit), len(inner)) == (140, 20) and not set(fit + inner) & set(folds[1])
    assert not set(fit) & set(inner) and set(fit + inner) == set().union(*(folds[j] for j in (0, 2, 3, 4)))
