"""Checks every reader applies before a Record leaves ecg_core.io.

Limits are configurable through arguments or environment variables so a deployment can tighten them:
``ECG_MAX_FILE_MB`` (default 200), ``ECG_MAX_UNPACKED_MB`` (default 1000), ``ECG_MAX_ARCHIVE_FILES``
(default 2000), ``ECG_MAX_HOURS`` (default 48: a two-day Holter record).
"""

from __future__ import annotations

import logging
import os
import warnings as _warnings

import numpy as np

from ..errors import FileTooLargeError, RecordValueError, SignalQualityWarning
from ..record import Record

log = logging.getLogger(__name__)

MIN_FS_HZ = 0.0
MAX_FS_HZ = 10_000.0
MIN_DURATION_S = 2.0
#: A peak-to-peak range (robust, 0.5-99.5 percentile) above this many "mV" is a microvolt signal.
UV_SUSPECT_RANGE_MV = 40.0


def max_file_bytes() -> int:
    return int(float(os.environ.get("ECG_MAX_FILE_MB", "200")) * 1e6)


def max_unpacked_bytes() -> int:
    return int(float(os.environ.get("ECG_MAX_UNPACKED_MB", "1000")) * 1e6)


def max_archive_files() -> int:
    return int(os.environ.get("ECG_MAX_ARCHIVE_FILES", "2000"))


def max_duration_s() -> float:
    return float(os.environ.get("ECG_MAX_HOURS", "48")) * 3600.0


def check_duration(n_samples: float, fs: float, what: str) -> None:
    """Refuse a record longer than ``ECG_MAX_HOURS`` (checked from a header before samples are read)."""
    if fs > 0 and n_samples / fs > max_duration_s():
        raise RecordValueError(
            f"{what}: the recording lasts {n_samples / fs / 3600:.1f} h, longer than the {max_duration_s() / 3600:g} h "
            "one record may last here (ECG_MAX_HOURS); cut it into shorter records."
        )


def check_size(n_bytes: int, what: str, limit: int | None = None) -> None:
    limit = max_file_bytes() if limit is None else limit
    if n_bytes > limit:
        raise FileTooLargeError(
            f"{what}: the file is {n_bytes / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit for one upload."
        )


def check_fs(fs: float | None, what: str) -> float:
    if fs is None:
        raise RecordValueError(f"{what}: no sampling rate is known; give it (in Hz) or add a time column.")
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise RecordValueError(f"{what}: the sampling rate {fs!r} is not a number.") from None
    if not np.isfinite(fs) or fs <= MIN_FS_HZ:
        raise RecordValueError(f"{what}: the sampling rate must be positive, got {fs:g} Hz.")
    if fs > MAX_FS_HZ:
        raise RecordValueError(
            f"{what}: a sampling rate of {fs:g} Hz is not plausible for an ECG (limit {MAX_FS_HZ:g} Hz); "
            "check the time column or the rate you entered."
        )
    return fs


def finish(record: Record, what: str, *, units_given: str | None = None, units_from_header: bool = False) -> Record:
    """Validate a freshly read record; return it with recoverable problems listed in ``warnings``.

    Raises RecordValueError for: bad fs, fewer than 2 s, non-finite samples, every lead flat or
    saturated, values that look like microvolts. One flat or saturated lead is only a warning.
    ``units_given``: the unit the user chose for unitless files (``None``: assumed mV), so the advice
    names what was chosen and is not repeated once followed.
    """
    fs = check_fs(record.fs, what)
    sig = record.signal
    if sig.shape[1] == 0:
        raise RecordValueError(f"{what}: the file holds no samples.")
    check_duration(sig.shape[1], fs, what)
    dur = sig.shape[1] / fs
    if dur < MIN_DURATION_S:
        raise RecordValueError(
            f"{what}: the recording lasts {dur:.2f} s ({sig.shape[1]} samples at {fs:g} Hz); "
            f"at least {MIN_DURATION_S:g} s are needed to find beats."
        )
    bad = ~np.isfinite(sig)
    if bad.any():
        lead, idx = np.argwhere(bad)[0]
        raise RecordValueError(
            f"{what}: {int(bad.sum())} samples are missing or not numbers (first in lead "
            f"{record.lead_names[lead]} at {idx / fs:.2f} s)."
        )
    warnings: list[str] = list(record.warnings)
    flat, saturated = [], []
    for i, x in enumerate(sig):
        lo, hi = np.percentile(x, [0.5, 99.5]) if x.size > 0 else (0.0, 0.0)
        if hi - lo < 0.01:  # less than 10 microvolts of movement: no ECG there
            flat.append(record.lead_names[i])
            continue
        x_min, x_max = float(x.min()), float(x.max())
        clipped = np.mean((x <= x_min) | (x >= x_max))
        if clipped > 0.05 and x_max > x_min:
            saturated.append(record.lead_names[i])
    if len(flat) == record.n_leads:
        raise RecordValueError(f"{what}: every lead is flat (no signal was recorded).")
    if len(set(flat) | set(saturated)) == record.n_leads:
        raise RecordValueError(
            f"{what}: every lead is flat or saturated (clipped at its limits for more than 5 % of the time)."
        )
    if flat:
        warnings.append(f"{what}: lead(s) {', '.join(flat)} are flat (no signal); they are ignored for beat detection.")
    if saturated:
        warnings.append(f"{what}: lead(s) {', '.join(saturated)} are saturated (clipped for over 5 % of the time).")
    live = [i for i, n in enumerate(record.lead_names) if n not in flat]
    ranges = np.array([np.subtract(*np.percentile(sig[i], [99.5, 0.5])) for i in live])
    if np.median(ranges) > UV_SUSPECT_RANGE_MV and units_from_header:  # no unit to choose: the header's gains
        raise RecordValueError(
            f"{what}: the file's own gains and units put the leads at about {np.median(ranges):.0f} mV peak to "
            "peak, which no ECG reaches: the header's gains are wrong (values in microvolts read as millivolts) "
            "or these channels are not an ECG."
        )
    elif np.median(ranges) > UV_SUSPECT_RANGE_MV and (_unit_key(units_given or "") in ("uv", "nv")
                                                       or np.median(ranges) * 1e-3 > UV_SUSPECT_RANGE_MV):
        raise RecordValueError(  # the advice was followed: say what is left, not the same advice again
            f"{what}: {'even read in ' + units_given + ', ' if units_given else ''}the signal spans about "
            f"{np.median(ranges):.3g} mV, which no ECG reaches"
            f"{'' if _unit_key(units_given or '') in ('uv', 'nv') else ', and reading it in uV would not make it one'}"
            ": these values are not an ECG in mV, uV or V (check the file's scale or which columns are leads)."
        )
    elif np.median(ranges) > UV_SUSPECT_RANGE_MV:
        hint = f"the units given ({units_given})" if units_given else "the units (assumed mV)"
        raise RecordValueError(
            f"{what}: the signal spans about {np.median(ranges):.0f} mV, which is not plausible for an ECG: "
            f"the values look like microvolts. Check {hint}; choose 'uV' as the unit."
        )
    scaled = einthoven_gains(record)
    if scaled is not None:
        a, b = scaled
        warnings.append(f"{what}: leads I, II and III are scaled differently: II = {a:.2f} x I + {b:.2f} x III fits "
                        "them exactly where Einthoven's law gives II = I + III, so the file's gains are not one "
                        "recorder's; amplitudes cannot be compared between leads (voltage criteria and axes are "
                        "unreliable).")
    for w in warnings[len(record.warnings):]:
        _warnings.warn(w, SignalQualityWarning, stacklevel=3)
    return record.replace(fs=fs, warnings=tuple(warnings))


def einthoven_gains(record: Record, fit_r2: float = 0.98, tolerance: float = 0.05) -> tuple[float, float] | None:
    """``(a, b)`` of II = a I + b III when leads I, II and III are the same recording at different gains:
    the least-squares fit on the samples' first differences (wander-free; Einthoven's law holds for any
    linear filter) explains at least ``fit_r2`` of II and a or b is off 1 by more than ``tolerance``. None
    when the record lacks the three leads, they are not so related (independent noise, other channels under
    those names), or they obey the law. Written here because no installed library checks lead consistency."""
    names = [n.upper() for n in record.lead_names]
    if not all(k in names for k in ("I", "II", "III")) or record.signal.shape[1] < 10:
        return None
    i, ii, iii = (np.diff(record.signal[names.index(k)].astype(np.float64)) for k in ("I", "II", "III"))
    design = np.stack([i, iii], axis=1)
    coef, *_ = np.linalg.lstsq(design, ii, rcond=None)
    total = float(np.sum(ii ** 2))
    if total <= 0:
        return None
    r2 = 1.0 - float(np.sum((ii - design @ coef) ** 2)) / total
    if r2 < fit_r2 or max(abs(coef - 1.0)) <= tolerance:
        return None
    return float(coef[0]), float(coef[1])


_VOLT_FACTORS = {"mv": 1.0, "uv": 1e-3, "v": 1e3, "nv": 1e-6, "millivolt": 1.0, "microvolt": 1e-3, "": 1.0}
# channel names that are never an ECG lead, whatever their unit (monitors store pleth and respiration
# in mV or 'NU', EEG and EMG in uV); compared on the name's first word, lower case
_NOT_ECG_NAMES = ("abp", "art", "pap", "cvp", "icp", "lap", "rap", "uap", "bp", "nbp", "nibp", "pleth", "ppg",
                  "spo2", "sao2", "resp", "respiration", "rr", "co2", "etco2", "temp", "temperature", "pulse",
                  "hr", "eeg", "eog", "emg", "edf", "uc", "toco", "flow", "airflow", "thor", "abdo", "snore",
                  "position", "event", "marker", "status", "pressure", "imp", "impedance")


def _unit_key(unit: str | None) -> str:
    return (unit or "").strip().replace("µ", "u").replace("μ", "u").lower()


def is_ecg_channel(name: str, unit: str | None) -> bool:
    """Whether a channel is an ECG lead: a voltage unit (mV, uV, V or none given) and a name that is not
    a known non-ECG signal (ABP, PLETH, RESP, EEG, 'EDF Annotations', ...). Anything else is kept aside
    as an auxiliary signal."""
    if _unit_key(unit) not in _VOLT_FACTORS:
        return False
    words = "".join(c if c.isalnum() else " " for c in str(name).lower()).split()
    return not (words and words[0] in _NOT_ECG_NAMES)


def to_mv_factor(unit: str | None, what: str) -> float:
    """Factor that converts values in ``unit`` to millivolts; raises for unknown units."""
    u = _unit_key(unit or "mV")
    if u not in _VOLT_FACTORS:
        raise RecordValueError(f"{what}: unknown signal unit {unit!r}; expected mV, uV or V.")
    return _VOLT_FACTORS[u]
