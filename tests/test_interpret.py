"""Interpretive statements: every criterion on constructed measurements on both sides of its threshold,
the measures of a median beat, and whole reads of LUDB records with known conclusions."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_core.interpret import CRITERIA, Facts, LeadMeasures, interpret, lead_measures, rhythm_facts

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _lead(name: str, **kw) -> LeadMeasures:
    base = dict(p_mv=-0.1 if name == "aVR" else 0.1, r_mv=0.8, s_mv=0.2, qrs_max_mv=0.8, qrs_min_mv=0.2,
                qrs_pp_mv=1.0, r_peak_ms=35.0, st_j_mv=0.0, st_60_mv=0.02, t_mv=-0.2 if name == "aVR" else 0.2)
    if name == "aVR":
        base.update(r_mv=0.1, s_mv=0.8, qrs_max_mv=0.1, qrs_min_mv=0.8)
    return LeadMeasures(name, **{**base, **kw})


def _facts(leads: dict[str, dict] | None = None, **kw) -> Facts:
    """A normal 12-lead ECG's facts (sinus 70 bpm, PR 160, QRS 90, QTc 410, axis +60), changed by ``kw``."""
    leads = leads or {}
    base = dict(hr=70.0, rr_ms=857.0, rr_range_ms=40.0, rr_irregularity=0.02, n_beats=12, p_fraction=1.0,
                p_ms=100.0, pr=160.0, qrs=90.0, qt=380.0, qtc=410.0, p_axis=50.0, qrs_axis=60.0, t_axis=40.0,
                sex="M", age=55.0, n_leads=12)
    return Facts(**{**base, **kw}, leads={n.upper(): _lead(n, **leads.get(n, {})) for n in LEADS})


def codes(f: Facts) -> set[str]:
    return set(interpret(f).codes)


def test_a_normal_ecg_reads_normal_and_nothing_else():
    assert codes(_facts()) == {"SR", "NAXIS", "NORM"}
    assert "NORM" not in codes(_facts(pr=210.0))  # any finding takes "Normal ECG" away
    assert codes(_facts(qrs_axis=80.0)) == {"SR", "NAXIS", "VPOS", "NORM"}  # a position is no finding


@pytest.mark.parametrize("kw, code, fires", [
    ({"hr": 49.0}, "SB", True), ({"hr": 51.0}, "SB", False),
    ({"hr": 101.0}, "STACH", True), ({"hr": 99.0}, "STACH", False),
    ({"rr_range_ms": 170.0}, "SARRH", True), ({"rr_range_ms": 150.0}, "SARRH", False),
    ({"rr_irregularity": 0.15, "p_fraction": 0.2}, "AF", True),
    ({"rr_irregularity": 0.05, "p_fraction": 0.2}, "AF", False),
    ({"rr_irregularity": 0.15, "p_fraction": 0.9}, "AF", False),
    ({"pr": 210.0}, "1AVB", True), ({"pr": 195.0}, "1AVB", False),
    ({"qrs_axis": -45.0}, "LAD", True), ({"qrs_axis": -25.0}, "LAD", False),
    ({"qrs_axis": 110.0}, "RAD", True), ({"qrs_axis": 85.0}, "RAD", False),
    ({"qrs_axis": 20.0}, "HPOS", True), ({"qrs_axis": 35.0}, "HPOS", False),
    ({"qrs_axis": 80.0}, "VPOS", True), ({"qrs_axis": 65.0}, "VPOS", False),
    ({"qtc": 455.0}, "LQT", True), ({"qtc": 455.0, "sex": "F"}, "LQT", False),
    ({"qtc": 465.0, "sex": "F"}, "LQT", True),
    ({"qtc": 385.0}, "SQT", True), ({"qtc": 395.0}, "SQT", False),
    ({"qrs": 115.0}, "IVCD", True), ({"qrs": 105.0}, "IVCD", False),
    ({"p_ms": 125.0}, "LAE", True), ({"p_ms": 110.0}, "LAE", False),
])
def test_each_interval_criterion_on_both_sides_of_its_threshold(kw, code, fires):
    assert (code in codes(_facts(**kw))) is fires


def test_rhythm_statements_exclude_each_other():
    assert codes(_facts(hr=45.0)) & {"SR", "SB"} == {"SB"}
    af = codes(_facts(rr_irregularity=0.2, p_fraction=0.1, hr=110.0))
    assert "AF" in af and not af & {"SR", "SB", "STACH"}
    # a P inverted in II is not sinus
    assert not codes(_facts(leads={"II": {"p_mv": -0.1}})) & {"SR", "SB", "STACH"}


def test_voltage_criteria_by_their_sums_and_sex():
    sl = {"V1": {"s_mv": 2.0}, "V5": {"r_mv": 1.6}}
    assert "LVH_SL" in codes(_facts(leads=sl))  # 3.6 mV
    assert "LVH_SL" not in codes(_facts(leads={"V1": {"s_mv": 1.8}, "V5": {"r_mv": 1.6}}))  # 3.4 mV
    cv = {"aVL": {"r_mv": 1.0}, "V3": {"s_mv": 1.4}}  # 2.4 mV: over the women's 2.0, under the men's 2.8
    assert "LVH_CV" in codes(_facts(leads=cv, sex="F")) and "LVH_CV" not in codes(_facts(leads=cv, sex="M"))
    assert "RAE" in codes(_facts(leads={"II": {"p_mv": 0.3}}))
    assert "RAE" not in codes(_facts(leads={"II": {"p_mv": 0.2}}))
    low = {n: {"qrs_pp_mv": 0.4} for n in LEADS[:6]}
    assert "LVOLT" in codes(_facts(leads=low))
    assert "LVOLT" not in codes(_facts(leads={**low, "II": {"qrs_pp_mv": 0.6}}))


def test_st_elevation_needs_two_contiguous_leads_and_its_v2_v3_limit_depends_on_age_and_sex():
    v23 = {"V2": {"st_j_mv": 0.18}, "V3": {"st_j_mv": 0.18}}
    assert "STE" in codes(_facts(leads=v23, sex="F"))  # women: 0.15 mV
    assert "STE" not in codes(_facts(leads=v23, sex="M", age=50.0))  # men 40 and over: 0.2 mV
    inferior = {"II": {"st_j_mv": 0.12}, "aVF": {"st_j_mv": 0.12}}
    st = interpret(_facts(leads=inferior))
    s = next(s for s in st.statements if s.code == "STE")
    assert s.leads == ("II", "aVF") and "inferior" in s.evidence
    assert "STE" not in codes(_facts(leads={"II": {"st_j_mv": 0.12}, "V5": {"st_j_mv": 0.12}}))  # not contiguous


def test_q_waves_and_t_inversion_by_territory():
    q = {"II": {"q_mv": 0.2, "q_ms": 40.0}, "aVF": {"q_mv": 0.2, "q_ms": 35.0}}
    assert "QWAVE" in codes(_facts(leads=q))
    assert "QWAVE" not in codes(_facts(leads={"II": {"q_mv": 0.2, "q_ms": 25.0}, "aVF": {"q_mv": 0.2, "q_ms": 25.0}}))
    t = {"V5": {"t_mv": -0.2}, "V6": {"t_mv": -0.2}}
    assert "TINV" in codes(_facts(leads=t)) and "TINV" not in codes(_facts(leads={"V5": {"t_mv": -0.2}}))
    flat = {"V5": {"t_mv": -0.05}, "V6": {"t_mv": 0.0}}  # R 0.8 mV: shallow negative and flat T
    assert "NSTT" in codes(_facts(leads=flat)) and "NSTT" not in codes(_facts(leads={"V5": {"t_mv": -0.05}}))
    assert "NSTT" not in codes(_facts(leads={**t, "I": {"t_mv": -0.05}, "aVL": {"t_mv": -0.05}}))  # TINV wins


def test_bundle_branch_blocks_complete_and_incomplete():
    rbbb = {"V1": {"r_prime_mv": 0.5}, "I": {"s_ms": 50.0}, "V6": {"s_ms": 50.0}}
    assert {"CRBBB"} <= codes(_facts(leads=rbbb, qrs=130.0)) and "IVCD" not in codes(_facts(leads=rbbb, qrs=130.0))
    assert "IRBBB" in codes(_facts(leads=rbbb, qrs=115.0)) and "CRBBB" not in codes(_facts(leads=rbbb, qrs=115.0))
    lbbb = {"V1": {"qrs_max_mv": 0.1, "qrs_min_mv": 1.5}, "V5": {"r_peak_ms": 80.0}, "V6": {"r_peak_ms": 80.0}}
    got = codes(_facts(leads=lbbb, qrs=150.0))
    assert "CLBBB" in got and "IVCD" not in got
    assert "CLBBB" not in codes(_facts(leads={**lbbb, "V6": {"r_peak_ms": 80.0, "q_mv": 0.1}}, qrs=150.0))
    lafb = {"aVL": {"q_mv": 0.05}, "II": {"qrs_max_mv": 0.3, "qrs_min_mv": 0.9}}
    assert "LAFB" in codes(_facts(leads=lafb, qrs_axis=-60.0))
    assert "LAFB" not in codes(_facts(leads=lafb, qrs_axis=-35.0))


def test_poor_quality_leads_the_list_and_every_criterion_cites_a_source():
    st = interpret(_facts(poor_leads=("V1", "V2", "V3")))
    assert st.statements[0].code == "POORQ" and "NORM" not in st.codes
    assert all(c.reference for c in CRITERIA) and len({c.code for c in CRITERIA}) == len(CRITERIA)


def test_lead_measures_of_a_constructed_beat():
    fs, r0 = 500.0, 150
    beat = np.zeros(400)
    t = np.arange(400)
    beat += 0.15 * np.exp(-0.5 * ((t - 90) / 8) ** 2)  # P at -120 ms
    beat += -0.2 * np.exp(-0.5 * ((t - 140) / 2.5) ** 2)  # q 20 ms before R
    beat += 1.5 * np.exp(-0.5 * ((t - 150) / 3) ** 2)  # R
    beat += -0.5 * np.exp(-0.5 * ((t - 162) / 3) ** 2)  # S
    beat += 0.3 * np.exp(-0.5 * ((t - 260) / 20) ** 2)  # T at +220 ms
    fid = {"p_on": -90.0, "p_off": -30.0, "qrs_on": -20.0, "qrs_off": 25.0, "t_peak": 110.0, "t_off": 160.0}
    m = lead_measures(beat, fs, r0, fid, "V5")
    assert m.r_mv == pytest.approx(1.5, abs=0.1) and m.s_mv == pytest.approx(0.5, abs=0.15)
    assert m.q_mv == pytest.approx(0.2, abs=0.08) and 16 <= m.q_ms <= 32  # the lobe: about ±3 sigma (5 ms)
    assert m.p_mv == pytest.approx(0.15, abs=0.03) and m.t_mv == pytest.approx(0.3, abs=0.03)
    assert abs(m.st_j_mv) < 0.05 and m.r_peak_ms == pytest.approx(40.0, abs=2)  # onset at -20 ms, R at 0


def test_rhythm_facts_separate_regular_from_irregularly_irregular():
    fs = 500.0
    regular = np.cumsum(np.full(12, 400))
    irregular = np.cumsum(np.random.default_rng(0).uniform(250, 550, 12)).astype(int)
    nan = np.full(12, np.nan)
    assert rhythm_facts(regular, np.zeros(12), nan, fs)["rr_irregularity"] < 0.01
    assert rhythm_facts(irregular, nan, nan, fs)["rr_irregularity"] > 0.1
    assert rhythm_facts(irregular, nan, nan, fs)["p_fraction"] == 0.0


@pytest.mark.slow
def test_whole_reads_of_ludb_records_with_known_conclusions(ludb):
    """The cardiologists' conclusions of LUDB records, each delineated by the fold model that never saw it
    (measured: 1 sinus bradycardia 45 bpm; 10 complete RBBB; 24 complete LBBB; 38 AF; 13 first-degree AV
    block)."""
    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import read
    from ecg_core.predict.delineation import held_out_delineators

    expect = {"1": "SB", "10": "CRBBB", "24": "CLBBB", "38": "AF", "13": "1AVB"}
    models = held_out_delineators(list(expect))
    for name, code in expect.items():
        rec, _ = load_ludb(name, true_scale=True)
        r = read(rec, model=models[name])
        assert code in r.interpretation.codes, (name, r.interpretation.codes)
        s = next(s for s in r.interpretation.statements if s.code == code)
        assert s.evidence and s.source == "criterion" and s.reference
    rec, _ = load_ludb("1", true_scale=True)
    assert read(rec, model=models["1"]).facts.hr == pytest.approx(45, abs=1)


def test_ludb_amplitudes_obey_einthoven_only_at_true_scale(ludb):
    from ecg_core.data.ludb import load_ludb

    for name in ("1", "100"):
        stored, _ = load_ludb(name)
        true, _ = load_ludb(name, true_scale=True)
        i, ii, iii = (true.signal[k].astype(float) for k in range(3))
        assert np.std(i + iii - ii) < 1e-3 * np.std(ii)  # I + III = II
        i, ii, iii = (stored.signal[k].astype(float) for k in range(3))
        assert np.std(i + iii - ii) > 0.05 * np.std(ii)  # each lead scaled on its own
        assert np.allclose(np.ptp(stored.signal, axis=1), 1.0, atol=1e-3)
        # the reader says so; at true scale the warning is gone
        assert any("Einthoven" in w and "scaled differently" in w for w in stored.warnings)
        assert not any("Einthoven" in w for w in true.warnings)


def test_einthoven_check_passes_consistent_and_unrelated_leads():
    from ecg_core.data import demo_record
    from ecg_core.io._checks import einthoven_gains

    rec = demo_record()
    assert einthoven_gains(rec) is None  # the demo's limb leads: consistent (with independent noise)
    x = rec.signal.copy()
    x[0] *= 1.5  # lead I at another gain
    x[2] = rec.signal[1] - rec.signal[0]  # III derived from the true I, as a cart computes it
    a, b = einthoven_gains(rec.replace(signal=x))
    assert a == pytest.approx(1 / 1.5, abs=0.02) and b == pytest.approx(1.0, abs=0.02)


def test_the_underlying_rhythm_is_judged_on_normal_beats():
    """Two premature beats and their pauses make a regular rhythm look irregular, until the beat classes set
    them aside."""
    rr = [400, 400, 400, 250, 550, 400, 400, 400, 250, 550, 400, 400]
    r = np.cumsum([0, *rr])
    p_on = np.where(np.isin(np.arange(len(r)), [4, 9]), np.nan, 0.0)  # the premature beats have no P
    normal = ~np.isnan(p_on)
    nan = np.full(len(r), np.nan)
    plain = rhythm_facts(r, p_on, nan, 500.0)
    judged = rhythm_facts(r, p_on, nan, 500.0, normal)
    assert plain["rr_irregularity"] > 0.1 and plain["p_fraction"] < 0.9
    assert judged["rr_irregularity"] < 0.01 and judged["p_fraction"] == 1.0 and judged["rr_range_ms"] < 1


def test_pacing_pulses_are_lead_wide_one_sample_spikes_and_steep_waves_are_not():
    from ecg_core.data import demo_record
    from ecg_core.signal.pacing import pacing_spikes

    rec = demo_record()
    assert len(pacing_spikes(rec.signal, rec.fs)) == 0  # the demo's QRS complexes are steep, not spikes
    x = rec.signal.astype(np.float64).copy()
    at = np.arange(300, x.shape[1], 400)
    x[:6, at] += 2.0  # a 2 mV one-sample pulse in the limb leads
    got = pacing_spikes(x, rec.fs)
    assert np.array_equal(got, at)
    lone = rec.signal.astype(np.float64).copy()
    lone[0, at] += 2.0  # in one lead only: noise, not a pulse
    assert len(pacing_spikes(lone, rec.fs)) == 0


def test_paced_rhythm_sets_the_paced_qrs_aside():
    f = _facts(paced_fraction=0.9, n_pulses=10, qrs=160.0, qrs_axis=-60.0)
    got = codes(f)
    assert "PACE" in got and not got & {"IVCD", "LAD", "CLBBB", "NORM"}
    assert "PACE" not in codes(_facts(paced_fraction=0.3))


def test_ludb_paced_record_reads_paced(ludb):
    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import read
    from ecg_core.predict.delineation import held_out_delineators

    models = held_out_delineators(["34", "1"])
    rec, _ = load_ludb("34", true_scale=True)  # ventricular pacing by its cardiologists
    r = read(rec, model=models["34"])
    assert "PACE" in r.interpretation.codes and r.facts.paced_fraction >= 0.9
    rec, _ = load_ludb("1", true_scale=True)
    assert read(rec, model=models["1"]).facts.n_pulses == 0


def test_learned_statements_fuse_with_the_criteria():
    from ecg_core.interpret import Learned

    sl = {"V1": {"s_mv": 2.0}, "V5": {"r_mv": 1.6}}  # Sokolow-Lyon 3.6 mV
    both = interpret(_facts(leads=sl), learned={"LVH": Learned(0.8, 0.05)})
    s = next(s for s in both.statements if s.code == "LVH_SL")
    assert s.source == "criterion+model" and s.confidence == 0.8 and "probability 0.80" in s.evidence
    assert "LVH" not in both.codes  # one statement, not two
    doubt = next(s for s in interpret(_facts(leads=sl), learned={"LVH": Learned(0.2, 0.05)}).statements
                 if s.code == "LVH_SL")
    assert doubt.source == "criterion" and doubt.values["model_probability"] == 0.2
    alone = interpret(_facts(), learned={"ISCH_ANT": Learned(0.9, 0.05), "NSTT": Learned(0.49, 0.05)})
    assert "ISCH_ANT" in alone.codes and "NSTT" not in alone.codes and "NORM" not in alone.codes
    s = next(s for s in alone.statements if s.code == "ISCH_ANT")
    assert s.source == "model" and s.category == "ischaemia" and s.text.startswith("Ischaemia or scar, anterior")
    unsure = interpret(_facts(), learned={"LAE": Learned(0.55, 0.2, uncertain=True)})
    assert next(s for s in unsure.statements if s.code == "LAE").text == "Possible left atrial enlargement"
    paced = interpret(_facts(paced_fraction=0.9, n_pulses=10, qrs=160.0),
                      learned={"LVH": Learned(0.9, 0.0), "ISCH_INF": Learned(0.9, 0.0), "LAE": Learned(0.9, 0.0)})
    assert not set(paced.codes) & {"LVH", "ISCH_INF"} and "LAE" in paced.codes  # a paced QRS-T is not read
    assert codes(_facts()) == set(interpret(_facts(), learned={"LVH": Learned(0.1, 0.0)}).codes)


def test_ludb_records_read_by_the_held_out_statement_model(ludb):
    """The shipped learned-statement model, each record read by the fold model that held it out (measured:
    21 anterior ischaemia/scar by its cardiologists, made by the model alone; 2 LVH, no ischaemia)."""
    from ecg_core.data.ludb import load_ludb, ludb_folds
    from ecg_core.pipeline import read
    from ecg_core.predict.delineation import held_out_delineators
    from ecg_core.predict.diagnosis import held_out_member, load_multimodal, statement_weights

    members, spec, card = load_multimodal(statement_weights())
    fold_of = {n: k for k, fold in enumerate(ludb_folds()) for n in fold}
    delineators = held_out_delineators(["21", "2"])
    got = {}
    for name in ("21", "2"):
        m, c = held_out_member(members, card, fold_of[name])
        r = read(load_ludb(name, true_scale=True)[0], model=delineators[name], statement_model=(m, spec, c))
        assert r.learned is not None and r.learned.n_members == 1
        got[name] = {s.code: s for s in r.interpretation.statements}
    assert got["21"]["ISCH_ANT"].source == "model" and got["21"]["ISCH_ANT"].confidence >= 0.5
    assert "LVH" in got["2"] and not {"ISCH_ANT", "ISCH_LAT", "ISCH_INF"} & set(got["2"])
    with pytest.raises(ValueError, match="fold 7"):
        held_out_member(members, card, 7)


def test_bigeminy_needs_three_successive_normal_ectopic_pairs():
    from ecg_core.interpret.facts import bigeminy_pairs

    assert bigeminy_pairs(list("NVNVNVNN"), "V") == 3
    assert bigeminy_pairs(list("NVNNVNVN"), "V") == 2  # a normal pair breaks the run
    assert bigeminy_pairs(list("NSNSNSNS"), "S") == 4 and bigeminy_pairs(list("NSNSNSNS"), "V") == 0
    counts = {"N": 6, "S": 0, "V": 3, "F": 0, "Q": 0}
    assert {"VBIG", "PVC"} <= codes(_facts(beat_counts=counts, bigeminy={"V": 3, "S": 0}))
    assert "VBIG" not in codes(_facts(beat_counts=counts, bigeminy={"V": 2, "S": 0}))
    assert "SVBIG" in codes(_facts(beat_counts={**counts, "V": 0, "S": 4}, bigeminy={"V": 0, "S": 4}))
    assert "VBIG" not in codes(_facts(beat_counts=counts, bigeminy={"V": 5, "S": 0}, paced_fraction=0.9))
