"""Delineation models compared on the fold models' inner-validation records, never the held-out folds: each
fold model k on the 20 records it was early-stopped on (every 8th record of its training folds), scored like
``evaluate delineation`` (per-lead and global fiducial errors pooled over the five, wave F1 the mean of the
five). The figures behind choosing the shipped delineator (docs/studies/delineation-tries.md).

    ECG_DATA_DIR=/path/to/data python bench/delineation_inner_val.py runs/a.pt [runs/b.pt ...]
        [--shifts 0 1]       test-time shifts of the input (samples), probabilities averaged
        [--average OTHER.pt] each fold model averaged with OTHER's model of the same fold
        [--against REF.pt]   each SD's difference from REF's on the same records, with a 95 % interval from
                             resampling records for both at once (``paired_sd_difference``): whether a
                             change is larger than these few records can show

Writes ``bench/results/delineation_inner_val.json`` (one entry per checkpoint and option).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecg_core.data.ludb import ludb_fold_split, ludb_folds  # noqa: E402
from ecg_core.evaluate import evaluate_delineation, paired_sd_difference  # noqa: E402
from ecg_core.models.ensemble import MeanEnsemble  # noqa: E402
from ecg_core.signal.delineation import _learned_model  # noqa: E402

FIDS = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")


class Shifted(MeanEnsemble):
    """One model's probabilities averaged over the input delayed by each of ``shifts`` samples."""

    def __init__(self, model: torch.nn.Module, shifts: list[int]):
        super().__init__([model])
        self.shifts = shifts

    def forward(self, batch):
        x, acc = batch["x"], 0
        for s in self.shifts:
            xs = torch.nn.functional.pad(x, (s, 0))
            acc = acc + self.members[0]({"x": xs}).softmax(1)[..., s:]
        return (acc / len(self.shifts)).clamp_min(1e-8).log()


def pooled(parts: list[dict]) -> str:
    n = np.array([p["n"] for p in parts])
    m = np.array([p["mean_ms"] for p in parts])
    s = np.array([p["sd_ms"] for p in parts])
    mean = (n * m).sum() / n.sum()
    sd = np.sqrt((n * (s ** 2 + m ** 2)).sum() / n.sum() - mean ** 2)
    return f"{mean:+.1f} ± {sd:.2f}"


def _shown(path: str) -> str:
    """``path`` as the JSON keeps it: relative to the repository when inside it (no machine's paths there)."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else Path(path).name


@contextmanager
def swapped_members(weights: str, models: list):
    """``evaluate_delineation(..., weights=weights, members={record: i})`` delineates with ``models[i]`` inside this
    block: it takes its models from the cached ensemble of ``weights``, whose members are swapped for the block."""
    ens = _learned_model(weights)[0]
    original = list(ens.members)
    ens.members = torch.nn.ModuleList(models)
    try:
        yield
    finally:
        ens.members = torch.nn.ModuleList(original)


def diff_text(d: dict) -> str:
    """A :func:`paired_sd_difference` result as the JSONs keep it: ``+0.12 [-0.05, +0.30]``."""
    return f"{d['sd_diff_ms']:+.2f} [{d['sd_diff_ci95_ms'][0]:+.2f}, {d['sd_diff_ci95_ms'][1]:+.2f}]"


def score(weights: str, shifts: list[int] | None, average: str | None) -> dict:
    members = list(_learned_model(weights)[0].members)
    if average:
        members = [MeanEnsemble([a, b]) for a, b in zip(members, _learned_model(average)[0].members)]
    if shifts:
        members = [Shifted(m, shifts) for m in members]
    res = []
    with swapped_members(weights, members):
        for k in range(len(ludb_folds())):
            inner = ludb_fold_split(k)[1]
            res.append(evaluate_delineation("unet", records=inner, weights=weights, members={r: k for r in inner},
                                            keep_errors=True))
    # every error by record name, over the five fold models (a record in two inner sets counts as one record)
    errors = {part: {f: [x for r in res for x in r["errors_by_record"][part][f]] for f in FIDS}
              for part in ("fiducials", "global_fiducials")}
    return {"weights": _shown(weights), "shifts": shifts, "average": average,
            "f1": {w: round(float(np.mean([r["waves"][w]["f1"] for r in res])), 4) for w in ("P", "QRS", "T")},
            "per_lead": {f: pooled([r["fiducials"][f] for r in res]) for f in FIDS},
            "global": {f: pooled([r["global_fiducials"][f] for r in res]) for f in FIDS}, "_errors": errors}


def paired(row: dict, ref: dict) -> dict:
    """``row``'s SDs minus ``ref``'s, per fiducial, with paired 95 % intervals over the same records."""
    out = {}
    for key, part in (("per_lead", "fiducials"), ("global", "global_fiducials")):
        out[key] = {}
        for f in FIDS:
            out[key][f] = diff_text(paired_sd_difference(row["_errors"][part][f], ref["_errors"][part][f]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--shifts", type=int, nargs="*")
    ap.add_argument("--average")
    ap.add_argument("--against", help="a checkpoint to compare each SD with, record by record")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "delineation_inner_val.json"))
    args = ap.parse_args()
    path = Path(args.json)
    out = json.loads(path.read_text()) if path.exists() else {}
    ref = score(args.against, None, None) if args.against else None
    for w in args.weights:
        row = score(w, args.shifts, args.average)
        key = Path(w).name + (f" shifts {args.shifts}" if args.shifts else "") + (
            f" + {Path(args.average).name}" if args.average else "")
        if ref is not None:
            row["sd_minus"] = {"against": _shown(args.against), **paired(row, ref)}
        del row["_errors"]
        out[key] = row
        shown = ("f1", "per_lead", "global") + (("sd_minus",) if ref is not None else ())
        print(key, json.dumps({k: row[k] for k in shown}, ensure_ascii=False), flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
