"""The 12-lead diagnosis table: LUDB 5-fold cross-validation of the multimodal model, fused against
single modalities, from the reports that `python -m ecg_core train multimodal --json ...` wrote.

    python bench/multimodal_table.py   # reads bench/results/multimodal_ludb_*.json, prints Markdown
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"signal": "signal", "signal_meta": "signal + metadata", "image": "image (rendered paper)",
            "fused": "signal + image + metadata (shipped)"}


def main() -> None:
    rows = []
    for key, label in VARIANTS.items():
        path = ROOT / "bench" / "results" / f"multimodal_ludb_{key}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        per = " / ".join(f"{v['auc']:.2f}" for v in r["per_class"].values())
        rows.append(f"| {label} | {r['macro_auc']:.3f} | {per} | {r['ece_before']:.3f} → {r['ece_after']:.3f} | "
                    f"{r['accuracy_all']:.3f} / {r['accuracy_80pct_most_certain']:.3f} |")
    classes = list(json.loads(next((ROOT / "bench" / "results").glob("multimodal_ludb_*.json")).read_text())
                   ["per_class"])
    print("| modalities | macro-AUC | per-class AUC (" + ", ".join(c.replace("_", " ") for c in classes) +
          ") | ECE before → after temperature scaling | label accuracy: all / 80 % most certain |")
    print("|---|---:|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
