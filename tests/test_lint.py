"""The workflow passes `snakemake --lint` and `snakefmt --check`, and every rule says what it makes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_snakemake

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.workflow
def test_snakemake_lint_is_clean(project):
    proc = run_snakemake(project, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).parent / "snakefmt"
    proc = subprocess.run([str(snakefmt), "--check", "workflow", "Snakefile"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_rule_has_a_one_line_docstring():
    sources = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    rules = 0
    for source in sources:
        lines = source.read_text().splitlines()
        for number, line in enumerate(lines):
            if re.fullmatch(r"\s*rule( \w+)?:", line):
                rules += 1
                assert re.fullmatch(r'\s*""".+"""', lines[number + 1]), f"{source.name}:{number + 1}: {line.strip()}"
    assert rules > 20
