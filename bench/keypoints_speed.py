"""Time of the image keypoint detector on one page on this machine (2 threads), beside the classical
digitiser on the same page (the peer measured in the same run).

A 10 s 12-lead LUDB record is printed 3 x 4 + rhythm strip at the detector's input size (512 x 1024); the
shipped ViT-DETR finds every (lead, beat) object with its P, Q, R, S, T points. The issue's target: one
page to keypoints within 1 s. The hybrid (on the Image page's switch: the page at print resolution, 100 dpi,
digitised, delineated by the shipped learned delineator, and the detector's points placed on it) is timed
too.

    ECG_DATA_DIR=/path/to/data python bench/keypoints_speed.py [--records 1 50 100] [--repeats 5]

Writes ``bench/results/keypoints_speed.json`` (median seconds per record, then the median over records).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._timing import median_time, record_options  # noqa: E402


def main() -> None:
    ap = record_options(__doc__, ROOT / "bench" / "results" / "keypoints_speed.json")
    ap.add_argument("--weights", default=str(ROOT / "weights" / "keypoints_detr.pt"))
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    from ecg_core.data.ludb import load_ludb
    from ecg_core.digitize import digitize
    from ecg_core.predict.keypoints import detect_keypoints, hybrid_page, load_keypoint_model
    from ecg_core.train.keypoints import render_sample

    model, spec, _ = load_keypoint_model(args.weights)
    rows = []
    for name in args.records:
        rec, waves = load_ludb(name)
        s = render_sample(rec, waves, spec.img_size, None, keep_page=True)
        page = s["image"]
        detect_keypoints(model, page[None], spec)  # warm-up
        n = len(detect_keypoints(model, page[None], spec)[0])
        t_det = median_time(lambda p=page: detect_keypoints(model, p[None], spec), args.repeats)
        t_dig = median_time(lambda p=page: digitize(p), args.repeats)
        hybrid_page(model, spec, s["page"])  # warm-up (loads the delineator)
        t_hyb = median_time(lambda p=s["page"]: hybrid_page(model, spec, p), args.repeats)
        rows.append({"record": name, "objects": n, "detector_s": t_det, "digitiser_s": t_dig, "hybrid_s": t_hyb})
        print(f"LUDB {name}: {n} objects, detector {t_det:.3f} s, digitiser {t_dig:.3f} s, hybrid {t_hyb:.3f} s",
              flush=True)
    res = {"image_size": list(spec.img_size), "threads": 2, "repeats": args.repeats, "per_record": rows,
           "detector_s": float(np.median([r["detector_s"] for r in rows])),
           "digitiser_s": float(np.median([r["digitiser_s"] for r in rows])),
           "hybrid_s": float(np.median([r["hybrid_s"] for r in rows])),
           "target_s": 1.0, "machine": f"{platform.machine()}, {torch.get_num_threads()} threads"}
    res["detector_over_digitiser"] = res["detector_s"] / res["digitiser_s"]
    print(f"median: detector {res['detector_s']:.3f} s (target <= 1 s), digitiser {res['digitiser_s']:.3f} s, "
          f"hybrid {res['hybrid_s']:.3f} s")
    Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
