"""Pacemaker pulses taken out of the signal before the learned delineator, or paced QRS onsets put after them:
tried for the global QRS-onset SD, not kept (docs/studies/delineation-tries.md). Reproduces the figures:

    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py detect      # pulses found per LUDB record
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py inner-val   # fold models' inner-val records
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py held-out    # the held-out folds (read once)
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py subgroups   # shipped model, paced vs not
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py onsets-inner-val  # QRS onsets put after pulses
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py convention  # LUDB's paced onsets vs the pulse
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py nested      # the onset rule's nested gate
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py onsets-held-out  # then the held-out folds, once
    ECG_DATA_DIR=/path/to/data python bench/delineation_pacing.py global-convention  # the ninth try, no model

`nested` passed in folds 0 and 1 only (docs/studies/delineation-tries.md), so the rule was not shipped.
It needs the ten pair models of
``bench/delineation_nested.py`` (each trained on three folds, a pair of folds left out).

The ninth try, written down here before its gate ran (2026-11-27): the per-lead rule above moved only lead onsets
from 40 ms before to 20 ms after a pulse, so a paced beat whose onsets the U-Net put later than that kept them.
The global rule works on each beat's global QRS onset (the percentile rule over the leads) instead: the pulse
nearest it, among those starting 60 ms before to 40 ms after it and at least 10 ms before the beat's R, makes it
AFTER_PULSE_MS after the pulse's start; the per-lead waves stay as they are (``paced_global_waves``).
``global-convention`` checks it without a model on each fold's fit records: put through it, LUDB's own onsets
move on no beat of the records without pacing. Its gate is ``bench/delineation_nested.py gate paced_global``:
it passes in fold k when the paired 95 % interval of the global QRS-onset SD (rule minus none) lies below zero
and no other global SD within its CSE tolerance leaves it; the held-out folds are then read once
(``held-out paced_global``), the rule in the folds that passed; it ships (into ecg_core, with the detector) only
if it passes in all five and the held-out global QRS-onset SD falls. It passed in fold 0 only (-1.21 ms; folds 1-4
-0.27 to +0.08, intervals across zero); held-out, the rule in fold 0, the SD went 6.9 -> 6.9 (+0.05): not shipped.

The idea: a pacing pulse reaches the electrodes as a step of a few tenths of a millivolt that comes and goes within
a sample or a few, at the same instant in most leads, and cardiologists (LUDB's among them) mostly mark the QRS
onset after it (LUDB's runs from 19 ms before the pulse to 14 ms after it: `convention`), while the U-Net sometimes
starts the QRS on the spike. The detector: a jump of at least MIN_STEP_MV in one sample that is MIN_RATIO times
every change of the 4-18 ms before it (no physiological wave rises like that from a quiet line), at the same sample
(within one) in at least a third of the live leads; the pulse ends where most of those leads are back within a
quarter of the jump (at most 20 ms). Each pulse is replaced by a straight line, then the record is delineated.
Designed on the inner-validation records (two of the 25 are paced: 74 and 95, found; nothing found in the other
23). On all 200 records it then found pulses in 9 of the 10 records LUDB lists with pacing (ludb.csv's "Cardiac
pacing" column, record 72's "P-synchrony" included), but also in 15 of the 190 without, several pulses running the
full 20 ms (never back to the line: a steep QRS edge, not a pulse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MIN_STEP_MV = 0.1  # one sample's jump
MIN_RATIO = 8.0  # over the largest change of the samples before it
SINGLE_LEAD_RATIO = 20.0
_QUIET_MS = (4.0, 18.0)  # the window before the jump that must be quiet
_MAX_WIDTH_MS = 20.0  # a pulse's return to the line before it, at most
_MERGE_MS = 10.0  # jumps this close belong to one pulse


def detect_pulses(signal: np.ndarray, fs: float) -> np.ndarray:
    """Pacing pulses in ``signal`` (leads x samples, mV) at ``fs`` Hz: ``(n, 2)`` first and last sample of
    each (inclusive), in time order; ``(0, 2)`` when there are none."""
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))
    n = x.shape[1]
    if n < 3:
        return np.zeros((0, 2), dtype=np.int64)
    live = np.ptp(x, axis=1) >= 1e-2
    d = np.abs(np.diff(x, axis=1))  # d[:, i]: the jump onto sample i + 1
    lo, hi = (max(1, int(round(ms / 1000 * fs))) for ms in _QUIET_MS)
    hi = max(hi, lo + 1)
    pad = np.pad(d, ((0, 0), (hi, 0)), mode="edge")  # before[:, i]: the largest of d[:, i - hi .. i - lo]
    before = np.lib.stride_tricks.sliding_window_view(pad, hi - lo + 1, axis=1)[:, :d.shape[1]].max(axis=-1)
    ratio = d / (before + 0.01)
    n_live = int(live.sum())
    if n_live == 0:
        return np.zeros((0, 2), dtype=np.int64)
    need_ratio = MIN_RATIO if n_live > 1 else SINGLE_LEAD_RATIO
    hit = (d >= MIN_STEP_MV) & (ratio >= need_ratio) & live[:, None]
    hit[:, :hi] = False  # no quiet stretch to judge the first samples by
    near = hit.copy()
    near[:, 1:] |= hit[:, :-1]
    near[:, :-1] |= hit[:, 1:]
    need = max(2, int(np.ceil(n_live / 3))) if n_live > 1 else 1
    starts = np.flatnonzero(near.sum(axis=0) >= need)
    if not len(starts):
        return np.zeros((0, 2), dtype=np.int64)
    merge = max(1, int(round(_MERGE_MS / 1000 * fs)))
    width = max(1, int(round(_MAX_WIDTH_MS / 1000 * fs)))
    pulses = []
    for group in np.split(starts, np.flatnonzero(np.diff(starts) > merge) + 1):
        leads = np.flatnonzero(hit[:, group].any(axis=1))
        if not len(leads):
            continue
        i = int(group[np.argmax(d[leads][:, group].max(axis=0))])  # the largest jump: onto sample i + 1
        first = i + 1
        base = x[leads, i]
        step = np.abs(x[leads, first] - base)
        last = min(n - 1, first + width)
        for j in range(first + 1, min(n, first + width + 1)):  # back near the line it left, in most of its leads
            if np.median(np.abs(x[leads, j] - base) / np.maximum(step, 1e-6)) <= 0.25:
                last = j - 1
                break
        if pulses and first <= pulses[-1][1] + 1:
            pulses[-1][1] = max(pulses[-1][1], last)
        else:
            pulses.append([first, last])
    return np.asarray(pulses, dtype=np.int64).reshape(-1, 2)


def remove_pulses(signal: np.ndarray, pulses: np.ndarray) -> np.ndarray:
    """A copy of ``signal`` with each pulse's samples replaced by a straight line from the sample before it to
    the sample after it, in every lead."""
    x = np.array(signal, dtype=np.result_type(np.asarray(signal).dtype, np.float32))  # a copy; floats kept
    x2 = np.atleast_2d(x)  # a view: filling it fills x
    n = x2.shape[-1]
    for first, last in np.asarray(pulses, dtype=np.int64).reshape(-1, 2):
        a, b = max(first - 1, 0), min(last + 1, n - 1)
        if b - a < 2:
            continue
        w = np.linspace(0.0, 1.0, b - a + 1)[1:-1]
        x2[:, a + 1:b] = x2[:, a:a + 1] * (1 - w) + x2[:, b:b + 1] * w
    return x


AFTER_PULSE_MS = 5.0  # LUDB's QRS onset after a pacing pulse's start (median over the training folds' paced beats)
_NEAR_MS = (-20.0, 40.0)  # a lead's QRS onset is moved when the pulse starts this far from it


def _pulse_near(starts: np.ndarray, onset: float, fs: float, near_ms: tuple[float, float] = _NEAR_MS,
                latest: float = np.inf) -> int | None:
    """The start (sample) of the pulse nearest ``onset`` among those starting ``near_ms`` from it, and no later than
    sample ``latest``; None if none."""
    d = (starts - onset) * (1000.0 / fs)
    near = np.flatnonzero((d >= near_ms[0]) & (d <= near_ms[1]) & (starts <= latest))
    return int(starts[near[np.argmin(np.abs(d[near]))]]) if len(near) else None


def place_paced_onsets(waves, pulses: np.ndarray, fs: float):
    """``waves`` (one LeadWaves per lead) with every QRS onset that lies near a pacing pulse (the pulse starting
    20 ms before to 40 ms after it) put AFTER_PULSE_MS after the pulse's start, as LUDB's cardiologists mark a paced
    QRS; the rest unchanged. Returns ``(waves, n_moved)``."""
    from ecg_core.signal.delineation import LeadWaves

    starts = np.asarray(pulses, dtype=np.int64).reshape(-1, 2)[:, 0]
    if not len(starts):
        return waves, 0
    after = int(round(AFTER_PULSE_MS / 1000 * fs))
    out, moved = [], 0
    for w in waves:
        q = w.QRS.copy()
        for row in q:
            s = _pulse_near(starts, row[0], fs) if row[0] >= 0 else None
            if s is not None:
                row[0] = min(s + after, int(row[1]) - 1)
                moved += 1
        out.append(LeadWaves(w.P, q, w.T))
    return tuple(out), moved


#: the global rule (ninth try): a pulse starting this far from a beat's global QRS onset, and at least _BEFORE_R_MS
#: before its R, makes the onset AFTER_PULSE_MS after the pulse's start
_GLOBAL_NEAR_MS = (-60.0, 40.0)
_BEFORE_R_MS = 10.0


def _global_pulse(starts: np.ndarray, on: float, r: float, fs: float) -> int | None:
    """The start of the pulse nearest the global onset ``on`` among those starting _GLOBAL_NEAR_MS from it and at
    least _BEFORE_R_MS before ``r``; None if none."""
    return _pulse_near(starts, on, fs, _GLOBAL_NEAR_MS, r - _BEFORE_R_MS / 1000.0 * fs)


def paced_global_waves(waves, pulses: np.ndarray, fs: float):
    """Global waves (QRS only) for the beats of ``waves`` (the leads' own, made global by the percentile rule) that
    have a pacing pulse near their global QRS onset (:func:`_global_pulse`): onset AFTER_PULSE_MS after the pulse's
    start, R and offset as the leads give them (to the nearest sample). None when no beat has one (the leads' waves
    then stand)."""
    from ecg_core.signal.delineation import LeadWaves
    from ecg_core.signal.intervals import global_fiducials

    starts = np.asarray(pulses, dtype=np.int64).reshape(-1, 2)[:, 0]
    after = int(round(AFTER_PULSE_MS / 1000 * fs))
    rows = []
    for on, r, off in global_fiducials(list(waves), fs)[:, 2:5]:
        if not (np.isfinite(on) and np.isfinite(off)):
            continue
        s = _global_pulse(starts, on, r, fs)
        if s is not None:
            off = int(round(off))  # global waves are whole samples: the offset moves by half a sample at most
            rows.append([min(s + after, off - 1), int(round(r)), off])
    if not rows:
        return None
    empty = np.zeros((0, 3), dtype=np.int64)
    return LeadWaves(empty, np.asarray(rows, dtype=np.int64), empty)


def with_paced_global(records: set[str] | None = None) -> None:
    """Make the learned delineator give paced global onsets (for this script's run only; only on ``records`` when
    given): the ninth try, judged by ``bench/delineation_nested.py gate paced_global``."""
    _patch_result(lambda d, record, pulses: {"global_waves": paced_global_waves(d.waves, pulses, record.fs)},
                  records)


def _patch_unet(before=None, after=None):
    """Make the learned delineator (for this script's run only) read ``before(record, pulses)`` instead of the
    record, and/or return ``after(delineation, record, pulses)``, wherever pulses are detected."""
    import ecg_core.signal.delineation as dl

    plain = dl._delineate_unet

    def patched(record, weights, model=None):
        pulses = detect_pulses(record.signal, record.fs)
        if not len(pulses):
            return plain(record, weights, model)
        read = before(record, pulses) if before else record
        d = plain(read, weights, model)
        return after(d, record, pulses) if after else d

    dl._delineate_unet = patched


def _patch_result(change, records: set[str] | None = None) -> None:
    """Make the learned delineator's result, where pulses are detected, carry the fields ``change(d, record, pulses)``
    returns (for this script's run only; only on the records named ``records`` when given)."""
    from dataclasses import replace

    def after(d, record, pulses):
        if records is not None and record.name not in records:
            return d
        return replace(d, **change(d, record, pulses))

    _patch_unet(after=after)


def _with_paced_onsets(records: set[str] | None = None):
    """Make the learned delineator place QRS onsets after detected pacing pulses (for this script's run only; only
    on the records named ``records`` when given)."""
    _patch_result(lambda d, record, pulses: {"waves": place_paced_onsets(d.waves, pulses, record.fs)[0]}, records)


def paced_records() -> set[str]:
    """LUDB's records with anything in its "Cardiac pacing" column (ludb.csv, as the 12-lead task reads it)."""
    from ecg_core.data.ludb import ludb_diagnoses

    names, _, meta = ludb_diagnoses()
    return {r for r in names if meta[r]["paced"]}


def _with_pulses_removed():
    """Make the learned delineator read each record with its pulses taken out (for this script's run only)."""
    _patch_unet(before=lambda record, pulses: record.replace(
        signal=remove_pulses(record.signal, pulses).astype(record.signal.dtype)))


def onsets(weights: str) -> None:
    """QRS onsets placed after detected pulses, on the inner-validation records, against the same model without
    (paired intervals). Its rule was not met, so there is no held-out mode for it."""
    sys.path.insert(0, str(ROOT / "bench"))
    import delineation_inner_val as iv

    ref = iv.score(weights, None, None)
    _with_paced_onsets()
    row = iv.score(weights, None, None)
    row["sd_minus"] = {"against": f"{Path(weights).name} as it is", **iv.paired(row, ref)}
    del row["_errors"]
    path = ROOT / "bench" / "results" / "delineation_inner_val.json"
    out = json.loads(path.read_text())
    out[f"{Path(weights).name} paced QRS onsets placed"] = row
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: row[k] for k in ("f1", "per_lead", "global", "sd_minus")}, ensure_ascii=False))


def _anchored_errors(pulse_for):
    """``errors(r)`` for LUDB record ``r`` (cached): the pulse-anchored onset (pulse start + AFTER_PULSE_MS) minus
    LUDB's global QRS onset (ms) on each beat whose onset ``pulse_for(starts, onset, r_peak, fs)`` finds a pulse for,
    and how many beats have an onset; with ``meta`` (ludb.csv) and ``seen`` (the records read so far)."""
    from ecg_core.data.ludb import load_ludb, ludb_diagnoses
    from ecg_core.signal.intervals import global_fiducials

    _, _, meta = ludb_diagnoses()
    seen: dict[str, tuple[list[float], int]] = {}

    def errors(r: str) -> tuple[list[float], int]:
        if r not in seen:
            rec, ref = load_ludb(r)
            starts = detect_pulses(rec.signal, rec.fs)[:, 0]
            g = global_fiducials(ref, rec.fs)
            g = g[np.isfinite(g[:, 2])]
            near = [(s, on) for on, r_ in g[:, 2:4] if (s := pulse_for(starts, on, r_, rec.fs)) is not None]
            seen[r] = ([float((s - on) * 1000.0 / rec.fs + AFTER_PULSE_MS) for s, on in near], len(g))
        return seen[r]

    return errors, meta, seen


def _fit_folds(errors, meta):
    """Per fold k: ``(k, fit records, the pulse-anchored errors on the paced fit records' beats)``."""
    from ecg_core.data.ludb import ludb_fold_split, ludb_folds

    for k in range(len(ludb_folds())):
        fit = ludb_fold_split(k)[0]
        yield k, fit, np.array([e for r in fit if meta[r]["paced"] for e in errors(r)[0]])


def convention() -> None:
    """Without any model: on each fold's fit records (its training folds less the inner-validation records), the
    error of an exact pulse-anchored onset (pulse start + AFTER_PULSE_MS) against LUDB's global QRS onset on the
    paced records' beats, and how many beats of the other records have a detected pulse that near their onset."""
    errors, meta, seen = _anchored_errors(lambda starts, on, r_, fs: _pulse_near(starts, on, fs))
    rows = []
    for k, fit, paced in _fit_folds(errors, meta):
        moved = sum(len(errors(r)[0]) for r in fit if not meta[r]["paced"])
        beats = sum(errors(r)[1] for r in fit if not meta[r]["paced"])
        rows.append({"fold": k, "paced_beats": len(paced), "mean_ms": round(float(paced.mean()), 1),
                     "sd_ms": round(float(paced.std(ddof=1)), 1), "other_beats_near_a_pulse": moved,
                     "other_beats": beats})
        print(rows[-1])
    per_record = {r: [round(e, 1) for e in errors(r)[0]] for r in sorted(seen, key=int) if meta[r]["paced"]}
    print("paced records, pulse-anchored onset minus LUDB's (ms):", per_record)
    out = ROOT / "bench" / "results" / "delineation_pacing_convention.json"
    out.write_text(json.dumps({"after_pulse_ms": AFTER_PULSE_MS, "near_ms": list(_NEAR_MS), "folds": rows,
                               "paced_records_fit": per_record}, indent=1) + "\n")


def global_convention() -> None:
    """Without any model, before the ninth try's gate: on each fold's fit records, LUDB's own global QRS onsets put
    through the global rule (:func:`_global_pulse` around the reference onset): how many beats of the records
    without pacing it would move (none wanted), and on the paced records' beats it moves, the pulse-anchored onset
    minus LUDB's."""
    errors, meta, _ = _anchored_errors(_global_pulse)
    rows = []
    for k, fit, paced in _fit_folds(errors, meta):
        rows.append({"fold": k, "paced_beats_moved": len(paced),
                     "paced_beats": sum(errors(r)[1] for r in fit if meta[r]["paced"]),
                     "mean_ms": round(float(paced.mean()), 1), "sd_ms": round(float(paced.std(ddof=1)), 1),
                     "other_beats_moved": sum(len(errors(r)[0]) for r in fit if not meta[r]["paced"]),
                     "other_beats": sum(errors(r)[1] for r in fit if not meta[r]["paced"])})
        print(rows[-1])
    out = ROOT / "bench" / "results" / "delineation_pacing_global_convention.json"
    out.write_text(json.dumps({"after_pulse_ms": AFTER_PULSE_MS, "near_ms": list(_GLOBAL_NEAR_MS),
                               "before_r_ms": _BEFORE_R_MS, "folds": rows}, indent=1) + "\n")


NESTED = ROOT / "bench" / "results" / "delineation_pacing_nested.json"


def nested(run_root: Path, weights: str) -> None:
    """The onset rule's gate, fold by fold, without the held-out folds: for outer fold k, each record of fold j != k
    delineated by the pair model that saw neither fold (160 records, ``bench/delineation_nested.py``), with the rule
    and without; the gate passes when the paired 95 % interval of the global QRS-onset SD difference lies below zero
    and the per-lead QRS-onset SD does not rise."""
    sys.path.insert(0, str(ROOT / "bench"))
    from delineation_nested import PAIR_RECIPE, nested_errors, sd

    from ecg_core.evaluate import paired_sd_difference

    off = nested_errors(run_root, weights)
    _with_paced_onsets()
    on = nested_errors(run_root, weights)
    rows = []
    for k in sorted(off):
        d = paired_sd_difference(on[k]["global_fiducials"]["qrs_on"], off[k]["global_fiducials"]["qrs_on"])
        lead_off, lead_on = sd(off[k]["fiducials"]["qrs_on"]), sd(on[k]["fiducials"]["qrs_on"])
        ci = d["sd_diff_ci95_ms"]
        g_off, g_on = sd(off[k]["global_fiducials"]["qrs_on"]), sd(on[k]["global_fiducials"]["qrs_on"])
        rows.append({"fold": k, "records": d["n_records"], "global_qrs_on_sd_ms": [round(g_off, 2), round(g_on, 2)],
                     "global_sd_diff_ms": d["sd_diff_ms"], "global_sd_diff_ci95_ms": ci,
                     "per_lead_qrs_on_sd_ms": [round(lead_off, 2), round(lead_on, 2)],
                     "passes": bool(len(ci) == 2 and ci[1] < 0 and lead_on <= lead_off)})
        print(rows[-1], flush=True)
    NESTED.write_text(json.dumps({"rule": {"after_pulse_ms": AFTER_PULSE_MS, "near_ms": list(_NEAR_MS)},
                                  "pair_models": PAIR_RECIPE, "folds": rows}, indent=1) + "\n")


def onsets_held_out(weights: str) -> None:
    """The held-out folds, read once: each record by its own fold model of ``weights``, the onset rule applied in
    the folds whose nested gate passed (``nested`` first), against the same model without it (paired)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from delineation_inner_val import diff_text
    from delineation_nested import held_out_read

    from ecg_core.evaluate import paired_sd_difference

    res, ref, passed = held_out_read(NESTED, _with_paced_onsets, weights)
    paired = {part: diff_text(paired_sd_difference(res["errors_by_record"][part]["qrs_on"],
                                                   ref["errors_by_record"][part]["qrs_on"]))
              for part in ("fiducials", "global_fiducials")}
    del res["errors_by_record"]
    res["paced_onsets"] = {"rule_in_folds": passed, "qrs_on_sd_minus_without": paired}
    out = ROOT / "bench" / "results" / "delineation_ludb_unet_paced_onsets.json"
    out.write_text(json.dumps(res, indent=1) + "\n")
    g, f = res["global_fiducials"], res["fiducials"]
    print("rule in folds", passed)
    print("global", {k: f"{g[k]['mean_ms']:+.1f} ± {g[k]['sd_ms']:.1f} {g[k]['sd_ci95_ms']}" for k in g})
    print("per lead", {k: f"{f[k]['mean_ms']:+.1f} ± {f[k]['sd_ms']:.1f}" for k in f})
    print("QRS on SD minus without the rule:", paired)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("detect", "inner-val", "held-out", "subgroups", "onsets-inner-val",
                                     "convention", "nested", "onsets-held-out", "global-convention"))
    ap.add_argument("--weights", default=str(ROOT / "weights" / "delineation_unet.pt"))
    ap.add_argument("--pairs", default=str(ROOT / "runs" / "nested"), help="where the pair models are (nested)")
    args = ap.parse_args()
    if args.what == "nested":
        nested(Path(args.pairs), args.weights)
        return
    if args.what == "onsets-held-out":
        onsets_held_out(args.weights)
        return
    paced = paced_records() if args.what in ("detect", "subgroups") else set()
    if args.what == "detect":
        from ecg_core.data.ludb import load_ludb

        found = {}
        for i in range(1, 201):
            rec, _ = load_ludb(str(i))
            p = detect_pulses(rec.signal, rec.fs)
            if len(p) or str(i) in paced:
                found[str(i)] = (p[:, 1] - p[:, 0] + 1).tolist()
                print(i, "paced" if str(i) in paced else "not paced", f"{len(p)} pulses, widths (samples)",
                      found[str(i)])
        hit = sum(1 for r in paced if found.get(r))
        fp = sum(1 for r, w in found.items() if r not in paced and w)
        print(f"records with pulses: {hit} of {len(paced)} paced, {fp} of {200 - len(paced)} not paced")
        return
    if args.what == "subgroups":  # the shipped delineator as it is, on LUDB's paced records and on the others
        from ecg_core.evaluate import evaluate_delineation

        for name, recs in (("paced", sorted(paced, key=int)),
                           ("not_paced", [str(i) for i in range(1, 201) if str(i) not in paced])):
            res = evaluate_delineation("unet", records=recs, weights=args.weights)
            out = ROOT / "bench" / "results" / f"delineation_ludb_unet_{name}.json"
            out.write_text(json.dumps(res, indent=1) + "\n")
            g = res["global_fiducials"]["qrs_on"]
            print(f"{name}: {len(recs)} records, global QRS on {g['mean_ms']:+.1f} ± {g['sd_ms']:.1f} ms "
                  f"(SD 95 % interval {g['sd_ci95_ms']}), {g['n']} beats")
        return
    if args.what == "convention":
        convention()
        return
    if args.what == "global-convention":
        global_convention()
        return
    if args.what == "onsets-inner-val":
        onsets(args.weights)
        return
    _with_pulses_removed()
    if args.what == "inner-val":
        sys.path.insert(0, str(ROOT / "bench"))
        import delineation_inner_val as iv

        row = iv.score(args.weights, None, None)
        print(json.dumps({k: row[k] for k in ("f1", "per_lead", "global")}, ensure_ascii=False))
        return
    from ecg_core.evaluate import evaluate_delineation

    res = evaluate_delineation("unet", weights=args.weights)
    out = ROOT / "bench" / "results" / "delineation_ludb_unet_pacing_removed.json"
    out.write_text(json.dumps(res, indent=1) + "\n")
    g = res["global_fiducials"]
    print("global", {k: f"{g[k]['mean_ms']:+.1f} ± {g[k]['sd_ms']:.1f}" for k in g})


if __name__ == "__main__":
    main()
