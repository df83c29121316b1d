"""What `load_record` makes of every file in wfdb-python's sample data: read (ECG leads, rate, length,
auxiliary channels) or refused (the sentence), as a Markdown table for docs/results.md.
`tests/io/test_wfdb_samples.py` checks each read against `wfdb.rdrecord`.

    ECG_DATA_DIR=... python bench/wfdb_samples.py
"""

from __future__ import annotations

import warnings

from ecg_core.errors import ECGError
from ecg_core.io import load_record
from ecg_core.io.records import data_dir


def main() -> None:
    warnings.simplefilter("ignore")
    root = data_dir() / "wfdb-samples"
    files = sorted([*root.rglob("*.hea"), *root.glob("*.edf")])
    print("| file | outcome |\n|---|---|")
    for p in files:
        try:
            r = load_record(p)
        except ECGError as exc:
            print(f"| `{p.relative_to(root)}` | refused: {str(exc).split(': ', 1)[-1].replace('|', '/')} |")
            continue
        aux = f"; aux {', '.join(f'{a.name} ({a.unit})' for a in r.aux)}" if r.aux else ""
        print(f"| `{p.relative_to(root)}` | read: {r.n_leads} ECG lead(s), {r.fs:g} Hz, {r.duration_s:.1f} s{aux} |")


if __name__ == "__main__":
    main()
