"""R-peak benchmark: ecg_core's detector, wfdb's XQRS and NeuroKit2 on all 48 MIT-BIH records, one run.

Gross Se/+P (150 ms window, every beat annotation, ventricular flutter episodes of 207 left out on both
sides as EC57 does) and total detection seconds per method, then the cost of one full read of a
30-minute record (load + filter + R peaks; time and peak memory of a fresh process).

    ECG_DATA_DIR=/path/to/data python bench/rpeaks.py [--json bench/results/rpeaks.json]

Prints a Markdown table (pasted into docs/results.md) and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.evaluate import evaluate_rpeaks  # noqa: E402

METHODS = {"ecgcore": "ecg_core `ecgcore` (this project)", "xqrs": "wfdb XQRS", "neurokit": "NeuroKit2 `ecg_peaks`"}

_ONE_READ = r"""
import json, sys, time
t0 = time.perf_counter()
from ecg_core.io import load_record
from ecg_core.signal import clean, detect_rpeaks
t1 = time.perf_counter()
rec = load_record(sys.argv[1])
filtered = clean(rec.signal, rec.fs)
peaks = detect_rpeaks(rec.signal, rec.fs)
t2 = time.perf_counter()
# VmHWM is this process's own peak resident memory (ru_maxrss would carry the parent's over exec)
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0, "n_beats": len(peaks),
                  "peak_rss_mb": hwm_kb / 1024}))
"""


def one_read(header: Path, repeats: int = 3) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _ONE_READ, str(header)], cwd=ROOT, capture_output=True,
                             text=True, check=True)
        runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "rpeaks.json"))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    args = ap.parse_args()
    results = {}
    for m in args.methods:
        print(f"running {m} ...", file=sys.stderr, flush=True)
        results[m] = evaluate_rpeaks("mitdb", m)
    from ecg_core.io.records import record_path

    read = one_read(record_path("mitdb", "100"))
    out = {"machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                       "cpus": __import__("os").cpu_count()},
           "methods": results, "one_read_100": read}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2))
    print("| detector | Se (%) | +P (%) | TP | FN | FP | detection time, 48 records (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m, r in results.items():
        print(f"| {METHODS[m]} | {100 * r['se']:.2f} | {100 * r['ppv']:.2f} | {r['tp']} | {r['fn']} | {r['fp']} "
              f"| {r['seconds']:.2f} |")
    print(f"\nOne full read of record 100 (30 min, 2 leads; load + filter + R peaks): "
          f"{read['seconds']:.3f} s, peak memory of the process {read['peak_rss_mb']:.0f} MB.")


if __name__ == "__main__":
    main()
