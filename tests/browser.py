"""Headless Chromium (Debian's /usr/bin/chromium) for looking at the HTML report as a reader does."""

import shutil
import subprocess
import tempfile

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium():
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's package)")
    return path


def run_chromium(url, *args, timeout=120):
    """Run headless Chromium on `url` with a fresh profile (removed afterwards); returns stdout."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args, url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def rendered_dom(path):
    """The report's DOM after its scripts ran (what the reader's browser shows)."""
    return run_chromium(path.resolve().as_uri(), "--dump-dom")


def screenshot(path, png, width=1600, height=1400):
    run_chromium(path.resolve().as_uri(), f"--screenshot={png}", f"--window-size={width},{height}")
