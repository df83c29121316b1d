"""Long fuzzing run of every reader (WFDB, CSV, EDF, NumPy, zip, images, PDF): mutated files seeded from
a real record (8 s of MIT-BIH 119 when ``ECG_DATA_DIR`` has it) and from the demo record. Every input
must end in a valid record (or image) or a project error with a message; anything else is a defect,
listed with the input's number. Counts per format go to the JSON file and docs/results.md.

    ECG_DATA_DIR=/path/to/data python bench/fuzz.py [--n 5000] [--seed 0] [--json bench/results/fuzz.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from ecg_core.io import load_record
    from ecg_core.testing.fuzzing import FORMATS, fuzz

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="inputs per format and seed record")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    records = {"demo": None}
    root = os.environ.get("ECG_DATA_DIR")
    if root and (Path(root) / "mitdb" / "119.hea").exists():
        rec = load_record(Path(root) / "mitdb" / "119.hea").crop(60, 68)
        records["mitdb_119"] = rec.replace(annotations={})
    out: dict = {"n_per_format_and_seed": args.n, "seed": args.seed, "by_seed_record": {}}
    t0 = time.perf_counter()
    for name, rec in records.items():
        report = fuzz(args.n, seed=args.seed, record=rec, formats=tuple(args.formats)).as_dict()
        out["by_seed_record"][name] = report
        for fmt, r in report.items():
            print(f"{name:10s} {fmt:6s} {r['inputs']:6d} inputs  {r['defects']:3d} defects  {r['seconds']:6.1f} s  "
                  f"{r['outcomes']}", flush=True)
    totals: dict = {}
    for report in out["by_seed_record"].values():
        for fmt, r in report.items():
            t = totals.setdefault(fmt, {"inputs": 0, "ok": 0, "project_errors": 0, "defects": 0})
            t["inputs"] += r["inputs"]
            t["ok"] += r["outcomes"].get("ok", 0)
            t["project_errors"] += sum(v for k, v in r["outcomes"].items() if k.startswith("error:"))
            t["defects"] += r["defects"]
    out["totals"] = totals
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(totals))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
