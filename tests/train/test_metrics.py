"""Class report against counts worked out by hand, with and without the detector's extra row/column."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.metrics import class_report, confusion


def test_plain_confusion():
    cm = confusion(np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 0, 2]), 3)
    assert cm.tolist() == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    r = class_report(cm, ("N", "S", "V"), macro_over=("N", "S", "V"))
    assert r["N"]["se"] == pytest.approx(2 / 3) and r["N"]["ppv"] == pytest.approx(2 / 3)
    assert r["S"]["f1"] == pytest.approx(0.5) and r["V"]["f1"] == 1.0
    assert r["accuracy"] == pytest.approx(4 / 6)


def test_missed_and_extra_beats_count_against_se_and_ppv():
    # rows: true N, true S, no reference beat; columns: predicted N, predicted S, not detected
    cm = np.array([[8, 0, 2], [1, 3, 1], [1, 1, 0]])
    r = class_report(cm, ("N", "S"), macro_over=("N", "S"))
    assert r["N"]["se"] == pytest.approx(8 / 10)  # two N beats the detector missed
    assert r["N"]["ppv"] == pytest.approx(8 / 10)  # one extra detection called N
    assert r["S"]["se"] == pytest.approx(3 / 5) and r["S"]["ppv"] == pytest.approx(3 / 4)
    assert r["accuracy"] == pytest.approx(11 / 15)
