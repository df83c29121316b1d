"""Time of the whole read of one 10 s 12-lead record (``ecg_core.pipeline.read``: learned delineation,
measurements, beat classes, pacing pulses, learned statements, statements) on this machine, against
NeuroKit2's ``ecg_process`` on lead II of the same record measured in the same run (a peer that delineates
one lead and states nothing),
and the wall time of the command a user types (``python -m ecg_core read``, a fresh process that loads its
models). Target of the interpretation issue: the read in under 2 s.

    ECG_DATA_DIR=/path/to/data python bench/read_speed.py [--records 1 50 100] [--repeats 5]

Writes ``bench/results/read_speed.json`` (median seconds per record, then the median over records).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._timing import median_time, record_options  # noqa: E402


def main() -> None:
    args = record_options(__doc__, ROOT / "bench" / "results" / "read_speed.json").parse_args()
    import neurokit2 as nk
    import torch

    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    from ecg_core.data.ludb import load_ludb
    from ecg_core.io.records import record_path
    from ecg_core.pipeline import read
    from ecg_core.predict.beats import load_beat_model
    from ecg_core.predict.delineation import load_delineation
    from ecg_core.predict.diagnosis import load_multimodal, statement_weights

    delineator = load_delineation()[0]
    beats = load_beat_model("diagnostic")[:2]
    learned = load_multimodal(statement_weights())
    rows = {}
    for name in args.records:
        rec, _ = load_ludb(name, true_scale=True)
        ii = rec.signal[rec.lead_names.index("II")]
        read(rec, model=delineator, beat_model=beats, statement_model=learned)  # warm-up
        t_read = median_time(lambda r=rec: read(r, model=delineator, beat_model=beats, statement_model=learned),
                             args.repeats)
        t_nk = median_time(lambda x=ii, fs=rec.fs: nk.ecg_process(x, sampling_rate=fs), args.repeats)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ecg_core", "read", str(record_path("ludb", name))], check=True,
                       capture_output=True, cwd=ROOT)
        rows[name] = {"read_s": round(t_read, 3), "neurokit2_lead_ii_s": round(t_nk, 3),
                      "command_wall_s": round(time.perf_counter() - t0, 2)}
        print(name, rows[name], flush=True)
    med = {k: float(np.median([r[k] for r in rows.values()])) for k in next(iter(rows.values()))}
    out = {"records": args.records, "repeats": args.repeats, "threads": 2, "per_record": rows, "median": med,
           "read_over_neurokit2": med["read_s"] / med["neurokit2_lead_ii_s"], "target_s": 2.0,
           "machine": f"{platform.machine()}, 2 threads"}
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(f"median: read {med['read_s']:.2f} s (target <= 2 s), NeuroKit2 on lead II "
          f"{med['neurokit2_lead_ii_s']:.2f} s, command {med['command_wall_s']:.1f} s")


if __name__ == "__main__":
    main()
