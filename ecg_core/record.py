"""The Record and Annotation types: the one currency passed between ecg_core's rooms.

Signals are ``float32`` arrays of shape ``(n_leads, n_samples)`` in millivolts, ``fs`` in Hz.
Lead names are canonical (``I, II, III, aVR, aVL, aVF, V1..V6``); other names (``MLII``) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = ["Annotation", "AuxSignal", "Record", "canonical_lead_name", "rhythm_lead", "BEAT_SYMBOLS",
           "STANDARD_12_LEADS"]

#: the standard 12 leads in their usual order (limb leads, augmented limb leads, precordial leads); the one
#: place this tuple is written
STANDARD_12_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

#: WFDB annotation symbols that mark a beat (QRS complex); '!' (flutter wave) is not a beat.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")

_CANONICAL = {
    "i": "I", "ii": "II", "iii": "III", "avr": "aVR", "avl": "aVL", "avf": "aVF",
    "v1": "V1", "v2": "V2", "v3": "V3", "v4": "V4", "v5": "V5", "v6": "V6",
    "mlii": "MLII", "mli": "MLI", "mliii": "MLIII",
    "lead i": "I", "lead ii": "II", "lead iii": "III",
    "ecg i": "I", "ecg ii": "II", "ecg iii": "III",
}


def canonical_lead_name(name: str) -> str:
    """Map a lead label to its canonical spelling (``'avr'`` -> ``'aVR'``); unknown labels pass through."""
    key = str(name).strip().strip("'\"").lower()
    return _CANONICAL.get(key, str(name).strip().strip("'\""))


@dataclass(frozen=True)
class Annotation:
    """Labelled time points of a record (reference beats, detected beats, wave marks).

    ``sample_idx`` are int64 sample indices at the record's ``fs``; ``symbol`` holds one WFDB symbol each.
    """

    sample_idx: np.ndarray
    symbol: tuple[str, ...]
    extension: str = "atr"
    aux_note: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        idx = np.asarray(self.sample_idx, dtype=np.int64).reshape(-1)
        object.__setattr__(self, "sample_idx", idx)
        object.__setattr__(self, "symbol", tuple(str(s) for s in self.symbol))
        if len(self.symbol) != len(idx):
            raise ValueError(f"annotation has {len(idx)} samples but {len(self.symbol)} symbols")

    def __len__(self) -> int:
        return len(self.sample_idx)

    def beats(self) -> Annotation:
        """Only the beat annotations (symbols in :data:`BEAT_SYMBOLS`)."""
        keep = np.array([s in BEAT_SYMBOLS for s in self.symbol], dtype=bool)
        aux = None if self.aux_note is None else tuple(a for a, k in zip(self.aux_note, keep) if k)
        return Annotation(self.sample_idx[keep], tuple(s for s, k in zip(self.symbol, keep) if k),
                          self.extension, aux)


@dataclass(frozen=True)
class AuxSignal:
    """A channel that is not an ECG lead (blood pressure, pleth, respiration, temperature, 'NU'...), kept
    beside the ECG with its own unit and rate: shown, exported, never fed to an ECG algorithm.

    ``signal`` is float32 in ``unit`` (as the file gave it, not converted); gaps are NaN.
    """

    name: str
    unit: str
    signal: np.ndarray
    fs: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "signal", np.asarray(self.signal, dtype=np.float32).reshape(-1))
        object.__setattr__(self, "fs", float(self.fs))
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "unit", str(self.unit))

    @property
    def duration_s(self) -> float:
        return len(self.signal) / self.fs if self.fs > 0 else 0.0


@dataclass(frozen=True)
class Record:
    """An ECG: signal in mV with its sampling rate, lead names and what the source said about it.

    Attributes:
        signal: ``(n_leads, n_samples)`` float32, millivolts.
        fs: sampling rate in Hz.
        lead_names: one name per lead, canonical spelling where known.
        name: record name (file stem).
        units: physical units of each lead (``"mV"`` after loading).
        metadata: age, sex, diagnoses, comments, source format... as found in the file.
        annotations: reference annotations by file extension (``"atr"`` for MIT-BIH beats).
        warnings: recoverable problems found while loading (one flat lead...).
        aux: channels that are not ECG leads (:class:`AuxSignal`), in the file's order.
    """

    signal: np.ndarray
    fs: float
    lead_names: tuple[str, ...]
    name: str = "record"
    units: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Annotation] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    aux: tuple[AuxSignal, ...] = ()

    def __post_init__(self) -> None:
        sig = np.asarray(self.signal, dtype=np.float32)
        if sig.ndim == 1:
            sig = sig[None, :]
        if sig.ndim != 2:
            raise ValueError(f"signal must be (n_leads, n_samples), got shape {sig.shape}")
        object.__setattr__(self, "signal", sig)
        names = tuple(canonical_lead_name(n) for n in self.lead_names)
        if len(names) != sig.shape[0]:
            raise ValueError(f"{sig.shape[0]} leads but {len(names)} lead names")
        object.__setattr__(self, "lead_names", names)
        object.__setattr__(self, "units", tuple(self.units) or ("mV",) * sig.shape[0])
        object.__setattr__(self, "fs", float(self.fs))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "aux", tuple(self.aux))

    @property
    def n_leads(self) -> int:
        return int(self.signal.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    def lead_index(self, name: str) -> int:
        """Index of lead ``name`` (canonical or not); raises ``KeyError`` listing the leads."""
        want = canonical_lead_name(name)
        if want not in self.lead_names:
            raise KeyError(f"lead {name!r} not in record {self.name!r}; leads: {', '.join(self.lead_names)}")
        return self.lead_names.index(want)

    def lead(self, name: str) -> np.ndarray:
        return self.signal[self.lead_index(name)]

    def replace(self, **changes: Any) -> Record:
        """A copy with some fields changed (the record itself is immutable)."""
        return replace(self, **changes)

    def crop(self, start_s: float, stop_s: float) -> Record:
        """The part between ``start_s`` and ``stop_s``; annotations are cropped and shifted."""
        a = max(0, int(round(start_s * self.fs)))
        b = min(self.n_samples, int(round(stop_s * self.fs)))
        anns = {}
        for ext, ann in self.annotations.items():
            keep = (ann.sample_idx >= a) & (ann.sample_idx < b)
            aux = None if ann.aux_note is None else tuple(x for x, k in zip(ann.aux_note, keep) if k)
            anns[ext] = Annotation(ann.sample_idx[keep] - a,
                                   tuple(s for s, k in zip(ann.symbol, keep) if k), ext, aux)
        aux = tuple(AuxSignal(x.name, x.unit, x.signal[max(0, int(round(start_s * x.fs))):
                                                 max(0, int(round(stop_s * x.fs)))], x.fs) for x in self.aux)
        return self.replace(signal=self.signal[:, a:b], annotations=anns, aux=aux)


#: leads read for rhythm, in order of preference
RHYTHM_LEADS = ("II", "MLII", "V5", "I", "V1")


def rhythm_lead(record: Record) -> int:
    """Index of the lead to read rhythm from: II (or MLII), else V5, I, V1, else the first one."""
    for name in RHYTHM_LEADS:
        if name in record.lead_names:
            return record.lead_names.index(name)
    return 0
