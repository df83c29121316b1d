"""Which keypoint source the Image page offers first, chosen on inner-validation renders (never the held-out
fold): the shipped ViT-DETR alone, the hybrid (its points placed on the delineated trace) and digitise-then-
delineate, F1 of each keypoint type within 40 ms on the 20 inner-validation records of fold 0's model, clean
and photographed at strength 0.3 and 0.8 (each record by the delineation fold model that never saw it).

    python bench/keypoints_sources.py [--weights weights/keypoints_detr.pt] [--cache .devcache/ludb_pages.npz]

Writes ``bench/results/keypoints_sources_inner_val.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from ecg_core.cli import _keypoint_items
    from ecg_core.predict.delineation import held_out_delineators
    from ecg_core.train.keypoints import evaluate_keypoints, load_keypoint_model, ludb_page_split

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=str(ROOT / "weights" / "keypoints_detr.pt"))
    ap.add_argument("--cache", default=str(ROOT / ".devcache" / "ludb_pages.npz"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "keypoints_sources_inner_val.json"))
    args = ap.parse_args()
    model, spec, card = load_keypoint_model(args.weights)
    items = _keypoint_items(args.cache)
    _, inner_val = ludb_page_split(items, card["held_fold"])
    delineators = held_out_delineators(inner_val)
    out = {"weights": Path(args.weights).name, "sha256": card["sha256"], "records": inner_val}
    for photo in (0.0, 0.3, 0.8):
        for how, m, d in (("detr", model, None), ("hybrid", model, delineators), ("digitised", None, delineators)):
            k = evaluate_keypoints(m, spec if m is not None else None, items, inner_val, photo=photo,
                                   delineators=d)["keypoints"]
            out[f"{how}@{photo}"] = {x: round(k[x]["f1"], 3) for x in "PQRST"}
            print(how, photo, out[f"{how}@{photo}"], flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
