"""The workflow passes `snakemake --lint` and `snakefmt --check`."""

import subprocess
import sys
from pathlib import Path

from conftest import run_snakemake

ROOT = Path(__file__).resolve().parents[1]


def test_snakemake_lint_is_clean(project):
    proc = run_snakemake(project, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).parent / "snakefmt"
    proc = subprocess.run([str(snakefmt), "--check", "workflow", "Snakefile"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
