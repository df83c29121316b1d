"""Load: N concurrent browser sessions each upload a record and wait for its full read on the Signal page.

Starts the app (Streamlit on 127.0.0.1, a free port), then for each N opens N tabs at once in one system
Chromium (Playwright, never a downloaded browser), each tab its own Streamlit session. Each session
uploads the same 30-minute two-lead MIT-BIH record (a WFDB zip of record 100; the demo record as a CSV
without ECG_DATA_DIR) and waits until the read is on screen (the record's caption, heart rate, the
paper plot). Reports per N: sessions that succeeded, p50/p95 seconds from upload to result, the
server's peak resident memory, and the CPU seconds the server and the Chromium processes used (sampled
from /proc every 0.2 s: here the browsers share the machine's cores with the server). Bounded: N <= 20,
300 s a session.

Target of the reliability issue: 10 concurrent sessions all succeed with p95 under 3x the single-
session time. Caches hold models across sessions (loaded once); results of users' records are cached
per session (app_pages/_common.record_key is salted per session), so every session does its own read.

    ECG_DATA_DIR=/path/to/data python bench/load.py [--n 1 5 10] [--json bench/results/load.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests._serve import CHROMIUM, CHROMIUM_ARGS, serve_app, stop_app  # noqa: E402

MAX_SESSIONS, SESSION_TIMEOUT_S = 20, 300


def _stat_cpu_s(stat_text: str) -> float:
    """User + system CPU seconds from a /proc/PID/stat line (fields 14 and 15; the name may hold spaces)."""
    fields = stat_text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """CPU seconds a live process has used (Linux /proc)."""
    return _stat_cpu_s(Path(f"/proc/{pid}/stat").read_text())


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB (Linux /proc)."""
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            stack += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def _browser_cpu() -> dict[int, float]:
    """CPU seconds of every live Chromium process (Linux /proc), by pid."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if "(chrom" in text:
                out[int(stat.parent.name)] = _stat_cpu_s(text)
        except (OSError, ValueError, IndexError):
            continue
    return out


class _Sampler:
    """Every 0.2 s: the server's resident memory (peak kept) and the CPU seconds of each Chromium process
    (the last value seen per process: a process that ends between two samples loses at most 0.2 s)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self.browser_start = _browser_cpu()  # processes that live across rounds count only their new seconds
        self.browser: dict[int, float] = dict(self.browser_start)
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            self.browser.update(_browser_cpu())
            time.sleep(0.2)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _upload_file(folder: Path) -> tuple[Path, str]:
    """The file each session uploads and the record name the page will show."""
    root = os.environ.get("ECG_DATA_DIR")
    if root and (Path(root) / "mitdb" / "100.hea").exists():
        from ecg_core.io import load_record, wfdb_zip_bytes

        rec = load_record(Path(root) / "mitdb" / "100.hea").replace(name="load100")
        path = folder / "load100.zip"
        path.write_bytes(wfdb_zip_bytes(rec))
        return path, "load100"
    import numpy as np

    from ecg_core.data import demo_record

    rec = demo_record(duration_s=120.0, fs=250.0)
    t = np.arange(rec.n_samples) / rec.fs
    lines = ["time,II,V1"] + [f"{a:.4f},{b:.4f},{c:.4f}" for a, b, c in zip(t, rec.signal[1], rec.signal[6])]
    path = folder / "loaddemo.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, "loaddemo"


async def _session(ctx, url: str, upload: Path, name: str) -> float:
    page = await ctx.new_page()
    try:
        page.set_default_timeout(SESSION_TIMEOUT_S * 1000)
        await page.goto(f"{url}/signal")
        await page.get_by_text("Current record: demo").wait_for()
        await page.get_by_text("Heart rate").first.wait_for()
        t0 = time.perf_counter()
        await page.locator("input[type=file]").first.set_input_files(str(upload))
        await page.get_by_text(f"Record {name} (upload)").wait_for()
        await page.get_by_text(f"Current record: {name}").wait_for()
        await page.locator(".js-plotly-plot").first.wait_for()
        elapsed = time.perf_counter() - t0
        if "Traceback" in await page.locator("body").inner_text():
            raise RuntimeError("traceback on the page")
        return elapsed
    finally:
        await page.close()


async def _bench(url: str, ns: list[int], upload: Path, name: str, pid: int) -> list[dict]:
    """One browser for the whole bench, one tab per user: each tab is its own Streamlit session (its own
    connection); the tabs share the browser's cache as returning users' browsers hold the app's scripts.
    A first session, not measured, warms the cache and the server (imports, models)."""
    from playwright.async_api import async_playwright

    rows = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS,
                  # every session's page is "in front": no timer throttling of pages a user would not see
                  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"])
        try:
            ctx = await browser.new_context(viewport={"width": 1300, "height": 1000})
            await _session(ctx, url, upload, name)
            for n in ns:
                with _Sampler(pid) as mem:
                    t0, server0 = time.perf_counter(), _cpu_s(pid)
                    tasks = [asyncio.wait_for(_session(ctx, url, upload, name), SESSION_TIMEOUT_S) for _ in range(n)]
                    res = await asyncio.gather(*tasks, return_exceptions=True)
                    wall = time.perf_counter() - t0
                    server_cpu = _cpu_s(pid) - server0
                # the browser runs on the same cores as the server: CPU seconds say where the time went
                client_cpu = sum(mem.browser.values()) - sum(mem.browser_start.values())
                ok = [r for r in res if isinstance(r, float)]
                errors = [f"{type(r).__name__}: {str(r)[:200]}" for r in res if not isinstance(r, float)]
                row = {"sessions": n, "succeeded": len(ok), "p50_s": round(statistics.median(ok), 2) if ok else None,
                       "p95_s": round(_p(ok, 0.95), 2) if ok else None, "max_s": round(max(ok), 2) if ok else None,
                       "wall_s": round(wall, 1), "server_cpu_s": round(server_cpu, 1),
                       "browser_cpu_s": round(client_cpu, 1), "server_peak_rss_mb": round(mem.peak),
                       "errors": errors[:3]}
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            await browser.close()
    return rows


def _p(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1, 5, 10])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if any(n < 1 or n > MAX_SESSIONS for n in args.n):
        raise SystemExit(f"sessions per round: 1 to {MAX_SESSIONS}")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    proc, url = serve_app()
    try:
        with tempfile.TemporaryDirectory(prefix="ecg_load_") as tmp:
            upload, name = _upload_file(Path(tmp))
            rows = asyncio.run(_bench(url, args.n, upload, name, proc.pid))
    finally:
        stop_app(proc)
    single = next((r["p50_s"] for r in rows if r["sessions"] == 1), None)
    for r in rows:
        r["p95_over_single"] = round(r["p95_s"] / single, 2) if single and r["p95_s"] else None
    out = {"upload": name, "cpu_count": os.cpu_count(), "rows": rows}
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
