"""Evaluation protocols as functions; the CLI's ``evaluate`` commands and ``bench/`` call these."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from .data.augment import add_noise, time_scale
from .data.ludb import annotated_span, load_ludb, ludb_folds, ludb_records, ludb_statements
from .data.ptbxl import load_ptbxl_record, ptbxl_index, ptbxl_root, ptbxl_statements
from .data.render import RenderStyle, photo_augment, render_record
from .digitize import digitize, snr_db
from .errors import ECGError
from .interpret import LEARNED_THRESHOLD
from .io import load_record
from .io.records import MITDB_RECORDS, find_records, record_path
from .signal import compare_beats, detect_rpeaks, episode_mask_intervals
from .signal.intervals import global_fiducials, measure
from .waves import WAVES, LeadWaves

__all__ = ["evaluate_rpeaks", "evaluate_delineation", "evaluate_digitization", "record_bootstrap",
           "paired_sd_difference", "PERTURBATIONS", "FIDUCIALS", "CSE_TOLERANCE_MS", "IEC_TOLERANCE_MS"]

log = logging.getLogger(__name__)


def evaluate_rpeaks(db: str = "mitdb", method: str = "ecgcore", *, records: list[str] | None = None,
                    window_ms: float = 150.0, annotation: str | None = None,
                    progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Gross beat-detection Se and +P of ``method`` over every record of ``db`` (all 48 for MIT-BIH).

    Reference: every beat annotation (WFDB beat symbols; ``!`` flutter waves are not beats) of the
    ``atr`` file. Ventricular flutter episodes (``[`` to ``]``, record 207) are left out on both sides,
    as ANSI/AAMI EC57 does. ``seconds`` counts detection only (reading files is the same for every
    method and is not counted). All leads are given to the detector; the peers use the first.

    LUDB (``db="ludb"``) marks QRS complexes per lead (annotation ``"ii"`` by default) and only in the
    middle of each 10 s record, so there detections are scored inside the annotated span (plus 100 ms),
    and lead II is put first.

    Returns:
        ``{"se", "ppv", "tp", "fn", "fp", "n_records", "seconds", "method", "db", "window_ms",
        "per_record": {name: {"tp", "fn", "fp"}}}``; ``se``/``ppv`` are fractions.

    Raises:
        FileNotFoundError: when the database is not under ECG_DATA_DIR.
    """
    names = records or (list(MITDB_RECORDS) if db == "mitdb" else find_records(db).get(db, []))
    if not names:
        raise FileNotFoundError(f"database {db!r} not found under ECG_DATA_DIR")
    ann_name = annotation or ("ii" if db == "ludb" else "atr")
    total = None
    seconds = 0.0
    per_record = {}
    for k, name in enumerate(names):
        rec = load_record(record_path(db, name))
        ann = rec.annotations.get(ann_name)
        if ann is None:
            raise FileNotFoundError(f"{db}/{name} has no reference annotation ({ann_name})")
        ref = ann.beats().sample_idx
        exclude = episode_mask_intervals(ann.sample_idx, ann.symbol)
        sig = rec.signal
        if db == "ludb":
            lead = rec.lead_names.index("II")
            sig = sig[[lead] + [i for i in range(rec.n_leads) if i != lead]]
        t0 = time.perf_counter()
        peaks = detect_rpeaks(sig, rec.fs, method=method)
        seconds += time.perf_counter() - t0
        if db == "ludb" and len(ann):
            pad = int(0.1 * rec.fs)
            peaks = peaks[(peaks >= ann.sample_idx.min() - pad) & (peaks <= ann.sample_idx.max() + pad)]
        c = compare_beats(ref, peaks, rec.fs, window_ms=window_ms, exclude=exclude)
        per_record[name] = {"tp": c.tp, "fn": c.fn, "fp": c.fp}
        total = c if total is None else total + c
        if progress:
            progress(k + 1, len(names), name)
    return {"method": method, "db": db, "se": float(total.se), "ppv": float(total.ppv), "tp": int(total.tp),
            "fn": int(total.fn), "fp": int(total.fp), "n_records": len(names), "seconds": round(seconds, 3),
            "window_ms": window_ms, "annotation": ann_name, "per_record": per_record,
            "f1": float(2 * total.tp / (2 * total.tp + total.fn + total.fp)) if total.tp else float(np.nan)}


#: fiducials scored by :func:`evaluate_delineation`: (wave, column of onset/peak/offset)
FIDUCIALS = {"p_on": ("P", 0), "p_peak": ("P", 1), "p_off": ("P", 2), "qrs_on": ("QRS", 0), "qrs_off": ("QRS", 2),
             "t_peak": ("T", 1), "t_off": ("T", 2)}
#: CSE tolerances for the SD of delineation errors (2 s_CSE, ms; CSE Working Party 1985)
CSE_TOLERANCE_MS = {"p_on": 10.2, "p_off": 12.7, "qrs_on": 6.5, "qrs_off": 11.6, "t_off": 30.6}
#: IEC 60601-2-25 tolerances for global intervals against the reference: (|mean| ms, SD ms)
IEC_TOLERANCE_MS = {"pr": (10.0, 10.0), "qrs": (10.0, 10.0), "qt": (25.0, 30.0)}
_INTERVALS = {"p": "p_ms", "pr": "pr_ms", "qrs": "qrs_ms", "qt": "qt_ms"}
#: columns of :func:`ecg_core.signal.intervals.global_fiducials` scored as global (all-lead) fiducials
GLOBAL_FIDUCIALS = {"p_on": 0, "p_off": 1, "qrs_on": 2, "qrs_off": 4, "t_off": 6}


def _mean_sd(e: np.ndarray) -> dict[str, float]:
    """Mean and sample SD (ms) of errors; NaN when there are too few."""
    return {"mean_ms": float(e.mean()) if len(e) else float("nan"),
            "sd_ms": float(e.std(ddof=1)) if len(e) > 1 else float("nan")}


def _record_sums(parts: list[tuple], keys: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record of ``keys``: the count, sum and sum of squares of its errors in ``parts``."""
    by_rec: dict = {k: [] for k in keys}
    for r, e in parts:
        by_rec[r].append(np.asarray(e, dtype=np.float64))
    groups = [np.concatenate(by_rec[k]) for k in keys]
    return (np.array([len(g) for g in groups], dtype=np.float64), np.array([g.sum() for g in groups]),
            np.array([(g ** 2).sum() for g in groups]))


def _resampled_mean_sd(counts: np.ndarray, n: np.ndarray, s1: np.ndarray, s2: np.ndarray):
    nn, t1, t2 = counts @ n, counts @ s1, counts @ s2
    mean = t1 / np.maximum(nn, 1)
    return mean, np.sqrt(np.maximum(t2 - nn * mean ** 2, 0) / np.maximum(nn - 1, 1))


def _ci95(v: np.ndarray) -> list[float]:
    return [round(float(x), 2) for x in np.percentile(v, [2.5, 97.5])]


def record_bootstrap(parts: list[tuple[int, np.ndarray]], reps: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """95 % confidence intervals of the mean and SD of errors that come in groups by record (``parts``: record
    index, that record's errors), by resampling records with replacement (a record's beats and leads are not
    independent of each other, so resampling them would give intervals too narrow). Fixed seed: the same
    errors give the same intervals. Empty lists when fewer than two records have errors."""
    keys = list(dict.fromkeys(r for r, e in parts if len(e)))
    if len(keys) < 2:
        return {"mean_ci95_ms": [], "sd_ci95_ms": []}
    sums = _record_sums([(r, e) for r, e in parts if len(e)], keys)
    counts = np.random.default_rng(seed).multinomial(len(keys), np.full(len(keys), 1 / len(keys)), size=reps)
    mean, sd = _resampled_mean_sd(counts, *sums)
    return {"mean_ci95_ms": _ci95(mean), "sd_ci95_ms": _ci95(sd)}


def paired_sd_difference(parts_a: list[tuple], parts_b: list[tuple], reps: int = 2000, seed: int = 0) -> dict:
    """Two methods' error SDs on the same records compared: ``sd_diff_ms`` (SD of ``parts_a`` minus SD of
    ``parts_b``, each pooled over its errors on the records both have errors on) and its 95 % interval
    ``sd_diff_ci95_ms`` from resampling those records, the same draw for both methods (paired: a hard record
    is hard for both, so the difference is known far better than either SD). ``parts_*``: (record key, that
    record's errors), a record's errors possibly in pieces; the two may pair different beats of a record.
    Empty interval when fewer than two records have errors on both sides."""
    have_a = {r for r, e in parts_a if len(e)}
    keys = list(dict.fromkeys(r for r, e in parts_b if len(e) and r in have_a))
    if len(keys) < 2:
        return {"sd_diff_ms": float("nan"), "sd_diff_ci95_ms": [], "n_records": len(keys)}
    both = set(keys)
    a = _record_sums([(r, e) for r, e in parts_a if r in both and len(e)], keys)
    b = _record_sums([(r, e) for r, e in parts_b if r in both and len(e)], keys)
    ones = np.ones((1, len(keys)))
    point = _resampled_mean_sd(ones, *a)[1][0] - _resampled_mean_sd(ones, *b)[1][0]
    counts = np.random.default_rng(seed).multinomial(len(keys), np.full(len(keys), 1 / len(keys)), size=reps)
    diff = _resampled_mean_sd(counts, *a)[1] - _resampled_mean_sd(counts, *b)[1]
    return {"sd_diff_ms": round(float(point), 3), "sd_diff_ci95_ms": _ci95(diff), "n_records": len(keys)}


def _perturb_tachycardia(rec, waves, seed):
    f = 1.5
    sig, _, _ = time_scale(rec.signal, rec.fs, f)
    new = [LeadWaves(**{k: np.round(w[k] / f).astype(np.int64) for k in ("P", "QRS", "T")}) for w in waves]
    return rec.replace(signal=sig, annotations={}), new


def _perturb_invert(rec, waves, seed):
    return rec.replace(signal=-rec.signal), waves


def _noise(kind: str, snr: float):
    def fn(rec, waves, seed):
        return rec.replace(signal=add_noise(rec.signal, rec.fs, kind, snr, seed=seed)), waves

    return fn


#: how :func:`evaluate_delineation` can change each record before delineating it (marks follow)
def _perturb_digitised(rec, waves, seed, dpi: float = 200.0):
    """The record printed (3 x 4 + lead II rhythm strip, first 10 s, ``dpi``) and read back by the
    digitiser; each lead's marks are kept only inside the 2.5 s it is printed for (lead II: all 10 s)."""
    page = render_record(rec, style=RenderStyle(dpi=dpi))
    read = digitize(page.image).to_record(rec.name)
    windows = read.metadata.get("printed windows s", {})
    out = []
    for lead, w in zip(rec.lead_names, waves):
        if lead == "II" or lead not in windows:
            out.append(w)
            continue
        a, b = (int(round(t * rec.fs)) for t in windows[lead])
        out.append(LeadWaves(*(w[k][(w[k][:, 0] >= a) & (w[k][:, 2] < b)] for k in ("P", "QRS", "T"))))
    order = [read.lead_names.index(n) for n in rec.lead_names]
    n = min(read.signal.shape[1], rec.signal.shape[1])
    sig = np.zeros_like(rec.signal)
    sig[:, :n] = read.signal[order, :n]
    return rec.replace(signal=sig), out


PERTURBATIONS = {"tachycardia": _perturb_tachycardia, "inverted": _perturb_invert,
                 "baseline_wander": _noise("baseline_wander", 0.0), "muscle": _noise("muscle", 12.0),
                 "electrode_motion": _noise("electrode_motion", 12.0), "digitised": _perturb_digitised}


def evaluate_delineation(method: str = "unet", *, records: list[str] | None = None, weights=None,
                         perturb: str | None = None, window_ms: float = 150.0,
                         members: dict[str, int] | None = None, keep_errors: bool = False,
                         progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Delineation of LUDB scored against each lead's own manual marks, on held-out folds.

    Each record is delineated by ``method``; for ``"unet"`` by the fold model that never saw it. In each lead,
    waves whose peak lies inside the lead's marked span are matched one-to-one to the marked waves by peak
    within ``window_ms`` (se, ppv, f1 per wave, pooled over leads and records); matched waves give the
    onset/peak/offset errors (detected minus marked, ms; mean and SD) of :data:`FIDUCIALS`, set against the CSE
    tolerances. The same errors per beat for global fiducials (``global_fiducials``: one boundary per beat from
    all leads, as the CSE study measured them; :func:`~ecg_core.signal.intervals.global_fiducials` on the
    delineation and on the manual marks, beats paired by R within ``window_ms``). Global intervals (P, PR, QRS,
    QT; :func:`ecg_core.signal.intervals.measure`) from the delineation and from the manual marks, over the
    marked span, give per-record differences (mean, SD) set against the IEC 60601-2-25 tolerances. Every mean
    and SD comes with a 95 % interval from resampling records (:func:`record_bootstrap`). ``perturb``
    (:data:`PERTURBATIONS`) changes every record first: played 1.5x faster, every lead inverted, noise added
    (baseline wander at 0 dB, muscle or electrode motion at 12 dB), or printed on ECG paper and digitised back
    ("digitised": each lead scored inside the 2.5 s it is printed for). ``members`` (record -> fold model)
    overrides the held-out assignment, e.g. to score each fold model on its inner validation records while
    choosing settings. ``keep_errors``: also return every error, as ``errors_by_record`` ``{"fiducials": {fid:
    [(record, errors ms), ...]}, "global_fiducials": {...}}`` (to compare two methods record by record:
    :func:`paired_sd_difference`).
    """
    # torch loads with the first delineation scored, not with this module: the CLI's parser reads its constants
    from .pipeline import delineate
    from .predict.delineation import load_delineation

    folds = ludb_folds()
    fold_of = {r: k for k, f in enumerate(folds) for r in f}
    names = list(records or [r for f in folds for r in f])
    unknown = [n for n in names if n not in fold_of and n not in (members or {})]
    if unknown:
        raise ValueError(f"not LUDB records: {', '.join(unknown[:5])}")
    models = None
    if method == "unet":
        models = load_delineation(weights)[0].members
    member_of = {**fold_of, **(members or {})}
    if perturb is not None and perturb not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {perturb!r}; valid: {', '.join(PERTURBATIONS)}")
    counts = {k: np.zeros(3, dtype=np.int64) for k in WAVES}  # tp, fn, fp
    errors: dict[str, list] = {k: [] for k in FIDUCIALS}
    per_lead: dict[str, np.ndarray] = {}
    interval_diffs: dict[str, list[float]] = {k: [] for k in _INTERVALS}
    global_errors: dict[str, list] = {k: [] for k in GLOBAL_FIDUCIALS}
    seconds = 0.0
    for n_done, name in enumerate(names):
        rec, ref = load_ludb(name)
        if perturb:
            rec, ref = PERTURBATIONS[perturb](rec, ref, int(name))
        t0 = time.perf_counter()
        d = delineate(rec, method, model=models[member_of[name]] if models is not None else None)
        seconds += time.perf_counter() - t0
        to_ms = 1000.0 / rec.fs
        spans = [sp for sp in (annotated_span(w) for w in ref) if sp is not None]
        if spans:
            span = (min(a for a, _ in spans), max(b for _, b in spans))
            ours = measure(d.signal, d.fs, d.lead_names, d.waves, span=span)
            manual = measure(d.signal, d.fs, d.lead_names, ref, span=span)
            for k, attr in _INTERVALS.items():
                a, b = getattr(ours, attr), getattr(manual, attr)
                if np.isfinite(a) and np.isfinite(b):
                    interval_diffs[k].append((n_done, np.array([a - b])))
            # global fiducials per beat (the CSE way: one boundary per beat from all leads), ours against the
            # same rule applied to the manual marks, beats paired by their R within window_ms
            g_ours, g_ref = global_fiducials(d.waves, rec.fs, span), global_fiducials(ref, rec.fs, span)
            if len(g_ours) and len(g_ref):
                c = compare_beats(g_ref[:, 3], g_ours[:, 3], rec.fs, window_ms=window_ms)
                a, b = g_ours[c.matched_test_idx], g_ref[c.matched_ref_idx]
                for fid, col in GLOBAL_FIDUCIALS.items():
                    ok = np.isfinite(a[:, col]) & np.isfinite(b[:, col])
                    global_errors[fid].append((n_done, (a[ok, col] - b[ok, col]) * to_ms))
        for i, lead in enumerate(rec.lead_names):
            span = annotated_span(ref[i])
            if span is None:
                continue
            lead_counts = per_lead.setdefault(lead, np.zeros((len(WAVES), 3), dtype=np.int64))
            for w, kind in enumerate(WAVES):
                r = ref[i][kind]
                det = d.waves[i][kind]
                det = det[(det[:, 1] >= span[0]) & (det[:, 1] <= span[1])]
                r = r[np.argsort(r[:, 1], kind="stable")]
                det = det[np.argsort(det[:, 1], kind="stable")]
                c = compare_beats(r[:, 1], det[:, 1], rec.fs, window_ms=window_ms)
                got = np.array([c.tp, c.fn, c.fp])
                counts[kind] += got
                lead_counts[w] += got
                for fid, (fk, col) in FIDUCIALS.items():
                    if fk == kind and c.tp:
                        a, b = det[c.matched_test_idx, col], r[c.matched_ref_idx, col]
                        ok = (a >= 0) & (b >= 0)  # an unknown onset/offset gives no error
                        errors[fid].append((n_done, (a[ok] - b[ok]) * to_ms))
        if progress:
            progress(n_done + 1, len(names), name)

    def prf(tp, fn, fp):
        se = tp / (tp + fn) if tp + fn else float("nan")
        ppv = tp / (tp + fp) if tp + fp else float("nan")
        return {"se": float(se), "ppv": float(ppv), "f1": float(2 * tp / (2 * tp + fn + fp)) if tp else 0.0,
                "tp": int(tp), "fn": int(fn), "fp": int(fp)}

    def error_rows(errs_of: dict[str, list]) -> dict[str, dict]:
        out = {}
        for fid, errs in errs_of.items():
            e = np.concatenate([x for _, x in errs]) if errs else np.zeros(0)
            row = {**_mean_sd(e), **record_bootstrap(errs), "n": int(len(e)),
                   "median_abs_ms": float(np.median(np.abs(e))) if len(e) else float("nan"),
                   "p95_abs_ms": float(np.percentile(np.abs(e), 95)) if len(e) else float("nan")}
            if fid in CSE_TOLERANCE_MS:
                row["cse_sd_ms"] = CSE_TOLERANCE_MS[fid]
                row["within_cse"] = bool(row["sd_ms"] <= CSE_TOLERANCE_MS[fid])
            out[fid] = row
        return out

    fid_out = error_rows(errors)
    intervals = {}
    for k, diffs in interval_diffs.items():
        e = np.concatenate([x for _, x in diffs]) if diffs else np.zeros(0)
        row = {**_mean_sd(e), **record_bootstrap(diffs), "n_records": int(len(e))}
        if k in IEC_TOLERANCE_MS:
            tm, ts = IEC_TOLERANCE_MS[k]
            row |= {"iec_mean_ms": tm, "iec_sd_ms": ts,
                    "within_iec": bool(abs(row["mean_ms"]) <= tm and row["sd_ms"] <= ts)}
        intervals[k] = row
    out = {"method": method, "db": "ludb", "perturb": perturb, "intervals": intervals, "n_records": len(names),
           "global_fiducials": error_rows(global_errors),
           "window_ms": window_ms,
           "seconds_per_record": round(seconds / max(len(names), 1), 4),
           "waves": {k: prf(*counts[k]) for k in WAVES}, "fiducials": fid_out,
           "per_lead_f1": {lead: {k: prf(*c[w])["f1"] for w, k in enumerate(WAVES)} for lead, c in per_lead.items()}}
    if keep_errors:
        out["errors_by_record"] = {part: {fid: [(names[i], e) for i, e in errs] for fid, errs in errs_of.items()}
                                   for part, errs_of in (("fiducials", errors), ("global_fiducials", global_errors))}
    return out


def evaluate_digitization(records: list[str] | None = None, *, dpi: float = 200.0, photo: float = 0.0,
                          seed: int = 0, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """SNR of ECGs read back from renders of LUDB records (:mod:`ecg_core.digitize`).

    Each record's first 10 s are drawn in the 3 x 4 + rhythm strip format at ``dpi`` (optionally
    photographed at strength ``photo``, seeded per record), digitised, and every read panel is compared
    with the true samples it shows: SNR = 10 log10(true power / error power), both median-centred (a
    printed trace has no absolute offset), no time shift allowed. A record the digitiser cannot read
    counts 0 dB for each of its 13 panels. Reports the mean and median over panels, per lead, the
    grid-scale error and the seconds per page."""
    names = list(records or ludb_records())
    per_panel, per_lead, scale_err, failed, seconds = [], {}, [], [], 0.0
    for k, name in enumerate(names):
        rec, _ = load_ludb(name)
        page = render_record(rec, style=RenderStyle(dpi=dpi))
        img = page.image
        if photo > 0:
            img, _ = photo_augment(img, None, np.random.default_rng([seed, int(name)]), photo)
        t0 = time.perf_counter()
        try:
            d = digitize(img)
        except ECGError:
            failed.append(name)
            per_panel += [0.0] * len(page.panels)
            continue
        finally:
            seconds += time.perf_counter() - t0
        scale_err.append(100.0 * (d.px_per_mm / page.px_per_mm - 1.0))
        read = {(p.lead, p.row): p for p in d.panels}
        for row_i, panel in enumerate(page.panels):
            row = 3 if row_i == 12 else row_i // 4
            got = read.get((panel.lead, row))
            if got is None:
                snr = 0.0
            else:
                a, b = int(round(panel.t0 * rec.fs)), int(round(panel.t1 * rec.fs))
                truth = rec.signal[panel.lead_index, a:b]
                rec_sig = np.interp(np.arange(a, b) / rec.fs, got.t0 + np.arange(len(got.signal)) / got.fs, got.signal)
                snr = snr_db(truth, rec_sig)
            per_panel.append(snr)
            per_lead.setdefault(panel.lead + (" (rhythm)" if row == 3 else ""), []).append(snr)
        if progress:
            progress(k + 1, len(names), name)
    x = np.asarray(per_panel)
    return {"n_records": len(names), "dpi": dpi, "photo": photo, "failed": failed,
            "snr_db_mean": float(x.mean()), "snr_db_median": float(np.median(x)),
            "snr_db_per_lead": {k: float(np.mean(v)) for k, v in per_lead.items()},
            "scale_error_pct": {"mean": float(np.mean(scale_err)) if scale_err else float("nan"),
                                "max_abs": float(np.max(np.abs(scale_err))) if scale_err else float("nan")},
            "seconds_per_page": seconds / max(len(names), 1)}


#: predicted codes that stand for one reference statement (LVH by either voltage criterion)
STATEMENT_ALIASES = {"LVH": ("LVH_SL", "LVH_CV")}
#: the statements of "the whole read agrees": rhythm, axis and conduction, where a printout's read is judged
MAJOR_STATEMENTS = ("SR", "SB", "STACH", "AF", "AFL", "NAXIS", "LAD", "RAD", "CRBBB", "CLBBB", "IRBBB", "ILBBB",
                    "LAFB", "1AVB", "IVCD")


def _scored_codes(codes) -> set[str]:
    out = set(codes)
    for ref, preds in STATEMENT_ALIASES.items():
        if out & set(preds):
            out.add(ref)
    return out


def statement_scores(truth: dict[str, set[str]], pred: dict[str, set[str]], min_cases: int = 1,
                     reps: int = 2000, seed: int = 0) -> dict:
    """Per statement with at least ``min_cases`` reference cases: n, TP/FP/FN/TN, sensitivity, PPV,
    specificity, F1 and a 95 % interval of F1 from resampling records (fixed seed); and the share of records
    whose major statements (:data:`MAJOR_STATEMENTS`) all agree. ``truth``/``pred``: record -> codes."""
    names = sorted(truth)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(reps, len(names)))
    codes = sorted({c for v in truth.values() for c in v})
    out = {}
    for code in codes:
        t = np.array([code in truth[n] for n in names])
        p = np.array([code in _scored_codes(pred.get(n, ())) for n in names])
        if t.sum() < min_cases:
            continue
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        tn = len(names) - tp - fp - fn
        tt, pp = t[draws], p[draws]  # (reps, records): every resample at once
        a, b, c = (tt & pp).sum(1), (~tt & pp).sum(1), (tt & ~pp).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1s = np.where(2 * a + b + c > 0, 2 * a / (2 * a + b + c), np.nan)
        out[code] = {"n": int(t.sum()), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                     "se": tp / (tp + fn) if tp + fn else float("nan"),
                     "ppv": tp / (tp + fp) if tp + fp else float("nan"),
                     "sp": tn / (tn + fp) if tn + fp else float("nan"),
                     "f1": 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan"),
                     "f1_ci95": [float(np.nanpercentile(f1s, 2.5)), float(np.nanpercentile(f1s, 97.5))]}
    major = set(MAJOR_STATEMENTS)
    agree = [(set(truth[n]) & major) == (_scored_codes(pred.get(n, ())) & major) for n in names]
    return {"statements": out, "whole_read_agrees": float(np.mean(agree)) if names else float("nan"),
            "n_records": len(names)}


def _learned_auc(truth: dict[str, set[str]], probs: dict[str, dict[str, float]]) -> dict[str, dict]:
    """Each learned statement's ROC AUC over the records it was read on, and its sensitivity where the
    specificity is at least 0.90 (a point of the ROC curve, read off, not a threshold the model uses);
    NaN with one outcome only."""
    from sklearn.metrics import roc_auc_score, roc_curve

    names = sorted(probs)
    out = {}
    for code in (probs[names[0]] if names else {}):
        t = np.array([code in truth[n] for n in names])
        p = np.array([probs[n][code] for n in names])
        if not 0 < t.sum() < len(t):
            out[code] = {"n": int(t.sum()), "auc": float("nan"), "se_at_sp90": float("nan")}
            continue
        fpr, tpr, _ = roc_curve(t, p)
        out[code] = {"n": int(t.sum()), "auc": float(roc_auc_score(t, p)),
                     "se_at_sp90": float(tpr[fpr <= 0.10].max())}
    return out


def _statement_records(db: str, records: list[str] | None, folds: tuple[int, ...], weights=None):
    """(reference codes by record, a loader of one record, the delineation model of each record) of ``db``."""
    from .predict.delineation import held_out_delineators, load_delineation

    if db == "ludb":
        truth = ludb_statements()
        names = list(records or sorted(truth, key=int))
        # amplitudes comparable between leads; each record by the fold model that never saw it
        return ({n: truth[n] for n in names}, lambda n: load_ludb(n, true_scale=True)[0],
                held_out_delineators(names, weights))
    if db == "ptbxl":
        truth = ptbxl_statements(folds=None if records else folds)
        names = list(records or sorted(truth, key=int))
        index = ptbxl_index()
        model = load_delineation(weights)[0]  # trained on LUDB only: PTB-XL is another database for it

        def load(n: str):
            row = index.loc[int(n)]
            at_500 = (ptbxl_root() / f"{row['filename_hr']}.hea").exists()
            return load_ptbxl_record(row, rate=500 if at_500 else 100)
        return {n: truth[n] for n in names}, load, {n: model for n in names}
    raise ValueError(f"statements are scored on LUDB or PTB-XL; {db!r} is not supported")


def evaluate_statements(db: str = "ludb", *, records: list[str] | None = None, beats: bool = False,
                        weights=None, learned: bool | str = False, folds: tuple[int, ...] = (10,),
                        progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Interpretive statements (:func:`ecg_core.pipeline.read`) against the cardiologists' conclusions of
    LUDB (:func:`~ecg_core.data.ludb.ludb_statements`), read at its true scale (``load_ludb(true_scale=True)``:
    as stored, each lead is scaled to a 1 mV range). Each record is delineated by the learned delineator's
    fold model that never saw it; criteria thresholds come from the standards, so every record counts
    (no threshold was fitted on them; the measurement rules LUDB's misreads corrected are listed in
    docs/results.md). ``beats``: classify beats too (the shipped diagnostic beat model, trained
    on MIT-BIH only), for the ectopy statements. Returns :func:`statement_scores` plus each record's
    reference and predicted codes and the axis agreement (normal / left / right). ``db="ptbxl"`` (for a user
    who has PTB-XL under ECG_DATA_DIR): its ``scp_codes`` and ``heart_axis``
    (:func:`~ecg_core.data.ptbxl.ptbxl_statements`) on the records of ``folds`` (default the test fold 10),
    at 500 Hz where the files are there, read by the shipped delineator (which never saw PTB-XL).

    ``learned``: fuse the learned statements too (True: the shipped model,
    :func:`~ecg_core.predict.diagnosis.statement_weights`; or a path). On LUDB each record is read by the fold
    model that held it out (:func:`~ecg_core.predict.diagnosis.held_out_member`), so every learned figure is
    a held-out one; the result then adds ``by_source`` (the criteria alone, the model alone, fused) and each
    learned statement's held-out ROC AUC."""
    from .pipeline import read  # torch: the learned delineator
    from .predict.beats import load_beat_model
    from .predict.diagnosis import held_out_member, load_multimodal, statement_weights

    truth_all, load, models = _statement_records(db, records, folds, weights)
    names = list(truth_all)
    beat_model = load_beat_model("diagnostic")[:2] if beats else None
    statement_models = {}
    if learned:
        members, spec, card = load_multimodal(statement_weights() if learned is True else learned)
        if db == "ludb":
            fold_of = {n: k for k, fold in enumerate(ludb_folds()) for n in fold}
            held = {k: held_out_member(members, card, k) for k in set(fold_of[n] for n in names)}
            statement_models = {n: (held[fold_of[n]][0], spec, held[fold_of[n]][1]) for n in names}
        else:  # trained on LUDB only: another database for it
            statement_models = {n: (members, spec, card) for n in names}
    truth, pred, seconds = {}, {}, 0.0
    by_source = {"criteria": {}, "model": {}}
    probs = {}
    for k, name in enumerate(names):
        rec = load(name)
        t0 = time.perf_counter()
        try:
            r = read(rec, model=models[name], beat_model=beat_model, statement_model=statement_models.get(name))
            pred[name] = set(r.interpretation.codes)
            by_source["criteria"][name] = {s.code for s in r.interpretation.statements if "criterion" in s.source}
            by_source["model"][name] = {c for c, p in zip(r.learned.classes, r.learned.probability)
                                        if p >= LEARNED_THRESHOLD} if r.learned is not None else set()
            if r.learned is not None:
                probs[name] = dict(zip(r.learned.classes, r.learned.probability.tolist()))
        except ECGError as exc:
            log.warning("LUDB %s: %s", name, exc)
            pred[name] = set()
        seconds += time.perf_counter() - t0
        truth[name] = set(truth_all[name])
        if progress:
            progress(k + 1, len(names), name)
    res = statement_scores(truth, pred)
    if learned:
        res["by_source"] = {src: statement_scores(truth, {n: p.get(n, set()) for n in names})["statements"]
                            for src, p in by_source.items()}
        res["learned_auc"] = _learned_auc(truth, probs)
    axes = {"NAXIS", "LAD", "RAD"}
    axis = [n for n in names if truth[n] & axes]
    res["axis_agreement"] = (float(np.mean([(truth[n] & axes) == (pred[n] & axes) for n in axis])) if axis
                             else float("nan"))
    res.update({"db": db, "beats": beats, "seconds_per_record": round(seconds / max(len(names), 1), 3),
                "records": {n: {"reference": sorted(truth[n]), "predicted": sorted(pred[n])} for n in names}})
    return res
