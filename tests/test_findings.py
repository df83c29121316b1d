"""Learned findings settled by measurements: the measurement decides, the disagreement is said."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ecg_core.findings import reconcile


def _dx(**kw):
    from ecg_core.predict.diagnosis import Diagnosis

    return Diagnosis(classes=("rhythm_abnormal", "axis_deviation", "conduction"),
                     probability=np.array([0.39, 0.76, 0.2]), spread=np.array([0.1, 0.05, 0.04]),
                     uncertain=np.array([True, False, False]), gates={"signal": 1.0}, cam_class=1, cam_fs=100.0,
                     n_members=5, mc_samples=30, **kw)


_DX = _dx()


def _m(axis, qrs=98.0, pr=138.0):
    return SimpleNamespace(n_beats=8, qrs_axis=axis, qrs_ms=qrs, pr_ms=pr)


def test_axis_within_limits_overrides_a_likely_axis_deviation():
    """LUDB 1 as the Diagnosis page read it: "axis deviation likely (0.76)" beside "QRS axis 27°"."""
    f = {x.name: x for x in reconcile(_DX, _m(27.25))}
    ax = f["axis_deviation"]
    assert ax.status == "absent (measured)" and ax.model_disagrees
    assert ax.evidence == "QRS axis 27°, within -30° to +90°"
    assert ax.sentence() == ("Axis deviation: absent by measurement (QRS axis 27°, within -30° to +90°); the model "
                             "said likely (0.76) and disagreed.")
    assert f["rhythm_abnormal"].status == "uncertain - needs review" and not f["rhythm_abnormal"].model_disagrees
    assert f["conduction"].status == "unlikely"


def test_measurements_confirm_deviation_and_block_but_do_not_rule_out_a_block():
    f = {x.name: x for x in reconcile(_DX, _m(-45.0, qrs=132.0))}
    assert f["axis_deviation"].status == "present (measured)" and not f["axis_deviation"].model_disagrees
    assert "left axis deviation" in f["axis_deviation"].evidence
    assert f["conduction"].status == "present (measured)" and f["conduction"].model_disagrees
    assert "right axis deviation" in reconcile(_DX, _m(120.0))[1].evidence
    # no measurement, or none that settles: the model's own status
    assert [x.status for x in reconcile(_DX, None)] == ["uncertain - needs review", "likely", "unlikely"]
    assert reconcile(_DX, _m(None))[1].status == "likely"


def test_report_states_the_measured_status_and_the_disagreement():
    from ecg_core.data import demo_record
    from ecg_core.report import build_report, report_html

    dx = _DX
    rep = build_report(demo_record(), diagnosis=dx, measurements=None)
    assert rep.findings[1]["status"] == "likely"
    m = SimpleNamespace(n_beats=8, qrs_axis=27.0, qrs_ms=98.0, pr_ms=138.0, flags=[],
                        table=lambda formula="Bazett": [])
    rep = build_report(demo_record(), diagnosis=dx, measurements=m)
    assert rep.findings[1]["status"] == "absent (measured): QRS axis 27°, within -30° to +90°"
    assert "the model said likely (0.76) and disagreed" in rep.findings_note
    assert "absent (measured)" in report_html(rep)
