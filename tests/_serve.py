"""The app served for a browser: Streamlit on 127.0.0.1 at a free port (shared by bench/load.py and the
browser tests), and the system Chromium's launch options (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(env: dict | None = None, timeout_s: float = 90.0) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` (headless, 127.0.0.1 only); return the process and its URL once
    its health check answers. Raises RuntimeError with the server's last output when it does not."""
    port = free_port()
    log = tempfile.TemporaryFile()  # not a pipe: a pipe nobody reads would stall a chatty server
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1", **(env or {})), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    log.seek(0)
    raise RuntimeError("streamlit did not start: " + log.read().decode(errors="replace")[-2000:])


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
