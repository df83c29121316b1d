"""Time of a full 12-lead read on the Diagnosis page, stage by stage, on this machine (2 threads).

A read of one 10 s 12-lead record: inputs (resampling, the paper image rendered from the signal, metadata),
the five fold models x 30 MC-dropout samples (temperature-scaled), Grad-CAM of the top class over time and
attention rollout over the image; optionally integrated gradients (16 steps per model), and the PDF + HTML
report with the learned delineator's measurements. The issue's target: model + 30 MC samples + Grad-CAM
within 3 s.

    ECG_DATA_DIR=/path/to/data python bench/diagnosis_speed.py [--records 1 2 3] [--repeats 5]

Writes ``bench/results/diagnosis_speed.json`` (median seconds per record, then the median over records).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._timing import median_time, record_options  # noqa: E402


def main() -> None:
    ap = record_options(__doc__, ROOT / "bench" / "results" / "diagnosis_speed.json")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import delineate
    from ecg_core.predict.diagnosis import diagnose, load_multimodal
    from ecg_core.report import build_report, report_html, report_pdf

    t0 = time.perf_counter()
    members, spec, card = load_multimodal(ROOT / "weights" / "multimodal_ludb.pt")
    load_s = time.perf_counter() - t0
    stages = {
        "read: 30 MC samples + Grad-CAM": ("grad_cam",),
        "read: 30 MC samples + Grad-CAM + rollout (the page's default)": ("grad_cam", "rollout"),
        "read: + integrated gradients": ("grad_cam", "rollout", "integrated_gradients"),
    }
    def read(rec, explain):
        return diagnose(rec, members, spec, card, mc_samples=30, explain=explain)

    def report(rec, dx):
        r = build_report(rec, diagnosis=dx, measurements=delineate(rec, "unet").measure())
        return report_pdf(r), report_html(r)

    per_record = {}
    for name in args.records:
        rec, _ = load_ludb(name)
        diagnose(rec, members, spec, card, mc_samples=2, explain=())  # warm-up (allocations, lazy imports)
        row = {label: median_time(partial(read, rec, ex), args.repeats) for label, ex in stages.items()}
        row["report: delineation + PDF + HTML"] = median_time(partial(report, rec, read(rec, ("grad_cam",))),
                                                               args.repeats)
        per_record[name] = row
        print(name, {k: round(v, 3) for k, v in row.items()}, flush=True)
    median = {k: float(np.median([r[k] for r in per_record.values()])) for k in next(iter(per_record.values()))}
    out = {"records": args.records, "repeats": args.repeats, "threads": 2, "model_load_s": round(load_s, 3),
           "n_members": len(members), "median_s": {k: round(v, 3) for k, v in median.items()},
           "per_record_s": {n: {k: round(v, 3) for k, v in r.items()} for n, r in per_record.items()},
           "target_s": 3.0,
           "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"}
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    print("\n| stage | median s per 10 s 12-lead record |\n|---|---:|")
    for k, v in median.items():
        print(f"| {k} | {v:.2f} |")


if __name__ == "__main__":
    main()
