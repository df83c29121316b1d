"""Which RR features carry beat classes across patients? A DS1-only check with small models.

Logistic regression (class-balanced) and gradient boosting (class-weighted) on log RR features plus two
numbers comparing each beat with the record's template (correlation, mean absolute difference), scored
on the four fixed patient-wise DS1 folds (train on three, predict the fourth; pooled). DS2 is not read.
This chose the RR features of the template network's `--rr` runs in docs/results.md.

    ECG_DATA_DIR=/path/to/data python bench/beat_rr_features.py [--json bench/results/beat_rr_features.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = {
    "default (shipped diagnostic)": ["pre_rr_s", "post_rr_s", "local_rr_s", "record_rr_s", "pre_local", "post_local",
                                     "pre_record", "post_record", "post_pre"],
    "no seconds, no record median": ["pre_local", "post_local", "post_pre"],
    "ratios to local and 5-min means": ["pre_local", "post_local", "pre_avg", "post_avg", "post_pre"],
    "ratios to means + 5-min seconds": ["pre_local", "post_local", "pre_avg", "post_avg", "post_pre", "avg_rr_s"],
    "ratios to means + record median": ["pre_local", "post_local", "pre_avg", "post_avg", "post_pre", "pre_record",
                                        "post_record"],
}


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix, f1_score

    from ecg_core.data.beats import DS1, DS1_FOLDS, mitdb_beats, rr_feature_names

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    names = list(rr_feature_names("diagnostic"))
    b = mitdb_beats(DS1, "diagnostic")
    b = b.subset(b.y >= 0)
    y = np.where(b.y > 3, 0, b.y)  # the 5 Q beats of DS1 counted as N here
    morph = np.stack([(b.x[:, 0] * b.template[:, 0]).mean(-1), np.abs(b.x[:, 0] - b.template[:, 0]).mean(-1)], 1)
    rows = []
    for set_name, cols in SETS.items():
        X = np.column_stack([np.log(np.maximum(b.rr[:, names.index(c)], 1e-3)) for c in cols] + [morph])
        for model in ("logistic", "boosting"):
            pred = np.zeros(len(y), int)
            for fold in DS1_FOLDS:
                va = np.isin(b.record, fold)
                if model == "logistic":
                    clf = LogisticRegression(class_weight="balanced", max_iter=2000).fit(X[~va], y[~va])
                else:
                    w = len(y[~va]) / (4 * np.bincount(y[~va], minlength=4))
                    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                         random_state=0).fit(X[~va], y[~va], sample_weight=w[y[~va]])
                pred[va] = clf.predict(X[va])
            f1 = f1_score(y, pred, average=None, labels=[0, 1, 2, 3])
            cm = confusion_matrix(y, pred, labels=[0, 1, 2, 3])
            row = {"features": set_name, "model": model, **{f"{c}_f1": round(float(v), 3) for c, v in zip("NSVF", f1)},
                   "S_se": round(cm[1, 1] / cm[1].sum(), 3), "S_ppv": round(cm[1, 1] / max(cm[:, 1].sum(), 1), 3),
                   "macro_f1": round(float(f1.mean()), 3)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"split": "DS1, 4 patient-wise folds", "sets": SETS, "rows": rows},
                                        indent=1) + "\n")


if __name__ == "__main__":
    main()
