"""Measured QRS axis (learned delineator, whole 10 s) against LUDB's cardiologists' axis labels: why the
12-lead model's "axis deviation" and the AHA limits the Diagnosis page applies disagree.

    ECG_DATA_DIR=... python bench/ludb_axis.py   # about 2 minutes; prints a Markdown table
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ecg_core.data.ludb import load_ludb
from ecg_core.io.records import data_dir
from ecg_core.pipeline import delineate


def main() -> None:
    warnings.simplefilter("ignore")
    table = pd.read_csv(data_dir() / "ludb" / "ludb.csv")
    rows = []
    for _, r in table.iterrows():
        rec, _ = load_ludb(str(r.ID))
        axis = delineate(rec, method="unet").measure().qrs_axis
        label = str(r["Electric axis of the heart"]).split(":")[-1].strip()
        rows.append((label if label != "nan" else "(none given)", np.nan if axis is None else axis))
    df = pd.DataFrame(rows, columns=["label", "axis"])
    print("| LUDB label | records | measured QRS axis: median (IQR) | within -30° to +90° |")
    print("|---|---:|---|---:|")
    for label, g in df.groupby("label"):
        a = g["axis"].dropna()
        q1, med, q3 = np.percentile(a, [25, 50, 75])
        inside = ((a >= -30) & (a <= 90)).mean()
        print(f"| {label} | {len(g)} | {med:+.0f}° ({q1:+.0f}° to {q3:+.0f}°) | {100 * inside:.0f} % |")


if __name__ == "__main__":
    main()
