"""Memory of one full read of the largest allowed upload, per format.

Writes a file of each format just under the upload limit (``ECG_MAX_FILE_MB``, default 200 MB): a
12-lead 500 Hz record made by tiling the demo record (CSV with a time column, WFDB format 16, EDF,
NumPy ``.npy``), reads each with ``ecg_core.io.load_record`` in a fresh process (as an upload: bytes
handed over, written to a private temporary folder) and reports that process's peak resident memory
(``VmHWM`` from /proc, Linux), the baseline of a process that only imports ecg_core, and the ratio of the read's
extra memory to the file's size.

    python bench/memory.py [--mb 200] [--json bench/results/memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import ecg_core.io as io_
path = Path(sys.argv[2])
if path.name != "none":
    parts = [path, path.with_suffix(".dat")] if path.suffix == ".hea" else [path]
    files = [io_.Upload(p.name, p.read_bytes()) for p in parts]
    t0 = time.perf_counter()
    rec = io_.load_record(files if len(files) > 1 else files[0], fs=500.0 if path.suffix == ".npy" else None)
    print(rec.signal.shape, round(time.perf_counter() - t0, 2))
# VmHWM: this process's own peak (ru_maxrss would carry the parent's peak across fork and exec)
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def _write_inputs(folder: Path, mb: float) -> dict[str, Path]:
    import numpy as np

    from ecg_core.data import demo_record
    from ecg_core.io import write_wfdb

    base = demo_record(duration_s=60.0, fs=500.0, seed=1)
    out = {}
    # CSV: time + 12 leads, 4 decimals: about 100 bytes a row
    row_bytes = 100
    n = int(mb * 1e6 * 0.97 / row_bytes)
    sig = np.tile(base.signal, (1, n // base.n_samples + 1))[:, :n]
    t = np.arange(n) / 500.0
    path = folder / "big.csv"
    with open(path, "w") as f:
        f.write("time," + ",".join(base.lead_names) + "\n")
        step = 200_000
        for a in range(0, n, step):
            block = np.column_stack([t[a:a + step], sig[:, a:a + step].T])
            np.savetxt(f, block, fmt="%.4f", delimiter=",")
    while path.stat().st_size > mb * 1e6:  # trim to the limit
        n = int(n * 0.98)
        with open(path) as f:
            lines = [next(f) for _ in range(n + 1)]
        path.write_text("".join(lines))
    out["csv"] = path
    # WFDB format 16: 24 bytes a sample across 12 leads
    n = int(mb * 1e6 * 0.97 / 24) // 500 * 500  # whole seconds (EDF data records of 1 s)
    rec = base.replace(signal=np.tile(base.signal, (1, n // base.n_samples + 1))[:, :n].astype(np.float32),
                       name="big", annotations={})
    out["wfdb"] = write_wfdb(rec, folder / "wfdb")
    # EDF (16-bit) and NumPy float32 (48 bytes a sample across 12 leads)
    import edfio

    sigs = [edfio.EdfSignal(np.asarray(x, np.float64), 500.0, label=name, physical_dimension="mV",
                            physical_range=(-10.0, 10.0)) for name, x in zip(rec.lead_names, rec.signal)]
    edfio.Edf(sigs).write(folder / "big.edf")
    out["edf"] = folder / "big.edf"
    n = int(mb * 1e6 * 0.97 / 48)
    np.save(folder / "big.npy", rec.signal[:, :n])
    out["numpy"] = folder / "big.npy"
    return out


def _peak(path: Path | str) -> tuple[float, str]:
    res = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(path)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=1800)
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    lines = res.stdout.strip().splitlines()
    return int(lines[-1]) / 1024, (lines[0] if len(lines) > 1 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=float(os.environ.get("ECG_MAX_FILE_MB", "200")))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    base_mb, _ = _peak("none")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ecg_mem_") as tmp:
        t0 = time.perf_counter()
        inputs = _write_inputs(Path(tmp), args.mb)
        print(f"inputs written in {time.perf_counter() - t0:.0f} s", flush=True)
        for fmt, path in inputs.items():
            files = [path, path.with_suffix(".dat")] if fmt == "wfdb" else [path]
            size = sum(p.stat().st_size for p in files) / 1e6
            peak, info = _peak(path)
            row = {"format": fmt, "file_mb": round(size, 1), "peak_rss_mb": round(peak),
                   "import_only_mb": round(base_mb), "extra_over_file": round((peak - base_mb) / size, 2), "read": info}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"limit_mb": args.mb, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
