"""How the premature-beat rule's thresholds were chosen, on DS1 only (DS2 is not read here).

A grid over the four thresholds of ``ecg_core.predict.beats.S_RULE`` (``--mode realtime``: ``S_RULE_REALTIME``,
on causal features, with the real-time model) scored by the rule's own S F1 over all
DS1 beats (in-sample), the same choice made leave-one-record-out (choose on 21 records, apply to the 22nd),
and the shipped diagnostic model's fold members on their own held-out DS1 patients, alone and with the rule
(N beats the rule calls premature become S). F1 here is over beats matched to a reference beat.

    ECG_DATA_DIR=/path/to/data python bench/beat_s_rule.py [--mode realtime] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRID = {"pre_local": (0.8, 0.85, 0.9), "pre_avg": (0.0, 0.7, 0.75, 0.8), "qrs_corr": (0.8, 0.9),
        "irregularity": (0.1, 0.15, 0.2)}


def f1(pred: np.ndarray, y: np.ndarray, c: int, sel: np.ndarray | None = None) -> float:
    """F1 of class ``c`` over the beats ``sel`` (all by default)."""
    from ecg_core.metrics import detection_prf

    sel = np.ones(len(y), bool) if sel is None else sel
    hit, true = sel & (pred == c), sel & (y == c)
    tp = int((hit & true).sum())
    return detection_prf(tp, int(hit.sum()) - tp, int(true.sum()) - tp)["f1"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", default="diagnostic", choices=["diagnostic", "realtime"])
    ap.add_argument("--weights", help="default: weights/beat_MODE.pt")
    ap.add_argument("--json", help="default: bench/results/beat_s_rule_ds1[_realtime].json")
    args = ap.parse_args()
    weights = args.weights or str(ROOT / "weights" / f"beat_{args.mode}.pt")
    out_json = args.json or str(ROOT / "bench" / "results" /
                                f"beat_s_rule_ds1{'_realtime' if args.mode == 'realtime' else ''}.json")

    from ecg_core.data.beats import DS1, mitdb_beats
    from ecg_core.predict.beats import (
        S_RULE,
        S_RULE_REALTIME,
        apply_s_rule,
        beat_tensors,
        load_beat_ensemble,
        predict_beats,
        premature_s_rule,
    )

    beats = mitdb_beats(DS1, args.mode)
    y = beats.y
    combos = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
    fired = [premature_s_rule(beats, c).astype(int) for c in combos]  # 1 = S, 0 = not
    in_sample = [f1(m, y, 1) for m in fired]
    best = int(np.argmax(in_sample))
    loro = np.zeros(len(y), int)
    chosen = []
    for name in DS1:
        out = beats.record == name
        k = int(np.argmax([f1(m, y, 1, ~out) for m in fired]))
        chosen.append(json.dumps(combos[k], sort_keys=True))
        loro[out] = fired[k][out]
    model, spec, card = load_beat_ensemble(weights)
    assert spec.mode == args.mode, f"{weights} is a {spec.mode} model"
    cv = np.full(len(y), -1)
    for k, fold in enumerate(card["cv_ds1"]["folds"]):  # each member on the patients it was stopped on
        m = np.isin(beats.record, fold["val_records"])
        cv[m] = predict_beats(model.members[k], beat_tensors(beats.subset(m), spec, with_labels=False)).argmax(1)
    ruled = apply_s_rule(beats, cv)[0]
    res = {
        "mode": args.mode,
        "shipped": S_RULE if args.mode == "diagnostic" else S_RULE_REALTIME,
        "grid": GRID,
        "best_in_sample": {**combos[best], "s_f1": in_sample[best]},
        "loro_s_f1": f1(loro, y, 1),
        "loro_s_se": float(((loro == 1) & (y == 1)).sum() / max((y == 1).sum(), 1)),
        "loro_s_ppv": float(((loro == 1) & (y == 1)).sum() / max((loro == 1).sum(), 1)),
        "loro_choices": Counter(chosen).most_common(),
        "model_cv": {c: f1(cv, y, i) for i, c in enumerate("NSVF")},
        "model_cv_with_rule": {c: f1(ruled, y, i) for i, c in enumerate("NSVF")},
    }
    for key in ("model_cv", "model_cv_with_rule"):
        res[key]["macro_nsvf"] = float(np.mean(list(res[key].values())))
    print(f"rule alone, DS1 in-sample S F1 {in_sample[best]:.3f} at {combos[best]}; leave-one-record-out "
          f"{res['loro_s_f1']:.3f}")
    print(f"fold models on their held-out patients: S F1 {res['model_cv']['S']:.3f}, macro "
          f"{res['model_cv']['macro_nsvf']:.3f}; with the rule: S F1 {res['model_cv_with_rule']['S']:.3f}, "
          f"macro {res['model_cv_with_rule']['macro_nsvf']:.3f}")
    Path(out_json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
