"""A test-time sign check for the learned delineator, tried for the "every lead inverted" robustness row and not
kept (docs/results.md, Delineation, Robustness). Reproduces its figures:

    ECG_DATA_DIR=/path/to/data python bench/delineation_sign_check.py

The idea: the U-Net finds QRS complexes in an upside-down record (QRS F1 0.984 there) but not its P waves (F1 0.56).
A normal 12-lead ECG's QRS has a net positive deflection in I, II, aVF, V5 and V6 and a negative one in aVR;
dextrocardia or reversed arm electrodes flip at most four of the six, a reversed sign all six. So: after the U-Net's
pass, if at least four of these leads show QRS complexes and all but one at most point the wrong way, delineate
again with the sign reversed. The rule, set before it ran, on each fold model's own training records (fit records:
its training folds less the inner-validation ones; signals only, no marks): no clean record flagged, and at least
95 % of their sign-reversed copies. Neither held: 2-4 clean records a fold were flagged, all of them paced (a paced
QRS points "the wrong way" in those leads), and 85-89 % of the reversed copies. Held-out folds not read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: the sign of a normal 12-lead ECG's net QRS deflection in these leads
QRS_SIGN = {"I": 1, "II": 1, "aVF": 1, "V5": 1, "V6": 1, "aVR": -1}


def upside_down(lead_names, waves, sig: np.ndarray) -> bool:
    """Whether a delineated record looks sign-reversed: of the leads in QRS_SIGN that show QRS complexes (at
    least four needed), all but one at most have their QRS's net deflection (majority over beats) the wrong way."""
    score, n = 0, 0
    for i, name in enumerate(lead_names):
        want = QRS_SIGN.get(str(name).strip())
        q = waves[i].QRS
        if want is None or not len(q):
            continue
        net = [np.sign(np.sum(sig[i, a:b + 1] - sig[i, a])) for a, _, b in q if a >= 0 and b > a]
        if not net:
            continue
        n += 1
        score += want * (1 if np.sum(net) > 0 else -1)
    return n >= 4 and score <= -(n - 2)


def main() -> None:
    from ecg_core.data.ludb import load_ludb, ludb_diagnoses, ludb_fold_split, ludb_folds
    from ecg_core.signal.delineation import _delineate_unet, _learned_model

    members = _learned_model(None)[0].members
    _, _, meta = ludb_diagnoses()
    folds, rows = ludb_folds(), []
    for k in range(len(folds)):
        fit = ludb_fold_split(k)[0]
        clean_flagged, reversed_flagged = [], 0
        for r in fit:
            rec, _ = load_ludb(r)
            for sign in (1, -1):
                x = rec.replace(signal=sign * rec.signal)
                d = _delineate_unet(x, None, members[k])
                if upside_down(x.lead_names, d.waves, d.signal):
                    if sign == 1:
                        clean_flagged.append(r)
                    else:
                        reversed_flagged += 1
        rows.append({"fold": k, "fit_records": len(fit), "clean_flagged": clean_flagged,
                     "clean_flagged_paced": [r for r in clean_flagged if meta[r]["paced"]],
                     "reversed_flagged": reversed_flagged})
        print(rows[-1], flush=True)
    out = ROOT / "bench" / "results" / "delineation_sign_check.json"
    out.write_text(json.dumps({"rule": "no clean fit record flagged; >= 95 % of reversed copies", "folds": rows},
                              indent=1) + "\n")


if __name__ == "__main__":
    main()
