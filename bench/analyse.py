"""Speed of a full read of a 30-minute two-lead record: load, filter, R peaks, beat features and beat
classes (ecg_core, shipped diagnostic beat model), against NeuroKit2's ``ecg_process`` on the same record,
in one run. Median of repeated runs; 2 threads.

    ECG_DATA_DIR=/path/to/data python bench/analyse.py [--record 100] [--json bench/results/analyse.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import neurokit2 as nk
    import torch

    from ecg_core.io import load_record
    from ecg_core.io.records import record_path
    from ecg_core.pipeline import analyse
    from ecg_core.predict.beats import classify_beats, load_beat_ensemble

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", default="100")
    ap.add_argument("--weights", default=str(ROOT / "weights" / "beat_diagnostic.pt"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "analyse.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    path = record_path("mitdb", args.record)
    model, spec, _ = load_beat_ensemble(args.weights)

    def ours() -> int:
        rec = load_record(path)
        res = analyse(rec)
        return len(classify_beats(rec, res.r_idx, model, spec).labels)

    def peer() -> int:
        rec = load_record(path)
        signals, info = nk.ecg_process(rec.signal[0], sampling_rate=rec.fs)
        return len(info["ECG_R_Peaks"])

    times = {"ecg_core": [], "neurokit2_ecg_process": []}
    n = {}
    for _ in range(args.repeats):
        for name, fn in (("ecg_core", ours), ("neurokit2_ecg_process", peer)):
            t0 = time.perf_counter()
            n[name] = fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"record": args.record, "seconds": med, "beats": n, "speedup": med["neurokit2_ecg_process"] / med["ecg_core"],
           "repeats": args.repeats}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2))
    print(f"record {args.record}: ecg_core full read with beat classes {med['ecg_core']:.3f} s "
          f"({n['ecg_core']} beats classified); NeuroKit2 ecg_process {med['neurokit2_ecg_process']:.2f} s "
          f"(no classes); {out['speedup']:.1f}x faster")


if __name__ == "__main__":
    main()
