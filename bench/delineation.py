"""Delineation benchmark on LUDB held-out folds: this project's learned delineator against NeuroKit2's
wavelet delineator (dwt), clean and under perturbations, plus the time to delineate one 10 s 12-lead record.

Every LUDB record is scored by the fold model that never saw it (five patient-wise folds); NeuroKit2 runs
behind the same adapter and scoring (``python -m ecg_core evaluate delineation --method NAME``).
Perturbations (``ecg_core.evaluate.PERTURBATIONS``): records played 1.5x faster (tachycardia), every lead
inverted, baseline wander at 0 dB, muscle noise and electrode motion at 12 dB (``ecg_core.data.augment``).

    ECG_DATA_DIR=/path/to/data python bench/delineation.py [--perturb ...] [--records N]

Writes ``bench/results/delineation.json`` and prints Markdown tables (pasted into docs/results.md): per-lead
errors, and global fiducials (one boundary per beat from all leads, as the CSE study measured them). With
``--methods unet`` (a new model) the NeuroKit2 rows of the previous full run are kept.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.evaluate import CSE_TOLERANCE_MS, PERTURBATIONS, evaluate_delineation  # noqa: E402

METHODS = {"unet": "ecg_core U-Net (this project)", "neurokit_dwt": "NeuroKit2 dwt"}


def speed(repeats: int = 20) -> dict:
    """Median seconds to delineate LUDB record 1 (10 s, 12 leads), model loaded once, 2 threads."""
    import torch

    from ecg_core.data.ludb import load_ludb
    from ecg_core.pipeline import delineate
    from ecg_core.predict.delineation import default_weights
    from ecg_core.train.delineation import load_delineation_model

    torch.set_num_threads(2)
    rec, _ = load_ludb("1")
    model = load_delineation_model(default_weights())[0]
    out = {}
    for name, kw in (("unet_ensemble", {"model": model}), ("unet_single", {"model": model.members[0]}),
                     ("neurokit_dwt", {})):
        method = "neurokit_dwt" if name == "neurokit_dwt" else "unet"
        delineate(rec, method, **kw)  # warm-up
        times = []
        for _ in range(repeats if method == "unet" else 3):
            t0 = time.perf_counter()
            delineate(rec, method, **kw)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))
    return out


def table(results: list[dict]) -> str:
    lines = ["| method | condition | P F1 | QRS F1 | T F1 | " + " | ".join(
        f"{k} mean ± SD (ms)" for k in ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")) + " |",
        "|---" * 10 + "|"]
    for r in results:
        w, f = r["waves"], r["fiducials"]
        cells = [f"{f[k]['mean_ms']:+.1f} ± {f[k]['sd_ms']:.1f}" + (" ✓" if f[k].get("within_cse") else "")
                 for k in ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")]
        lines.append(f"| {METHODS[r['method']]} | {r['perturb'] or 'clean'} | {w['P']['f1']:.3f} | "
                     f"{w['QRS']['f1']:.3f} | {w['T']['f1']:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def global_table(results: list[dict]) -> str:
    """Global fiducials: one boundary per beat from all leads (the CSE way), against the same rule on the
    manual marks."""
    fids = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")
    lines = ["| method | condition | " + " | ".join(f"{k} mean ± SD (ms)" for k in fids) + " | beats |",
             "|---" * 8 + "|"]
    for r in results:
        g = r.get("global_fiducials")
        if not g or r["perturb"] == "digitised":  # a 3 x 4 page prints each beat in three leads: no global beats
            continue
        cells = [f"{g[k]['mean_ms']:+.1f} ± {g[k]['sd_ms']:.1f}" + (" ✓" if g[k].get("within_cse") else "")
                 for k in fids]
        lines.append(f"| {METHODS[r['method']]} | {r['perturb'] or 'clean'} | " + " | ".join(cells) +
                     f" | {g['qrs_on']['n']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "delineation.json"))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--perturb", nargs="*", default=list(PERTURBATIONS), help="perturbations (none: clean only)")
    ap.add_argument("--records", type=int, help="only the first N records of each fold (a quick run)")
    ap.add_argument("--speed-only", action="store_true", help="re-time only; keep the accuracy rows of the JSON")
    args = ap.parse_args()
    if args.speed_only:
        path = Path(args.json)
        out = json.loads(path.read_text())
        out["seconds_per_10s_12lead"] = speed()
        path.write_text(json.dumps(out, indent=2))
        print(table(out["results"]))
        print(global_table(out["results"]))
        print("\nSeconds to delineate one 10 s 12-lead record: " +
              ", ".join(f"{k} {v:.3f}" for k, v in out["seconds_per_10s_12lead"].items()))
        return
    records = None
    if args.records:
        from ecg_core.data.ludb import ludb_folds

        records = [r for f in ludb_folds() for r in f[:args.records]]
    results = []
    for perturb in [None, *args.perturb]:
        for method in args.methods:
            t0 = time.perf_counter()
            res = evaluate_delineation(method, records=records, perturb=perturb)
            res["wall_seconds"] = round(time.perf_counter() - t0, 1)
            results.append(res)
            print(f"{method} {perturb or 'clean'}: " + "  ".join(
                f"{k} {v['f1']:.3f}" for k, v in res["waves"].items()) + f"  ({res['wall_seconds']} s)", flush=True)
    timing = speed()
    path = Path(args.json)
    if path.exists() and set(args.methods) != set(METHODS) and not args.records:
        # a partial run (e.g. a new model): keep the other methods' rows from the previous full run
        kept = [r for r in json.loads(path.read_text())["results"] if r["method"] not in args.methods]
        results = sorted(kept + results, key=lambda r: ([None, *PERTURBATIONS].index(r["perturb"]),
                                                        list(METHODS).index(r["method"])))
    out = {"machine": platform.processor() or platform.machine(), "cse_sd_ms": CSE_TOLERANCE_MS,
           "results": results, "seconds_per_10s_12lead": timing}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(table(results))
    print(global_table(results))
    print("\nSeconds to delineate one 10 s 12-lead record: " + ", ".join(f"{k} {v:.3f}" for k, v in timing.items()))


if __name__ == "__main__":
    main()
