"""Project errors and warnings.

Every problem with a user's input is raised as a subclass of :class:`ECGError` whose message names the
file and says what is wrong in words a clinician understands. Pages show ``str(err)`` and keep the
previous record; the CLI prints it and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "ECGError",
    "RecordFormatError",
    "RecordValueError",
    "FileTooLargeError",
    "DataUnavailableError",
    "WeightsIntegrityError",
    "SignalQualityWarning",
]


class ECGError(Exception):
    """Base class of every error ecg_core raises on purpose."""


class RecordFormatError(ECGError):
    """A file cannot be read as an ECG record (wrong, truncated or inconsistent format)."""


class RecordValueError(ECGError):
    """A file was read but its content is not a usable ECG (sampling rate, length, units, flat...)."""


class FileTooLargeError(ECGError):
    """A file or an archive's unpacked content is over the configured size limit."""


class DataUnavailableError(ECGError):
    """A database or record is neither on disk nor downloadable (offline, unknown name)."""


class WeightsIntegrityError(ECGError, ValueError):
    """A weights file is missing, has no model card, or is not byte for byte the file its card measured."""


class SignalQualityWarning(UserWarning):
    """A recoverable problem with a record (one flat lead, a saturated lead...)."""
