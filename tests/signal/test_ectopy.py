"""Rhythm summary from beat classes."""

from __future__ import annotations

from ecg_core.signal.ectopy import ectopy_summary


def test_couplets_runs_bigeminy():
    s = ectopy_summary(list("NVNVNVNNNVVNNVVVN"))
    assert s.counts["V"] == 8 and s.counts["N"] == 9
    assert s.couplets["V"] == 1 and s.runs["V"] == 1 and s.longest_run["V"] == 3
    assert s.bigeminy_episodes["V"] == 1 and s.trigeminy_episodes["V"] == 0
    assert round(s.burden_pct["V"], 2) == round(100 * 8 / 17, 2)


def test_trigeminy_and_supraventricular():
    s = ectopy_summary(list("NNVNNVNNVNNVN") + list("NSSNSSSSN"))
    assert s.trigeminy_episodes["V"] == 1 and s.bigeminy_episodes["V"] == 0
    assert s.couplets["S"] == 1 and s.runs["S"] == 1 and s.longest_run["S"] == 4


def test_two_ectopics_are_not_bigeminy_and_empty_is_fine():
    assert ectopy_summary(list("NVNVNNN")).bigeminy_episodes["V"] == 0
    s = ectopy_summary([])
    assert s.n_beats == 0 and s.burden_pct["V"] == 0.0
