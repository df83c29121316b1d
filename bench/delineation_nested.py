"""Nested cross-validation for choices made after the learned delineator (post-processing), never reading a fold's
held-out records for its own choice. Ten pair models, one per pair of LUDB folds {a, b}, each trained on the other
three folds with the CPU recipe:

    python -m ecg_core train delineation --folds a --also-leave-out b --epochs 100 --patience 20 --threads 1 \\
        --seed 0 --run-dir runs/nested/pab        # for every a < b

For outer fold k, each record of fold j != k is delineated by the pair model {k, j}, which saw neither fold: 160
records a fold, against 25 inner-validation records (two paced) for the fold models. A candidate passes in fold k
when the paired 95 % interval of its global QRS-onset SD minus the shipped rule's lies below zero and no other global
SD within its CSE tolerance leaves it; the held-out folds are then read once, the candidate in the folds that passed.

    ECG_DATA_DIR=/path/to/data python bench/delineation_nested.py gate averaged
    ECG_DATA_DIR=/path/to/data python bench/delineation_nested.py held-out averaged
    ECG_DATA_DIR=/path/to/data python bench/delineation_nested.py gate paced_global

Candidates: ``averaged`` (not kept: docs/studies): each beat's global QRS onset and offset from the
probabilities averaged over the live leads (their argmax track's QRS runs, made into global waves the way the
global-row model's are) instead of the 15th/85th percentile of the leads' own onsets and offsets. The paced-onset rule
is judged the same way by ``bench/delineation_pacing.py nested``. ``paced_global`` (the ninth try, rule in
``bench/delineation_pacing.py``): a beat's global QRS onset put 5 ms after a pacing pulse near it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIDS = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")
CSE = {"p_on": 10.2, "p_off": 12.7, "qrs_on": 6.5, "qrs_off": 11.6, "t_off": 30.6}
WEIGHTS = str(ROOT / "weights" / "delineation_unet.pt")
#: how the ten pair models were trained (``--folds a --also-leave-out b --run-dir runs/nested/pab`` each)
PAIR_RECIPE = "train delineation --folds a --also-leave-out b --epochs 100 --patience 20 --threads 1 --seed 0"


def pair_models(run_root: Path) -> dict[tuple[int, int], object]:
    """The pair models {a, b} (a < b) kept by ``train delineation --folds a --also-leave-out b --run-dir
    run_root/pab``."""
    import torch

    from ecg_core.train.delineation import _build, _spec_from_dict

    out = {}
    for a in range(5):
        for b in range(a + 1, 5):
            d = run_root / f"p{a}{b}" / f"fold{a}"
            rep = json.loads((d / "report.json").read_text())
            if rep.get("also_left_out") != [b]:
                raise ValueError(f"{d} was not trained with fold {b} left out")
            model = _build(_spec_from_dict(rep["spec"]))
            model.load_state_dict(torch.load(d / "model.pt", weights_only=True))
            out[(a, b)] = model.eval()
    return out


def nested_errors(run_root: Path, weights: str = WEIGHTS) -> dict[int, dict]:
    """Outer fold k -> ``errors_by_record`` of its 160 records of the other folds, each delineated by the pair model
    that saw neither (with whatever patch of the delineator is in force)."""
    from delineation_inner_val import swapped_members

    from ecg_core.data.ludb import ludb_folds
    from ecg_core.evaluate import evaluate_delineation

    pairs = pair_models(run_root)
    keys = sorted(pairs)
    folds = ludb_folds()
    out = {}
    with swapped_members(weights, [pairs[p] for p in keys]):
        for k in range(len(folds)):
            member = {r: keys.index(tuple(sorted((k, j)))) for j, f in enumerate(folds) if j != k for r in f}
            out[k] = evaluate_delineation("unet", records=list(member), weights=weights, members=member,
                                          keep_errors=True)["errors_by_record"]
    return out


def held_out_read(gate_path: Path, apply, weights: str = WEIGHTS) -> tuple[dict, dict, list[int]]:
    """The held-out folds, read once: each record by its own fold model of ``weights``, as it is (``ref``) and with
    the candidate (``apply(records)`` patches the delineator for those records) in the folds whose gate in
    ``gate_path`` passed. Returns ``(res, ref, passed folds)``, both results with ``errors_by_record``."""
    from ecg_core.data.ludb import ludb_folds
    from ecg_core.evaluate import evaluate_delineation

    passed = [g["fold"] for g in json.loads(gate_path.read_text())["folds"] if g["passes"]]
    folds = ludb_folds()
    ref = evaluate_delineation("unet", weights=weights, keep_errors=True)
    apply({r for k in passed for r in folds[k]})
    return evaluate_delineation("unet", weights=weights, keep_errors=True), ref, passed


def sd(parts: list) -> float:
    e = np.concatenate([x for _, x in parts]) if parts else np.zeros(0)
    return float(e.std(ddof=1)) if len(e) > 1 else float("nan")


def gate_rows(cand: dict[int, dict], ref: dict[int, dict]) -> list[dict]:
    """Per outer fold: every global SD under the reference and the candidate, the global QRS-onset SD's paired
    difference, and whether the candidate passes (interval below zero; no global SD within CSE leaving it)."""
    from ecg_core.evaluate import paired_sd_difference

    rows = []
    for k in sorted(ref):
        g_ref, g_cand = ref[k]["global_fiducials"], cand[k]["global_fiducials"]
        sds = {f: [round(sd(g_ref[f]), 2), round(sd(g_cand[f]), 2)] for f in FIDS}
        d = paired_sd_difference(g_cand["qrs_on"], g_ref["qrs_on"])
        ci = d["sd_diff_ci95_ms"]
        left = [f for f in FIDS if f != "qrs_on" and sds[f][0] <= CSE[f] < sds[f][1]]
        rows.append({"fold": k, "records": d["n_records"], "global_sd_ms": sds, "qrs_on_sd_diff_ms": d["sd_diff_ms"],
                     "qrs_on_sd_diff_ci95_ms": ci, "left_cse": left,
                     "passes": bool(len(ci) == 2 and ci[1] < 0 and not left)})
        print(rows[-1], flush=True)
    return rows


def averaged_global_waves(d):
    """Global waves (QRS only) from ``d``'s class probabilities averaged over its live leads."""
    from ecg_core.signal.delineation import LeadWaves, waves_from_labels

    live = [i for i in range(len(d.waves)) if np.ptp(d.signal[i]) >= 1e-2]
    if d.probs is None or not live:
        return None
    labels = d.probs[:, live].mean(axis=1).argmax(axis=0)
    magnitude = np.sqrt((d.signal[live] ** 2).sum(axis=0))
    qrs = waves_from_labels(labels, magnitude, d.fs)["QRS"]
    empty = np.zeros((0, 3), dtype=np.int64)
    return LeadWaves(empty, qrs, empty)


def with_averaged(records: set[str] | None = None) -> None:
    """Make the learned delineator give averaged global waves (for this script's run only; only on ``records`` when
    given)."""
    from dataclasses import replace

    import ecg_core.signal.delineation as dl

    plain = dl._delineate_unet

    def patched(record, weights, model=None):
        d = plain(record, weights, model)
        if records is not None and record.name not in records:
            return d
        return replace(d, global_waves=averaged_global_waves(d))

    dl._delineate_unet = patched


def with_paced_global(records: set[str] | None = None) -> None:
    """The ninth try (``bench/delineation_pacing.py``): a beat's global QRS onset put after a pacing pulse near it."""
    from delineation_pacing import with_paced_global as patch

    patch(records)


CANDIDATES = {"averaged": with_averaged, "paced_global": with_paced_global}
OUT = ROOT / "bench" / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("gate", "held-out"))
    ap.add_argument("candidate", choices=tuple(CANDIDATES))
    ap.add_argument("--pairs", default=str(ROOT / "runs" / "nested"))
    ap.add_argument("--weights", default=WEIGHTS)
    args = ap.parse_args()
    gate_path = OUT / f"delineation_nested_{args.candidate}.json"
    if args.what == "gate":
        ref = nested_errors(Path(args.pairs), args.weights)
        CANDIDATES[args.candidate]()
        rows = gate_rows(nested_errors(Path(args.pairs), args.weights), ref)
        gate_path.write_text(json.dumps({"candidate": args.candidate, "pair_models": PAIR_RECIPE, "folds": rows},
                                        indent=1) + "\n")
        return
    from delineation_inner_val import diff_text

    from ecg_core.evaluate import paired_sd_difference

    res, ref, passed = held_out_read(gate_path, CANDIDATES[args.candidate], args.weights)
    diff = {f: diff_text(paired_sd_difference(res["errors_by_record"]["global_fiducials"][f],
                                              ref["errors_by_record"]["global_fiducials"][f])) for f in FIDS}
    del res["errors_by_record"]
    res["nested_candidate"] = {"name": args.candidate, "in_folds": passed, "global_sd_minus_shipped": diff}
    (OUT / f"delineation_ludb_unet_{args.candidate}.json").write_text(json.dumps(res, indent=1) + "\n")
    g = res["global_fiducials"]
    print("candidate in folds", passed)
    print("global", {k: f"{g[k]['mean_ms']:+.1f} ± {g[k]['sd_ms']:.1f} {g[k]['sd_ci95_ms']}" for k in g})
    print("global SD minus the shipped rule:", diff)


if __name__ == "__main__":
    main()
