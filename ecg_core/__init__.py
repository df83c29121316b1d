"""ecg_core: everything the ECG dashboard computes (records, signals, models, evaluation).

Research software, not a medical device.
"""

from .errors import ECGError, FileTooLargeError, RecordFormatError, RecordValueError
from .record import Annotation, Record

__all__ = ["Annotation", "ECGError", "FileTooLargeError", "Record", "RecordFormatError", "RecordValueError",
           "__version__"]
__version__ = "0.1.0"
