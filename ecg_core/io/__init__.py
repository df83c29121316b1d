"""Reading and writing ECG files: the only room of ecg_core that touches files."""

from ._checks import max_file_bytes
from .csv_io import read_csv
from .edf_io import read_edf
from .load import SUPPORTED_EXTENSIONS, Upload, load_record
from .numpy_io import read_numpy
from .records import find_records
from .wfdb_io import read_wfdb, wfdb_zip_bytes, write_annotation, write_wfdb

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Upload",
    "find_records",
    "load_record",
    "max_file_bytes",
    "read_csv",
    "read_edf",
    "read_numpy",
    "read_wfdb",
    "write_annotation",
    "wfdb_zip_bytes",
    "write_wfdb",
]
