"""Reading WFDB annotation files: ``ecg_core.io.wfdb_io._rdann`` (wfdb's own reading steps, without rdann's look-up
of the header for a sampling rate we never use) against ``wfdb.rdann`` on the same files, in one run. Every
annotation file of every LUDB and MIT-BIH record under ECG_DATA_DIR (LUDB: twelve a record, one a lead), both
readers in turn on each, the median of ``--repeats`` passes; each file's samples, symbols and notes must agree.

    ECG_DATA_DIR=/path/to/data python bench/wfdb_annotations.py [--json bench/results/wfdb_annotations.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _read_all(read, files: list[tuple[str, str]]) -> list:
    return [read(rec, ext) for rec, ext in files]


def main() -> None:
    import wfdb

    from bench._timing import median_time
    from ecg_core.io.records import data_dir
    from ecg_core.io.wfdb_io import _rdann, annotation_files

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "wfdb_annotations.json"))
    args = ap.parse_args()

    if data_dir() is None:
        raise SystemExit("set ECG_DATA_DIR to the folder holding ludb/ and mitdb/")
    out = {"repeats": args.repeats}
    for db in ("ludb", "mitdb"):
        headers = sorted((data_dir() / db).rglob("*.hea"))
        files = [(str(h.with_suffix("")), p.suffix[1:]) for h in headers for p in annotation_files(h.parent, h.stem)]
        readers = {"wfdb.rdann": wfdb.rdann, "ecg_core": _rdann}
        sec = {name: median_time(partial(_read_all, fn, files), args.repeats) for name, fn in readers.items()}
        theirs, ours = (_read_all(fn, files) for fn in readers.values())
        for (rec, ext), a, b in zip(files, theirs, ours):
            if a.sample.tolist() != b.sample.tolist() or a.symbol != b.symbol or a.aux_note != b.aux_note:
                raise SystemExit(f"{rec}.{ext}: the two readers disagree")
        out[db] = {"records": len(headers), "annotation_files": len(files), "identical": True,
                   "seconds": {k: round(v, 2) for k, v in sec.items()},
                   "speedup": round(sec["wfdb.rdann"] / sec["ecg_core"], 1)}
        print(db, out[db], flush=True)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
