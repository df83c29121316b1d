"""LUDB conclusions as a multi-label set (the 12-lead diagnosis targets) and the fold splits (nested ones included)."""

from __future__ import annotations

import pytest

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


def test_nested_split_leaves_both_folds_out():
    folds = ludb_folds()
    fit, inner = ludb_fold_split(1)
    assert (len(fit), len(inner)) == (140, 20) and not set(fit + inner) & set(folds[1])
    fit, inner = ludb_fold_split(1, leave_out=(3,))  # nested: a model that saw neither fold 1 nor fold 3
    assert len(fit) + len(inner) == 120 and len(inner) == 15
    assert not set(fit + inner) & (set(folds[1]) | set(folds[3])) and not set(fit) & set(inner)
    assert set(fit + inner) == set(folds[0]) | set(folds[2]) | set(folds[4])
    with pytest.raises(ValueError, match="fold 1 is the held-out fold"):
        ludb_fold_split(1, leave_out=(1,))


def test_training_a_fold_it_also_leaves_out_is_refused_before_any_training():
    from ecg_core.train.delineation import DelineationSpec, train_delineation

    with pytest.raises(ValueError, match=r"fold\(s\) \[2\] both trained and left out"):
        train_delineation(DelineationSpec(), leave_out=(2,))  # all five folds, fold 2 among them
