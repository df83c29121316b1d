"""Beat datasets: windows around detected R peaks, RR features and the record's own beat template.

Beats sit at the project's own detected R peaks (never at reference positions); each takes the label of
the reference beat within 150 ms, mapped to the AAMI classes. Two modes:

* ``"diagnostic"``: zero-phase 0.5-50 Hz band-pass; RR features may use the next beat (post-RR, one-beat
  latency) and the whole record (record-average RR, the record's median beat).
* ``"realtime"``: strictly causal. Causal band-pass, pre-RR only, running averages of past beats, and a
  running template of past beats. A beat's features depend on no sample after its window end
  (R + 0.39 s) given the R positions up to then.

RR intervals normalised by the patient's own rhythm carry most of the S-class information (de Chazal
2004); the beat template lets a network compare a beat with the patient's usual beat.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal as sps

from ..atomic import atomic_path
from ..io import load_record
from ..io.records import data_dir
from ..io.wfdb_io import WFDB_READER_VERSION
from ..record import Record
from ..signal import detect_rpeaks, matched_symbols, resample
from ..signal.rpeaks import ECGCORE_VERSION

__all__ = [
    "AAMI_CLASSES", "AAMI_MAP", "DEFAULT_RR", "DS1", "DS1_FOLDS", "DS2", "PACED", "MODES", "BEAT_FS", "WINDOW",
    "BeatFeatures", "BeatSet", "beat_features", "label_beats", "mitdb_beats", "rr_feature_names",
]

log = logging.getLogger(__name__)

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
AAMI_MAP = {**dict.fromkeys("NLRej", 0), **dict.fromkeys("AaJS", 1), **dict.fromkeys("VE", 2), "F": 3,
            **dict.fromkeys("/fQ", 4)}
# de Chazal, O'Dwyer & Reilly (2004): inter-patient split; paced records 102, 104, 107, 217 left out
DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203", "205",
       "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213", "214", "219",
       "221", "222", "228", "231", "232", "233", "234")
PACED = ("102", "104", "107", "217")
#: fixed patient-wise folds of DS1 for model selection (greedy balance of S, V and N beats per fold)
DS1_FOLDS = (("209", "116", "119", "122"), ("207", "124", "114", "215", "112", "106", "115"),
             ("118", "201", "108", "205", "208"), ("220", "223", "101", "203", "109", "230"))
MODES = ("diagnostic", "realtime")
BEAT_FS = 360.0
WINDOW = (140, 140)  # samples before / after R at 360 Hz: 0.77 s, as the reference design
_LOCAL_BEATS = 10
_MEDIAN_BEATS = 21
_TEMPLATE_ALPHA = 0.05
_AVG_WINDOW_S = 300.0  # de Chazal's "average RR": mean interval within 5 minutes of the beat
_VERSION = 3  # bump when features change, so caches rebuild


#: the RR features a model gets unless told otherwise (the shipped models'); the median-based ones are
#: available too but did not improve DS1 cross-validation when tried
DEFAULT_RR = {"diagnostic": ("pre_rr_s", "post_rr_s", "local_rr_s", "record_rr_s", "pre_local", "post_local",
                             "pre_record", "post_record", "post_pre"),
              "realtime": ("pre_rr_s", "local_rr_s", "record_rr_s", "pre_local", "pre_record", "pre_prev")}


def rr_feature_names(mode: str) -> tuple[str, ...]:
    """Names of every RR feature computed in ``mode`` (seconds and ratios)."""
    if mode == "diagnostic":
        return ("pre_rr_s", "post_rr_s", "local_rr_s", "record_rr_s", "pre_local", "post_local", "pre_record",
                "post_record", "post_pre", "local_med_rr_s", "pre_local_med", "post_local_med", "avg_rr_s", "pre_avg",
                "post_avg")
    if mode == "realtime":
        return ("pre_rr_s", "local_rr_s", "record_rr_s", "pre_local", "pre_record", "pre_prev", "local_med_rr_s",
                "pre_local_med", "avg_rr_s", "pre_avg")
    raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")


@dataclass(frozen=True)
class BeatFeatures:
    """Per-beat inputs of a beat classifier for one record.

    ``x``: ``(n, n_leads, 280)`` z-scored beat windows; ``template``: the same shape, the record's usual
    beat (diagnostic: median of all beats; real-time: running average of past beats), z-scored;
    ``rr``: ``(n, n_rr)`` RR features (:func:`rr_feature_names`); ``r_idx``: R peaks at 360 Hz.
    """

    x: np.ndarray
    template: np.ndarray
    rr: np.ndarray
    r_idx: np.ndarray
    mode: str


def _filter(x: np.ndarray, fs: float, mode: str) -> np.ndarray:
    sos = sps.butter(2, [0.5, 50.0], btype="bandpass", fs=fs, output="sos")
    if mode == "diagnostic":
        return sps.sosfiltfilt(sos, x, axis=-1)
    return sps.sosfilt(sos, x, axis=-1)


def _zscore(w: np.ndarray) -> np.ndarray:
    mu = w.mean(axis=-1, keepdims=True)
    sd = w.std(axis=-1, keepdims=True)
    return (w - mu) / np.maximum(sd, 1e-3)


def _rr(r_idx: np.ndarray, fs: float, mode: str) -> np.ndarray:
    r = r_idx.astype(np.float64) / fs
    n = len(r)
    pre = np.empty(n)
    pre[1:] = np.diff(r)
    pre[0] = pre[1] if n > 1 else 1.0
    if mode == "diagnostic":
        post = np.empty(n)
        post[:-1] = np.diff(r)
        post[-1] = post[-2] if n > 1 else 1.0
        k = _LOCAL_BEATS
        c = np.concatenate([[0.0], np.cumsum(pre)])
        lo = np.clip(np.arange(n) - k // 2, 0, n)
        hi = np.clip(np.arange(n) + k // 2 + 1, 0, n)
        local = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
        rec = np.full(n, np.median(pre))
        med = _running_median(pre, _MEDIAN_BEATS, centred=True)
        avg = _window_mean(r, pre, _AVG_WINDOW_S, centred=True)
        feats = [pre, post, local, rec, pre / local, post / local, pre / rec, post / rec, post / pre, med, pre / med,
                 post / med, avg, pre / avg, post / avg]
    else:
        # running means of past intervals only (the current pre-RR included: it ends at this beat)
        c = np.cumsum(pre)
        idx = np.arange(n)
        lo = np.maximum(idx - _LOCAL_BEATS + 1, 0)
        local = (c - np.concatenate([[0.0], c])[lo]) / (idx - lo + 1)
        rec = c / (idx + 1)
        prev = np.concatenate([[pre[0]], pre[:-1]])
        # median of the intervals before this beat's own: a robust "expected" interval for prematurity
        med = _running_median(prev, _MEDIAN_BEATS, centred=False)
        avg = _window_mean(r, pre, _AVG_WINDOW_S, centred=False)
        feats = [pre, local, rec, pre / local, pre / rec, pre / prev, med, pre / med, avg, pre / avg]
    return np.stack(feats, axis=1).astype(np.float32)


def _window_mean(t: np.ndarray, pre: np.ndarray, span_s: float, centred: bool) -> np.ndarray:
    """Mean of the intervals ending within ``span_s`` seconds of each beat at times ``t`` (either side
    when centred, else the past ``span_s`` up to this beat). A mean, unlike a median, is pulled by long
    pauses, so a beat in a rhythm broken by pauses is premature against it (de Chazal 2004's average RR);
    on DS1 folds the ratios to it carried S beats across patients better than ratios to medians."""
    c = np.concatenate([[0.0], np.cumsum(pre)])
    lo = np.searchsorted(t, t - span_s)
    hi = np.searchsorted(t, t + span_s, side="right") if centred else np.arange(1, len(t) + 1)
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def _running_median(x: np.ndarray, k: int, centred: bool) -> np.ndarray:
    """Median of ``k`` values around each position (centred) or ending at it (trailing), edges shortened.

    A median ignores the odd ectopic beat or pause that drags a mean, so prematurity is judged against
    the patient's usual interval."""
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        lo, hi = (max(0, i - k // 2), min(n, i + k // 2 + 1)) if centred else (max(0, i - k + 1), i + 1)
        out[i] = np.median(x[lo:hi])
    return out


def beat_features(record: Record, r_idx: np.ndarray, mode: str = "diagnostic",
                  leads: tuple[int, ...] = (0,)) -> BeatFeatures:
    """Features of every beat at ``r_idx`` (sample indices at ``record.fs``) for a beat classifier.

    The record is resampled to 360 Hz; beats whose window leaves the record are padded with edge values.
    ``leads`` picks the channels (MLII first for MIT-BIH; a second lead optional).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    sig = record.signal[list(leads)].astype(np.float64)
    r = np.asarray(r_idx, dtype=np.int64)
    if record.fs != BEAT_FS:
        sig = resample(sig, record.fs, BEAT_FS).astype(np.float64)
        r = np.round(r * BEAT_FS / record.fs).astype(np.int64)
    filt = _filter(sig, BEAT_FS, mode)
    before, after = WINDOW
    padded = np.pad(filt, ((0, 0), (before, after)), mode="edge")
    offs = np.arange(-before, after)
    idx = np.clip(r[:, None] + offs[None, :] + before, 0, padded.shape[1] - 1)
    win = padded[:, idx].transpose(1, 0, 2)  # (n, leads, 280)
    x = _zscore(win)
    if mode == "diagnostic":
        template = np.broadcast_to(np.median(x, axis=0, keepdims=True), x.shape) if len(x) else x
    else:
        template = np.empty_like(x)
        acc = x[0].copy() if len(x) else None
        for i in range(len(x)):
            template[i] = acc  # average of beats before this one (the first sees itself)
            acc = (1 - _TEMPLATE_ALPHA) * acc + _TEMPLATE_ALPHA * x[i]
    template = _zscore(np.ascontiguousarray(template))
    rr = _rr(r, BEAT_FS, mode) if len(r) else np.zeros((0, len(rr_feature_names(mode))), np.float32)
    return BeatFeatures(x=x.astype(np.float32), template=template.astype(np.float32), rr=rr, r_idx=r, mode=mode)


def label_beats(record: Record, r_idx: np.ndarray, window_ms: float = 150.0) -> np.ndarray:
    """AAMI class index (0-4) of the reference beat matched to each detection within ``window_ms``;
    -1 for a detection matched to nothing (a false positive) or to a non-AAMI symbol."""
    ann = record.annotations["atr"].beats()
    sym = matched_symbols(ann.sample_idx, ann.symbol, r_idx, record.fs, window_ms)
    return np.array([AAMI_MAP.get(s, -1) for s in sym], dtype=np.int64)


@dataclass(frozen=True)
class BeatSet:
    """Beats of several records stacked: :class:`BeatFeatures` arrays plus ``y`` (-1: no reference beat)
    and ``record`` (record name per beat)."""

    x: np.ndarray
    template: np.ndarray
    rr: np.ndarray
    y: np.ndarray
    record: np.ndarray
    r_idx: np.ndarray
    mode: str

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> BeatSet:
        return BeatSet(self.x[mask], self.template[mask], self.rr[mask], self.y[mask], self.record[mask],
                       self.r_idx[mask], self.mode)

    def counts(self) -> dict[str, int]:
        out = {c: int((self.y == i).sum()) for i, c in enumerate(AAMI_CLASSES)}
        return out | {"unmatched": int((self.y < 0).sum())}


def default_cache_dir() -> Path:
    """Where computed features and caches go: ``ECG_CACHE_DIR``, else ``~/.cache/ecg_core/features``."""
    env = os.environ.get("ECG_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ecg_core" / "features"


def _record_cached(db_dir: Path, name: str, mode: str, leads: tuple[int, ...], cache: Path) -> dict:
    stamp = [_VERSION, ECGCORE_VERSION, WFDB_READER_VERSION, name, mode, leads,
             (db_dir / f"{name}.dat").stat().st_size]
    key = hashlib.sha1(json.dumps(stamp).encode()).hexdigest()[:12]
    path = cache / f"mitdb_{name}_{mode}_{'-'.join(map(str, leads))}_{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    rec = load_record(db_dir / f"{name}.hea")
    r = detect_rpeaks(rec.signal, rec.fs)
    f = beat_features(rec, r, mode, leads)
    y = label_beats(rec, r)
    out = {"x": f.x.astype(np.float16), "template": f.template.astype(np.float16), "rr": f.rr, "y": y,
           "r_idx": f.r_idx}
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a killed build never leaves half a cache file
        np.savez(fh, **out)
    return out


def mitdb_beats(records: tuple[str, ...] | list[str], mode: str = "diagnostic", leads: tuple[int, ...] = (0,),
                db_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> BeatSet:
    """Beats of MIT-BIH ``records`` (e.g. :data:`DS1`) at detected R peaks, cached on disk per record.

    The first build runs the detector and feature extraction (about a second a record); later builds
    read the cache (``ECG_CACHE_DIR``, default ``~/.cache/ecg_core/features``) in well under a second.
    """
    if db_dir is None:
        root = data_dir()
        if root is None or not (root / "mitdb").is_dir():
            raise FileNotFoundError("MIT-BIH not found: set ECG_DATA_DIR to a folder holding mitdb/")
        db_dir = root / "mitdb"
    db_dir = Path(db_dir)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    parts = [(_record_cached(db_dir, r, mode, tuple(leads), cache), r) for r in records]
    cat = {k: np.concatenate([p[k] for p, _ in parts]) for k in ("x", "template", "rr", "y", "r_idx")}
    rec_names = np.concatenate([np.full(len(p["y"]), r) for p, r in parts])
    return BeatSet(x=cat["x"].astype(np.float32), template=cat["template"].astype(np.float32), rr=cat["rr"],
                   y=cat["y"], record=rec_names, r_idx=cat["r_idx"], mode=mode)
