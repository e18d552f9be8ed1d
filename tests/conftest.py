"""Shared fixtures: a private copy of the project to run Snakemake in, and a runner."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a workflow run needs from the checkout; results/ and caches are never copied.
PROJECT_PARTS = ["Snakefile", "workflow", "config", "profiles", "resources/embedded", "envs", "requirements.lock"]


def copy_project(dest):
    """Copy the parts of the checkout a workflow run reads into `dest` (Snakemake locks its
    working directory, so every run gets its own)."""
    dest = Path(dest)
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)
    return dest


def run_snakemake(workdir, *args, check=True, timeout=1500):
    """Run Snakemake (this interpreter's) in `workdir`; returns the CompletedProcess."""
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/local", *args]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


@pytest.fixture
def project(tmp_path):
    """A fresh copy of the project for one test."""
    return copy_project(tmp_path / "project")
