"""What the timing benchmarks share: the median of repeated runs, and their command-line options."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def median_time(fn, repeats: int) -> float:
    """Median wall time (s) of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def record_options(doc: str, default_json: Path) -> argparse.ArgumentParser:
    """``--records`` (LUDB names), ``--repeats`` and ``--json`` (where the result goes)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--records", nargs="+", default=["1", "50", "100"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=str(default_json))
    return ap
