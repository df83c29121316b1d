"""Markdown table of beat-model results from the JSON files ``evaluate beats`` wrote (docs/results.md's table).

    python bench/beats_table.py bench/results/beat_*_ds2.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> None:
    print("| weights | model | mode | N F1 | S F1 (Se / +P) | V F1 (Se / +P) | F F1 | macro-F1 N/S/V/F | accuracy | "
          "DS1 CV macro-F1 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    commands = []
    for p in paths:
        r = json.loads(Path(p).read_text())
        card_path = (ROOT / r["weights"]).with_suffix(".json")  # where it was evaluated, else weights/ or runs/
        if not card_path.exists():
            card_path = ROOT / "weights" / Path(r["weights"]).with_suffix(".json").name
        if not card_path.exists():
            card_path = ROOT / "runs" / Path(r["weights"]).with_suffix(".json").name
        card = json.loads(card_path.read_text()) if card_path.exists() else {}
        cv = card.get("cv_ds1", {}).get("cv_pooled", {}).get("macro_f1_nsvf", float("nan"))
        s, v = r["S"], r["V"]
        weights = card_path.with_suffix(".pt").relative_to(ROOT)
        commands.append(f"* `{weights}`: `{card.get('command', '')}`, then "
                        f"`python -m ecg_core evaluate beats --weights {weights} --split DS2 --json {p}`")
        print(f"| `{weights.name}` | {card.get('architecture', '')} | {r['mode']} | {r['N']['f1']:.3f} | "
              f"{s['f1']:.3f} ({s['se']:.3f} / {s['ppv']:.3f}) | {v['f1']:.3f} ({v['se']:.3f} / {v['ppv']:.3f}) | "
              f"{r['F']['f1']:.3f} | {r['macro_f1_nsvf']:.3f} | {r['accuracy']:.4f} | {cv:.3f} |")
    print("\nCommands:\n")
    print("\n".join(commands))


if __name__ == "__main__":
    main(sys.argv[1:])
