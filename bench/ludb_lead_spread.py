"""How far LUDB's own manual marks of one beat differ between its 12 leads.

For every QRS marked in lead II, the same beat's marks in the other leads (peak within 150 ms) give a
spread per fiducial: each lead's onset/offset minus the median over the leads, pooled (ms; SD and
median absolute). A delineator scored lead by lead against these marks cannot be expected to beat the
marks' own spread by much: it is the floor under the per-lead error SDs of the delineation table.

    ECG_DATA_DIR=/path/to/data python bench/ludb_lead_spread.py

Writes ``bench/results/ludb_lead_spread.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.data.ludb import load_ludb, ludb_records  # noqa: E402
from ecg_core.evaluate import CSE_TOLERANCE_MS  # noqa: E402

FIDUCIALS = {"p_on": ("P", 0), "p_off": ("P", 2), "qrs_on": ("QRS", 0), "qrs_off": ("QRS", 2), "t_off": ("T", 2)}


def main() -> None:
    spread: dict[str, list[np.ndarray]] = {k: [] for k in FIDUCIALS}
    for name in ludb_records():
        rec, waves = load_ludb(name)
        ms = 1000.0 / rec.fs
        ii = rec.lead_names.index("II")
        for key, (kind, col) in FIDUCIALS.items():
            for row in waves[ii][kind]:
                vals = []
                for w in waves:
                    a = w[kind]
                    if not len(a):
                        continue
                    j = int(np.argmin(np.abs(a[:, 1] - row[1])))
                    if abs(a[j, 1] - row[1]) * ms <= 150 and a[j, col] >= 0:
                        vals.append(a[j, col])
                if len(vals) >= 6:
                    v = np.asarray(vals, float)
                    spread[key].append((v - np.median(v)) * ms)
    out = {}
    for key, parts in spread.items():
        v = np.concatenate(parts)
        out[key] = {"n": int(len(v)), "sd_ms": float(v.std()), "median_abs_ms": float(np.median(np.abs(v))),
                    "cse_sd_ms": CSE_TOLERANCE_MS.get(key)}
    path = ROOT / "bench" / "results" / "ludb_lead_spread.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("| fiducial | SD across leads (ms) | median abs (ms) | CSE SD limit (ms) |\n|---|---:|---:|---:|")
    for k, v in out.items():
        print(f"| {k} | {v['sd_ms']:.1f} | {v['median_abs_ms']:.1f} | {v['cse_sd_ms']} |")


if __name__ == "__main__":
    main()
