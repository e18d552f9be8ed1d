"""Shared fixtures: a private copy of the project to run Snakemake in, and a runner."""

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from latentfacts.schemas import table_files, violations

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


# The test being run, so that run_snakemake can hold it to its marker.
RUNNING = {}


@pytest.fixture(autouse=True)
def running_test(request):
    RUNNING["test"] = request.node
    yield
    RUNNING.clear()


def run_snakemake(workdir, *args, check=True, timeout=1500):
    """Run Snakemake (this interpreter's) in `workdir`; returns the CompletedProcess. Only a test marked
    `workflow` (or `slurm`) may: `pytest -m "not workflow"` is the fast run without Snakemake."""
    test = RUNNING.get("test")
    if test is not None and not any(test.get_closest_marker(name) for name in ("workflow", "slurm")):
        raise AssertionError(f"{test.nodeid} runs Snakemake but is not marked @pytest.mark.workflow")
    cmd = [sys.executable, "-m", "snakemake", "--profile", "profiles/local", *args]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


# The embedded study shrunk for workflow tests (few facts, a small base model, two epochs); a test
# passes it with --configfile, after config/config.yaml, and may add a file of its own after it.
SMALL_STUDY = """
ontologies:
  HPO: {train: 40}
  GO: {train: 20, withheld: 20}
pairs: {bins: 4}
embedded_model:
  corpus: {background_terms: 40}
  tokenizer_vocab_size: 600
  hidden_size: 64
  intermediate_size: 128
  steps: 150
  batch_size: 16
finetune: {epochs: 2, batch_size: 8, replicates: [0]}  # one seed: the analysis tests pool several
baseline: {samples: 5}
evaluate: {crosscheck_facts: 8}
analysis: {stable_k: 2}
"""


def small_study_args(project, extra=""):
    """--configfile arguments for the shrunken study, plus `extra` YAML merged over it."""
    (project / "small.yaml").write_text(SMALL_STUDY)
    (project / "extra.yaml").write_text(extra or "{}\n")
    return ["--configfile", "small.yaml", "extra.yaml"]


@pytest.fixture
def project(tmp_path):
    """A fresh copy of the project for one test."""
    return copy_project(tmp_path / "project")



def table_violations(project, names):
    """({file: how it departs from its schema}, number of files checked) for every file of the tables
    `names` (workflow/schemas/tables/) under `project`."""
    found, checked = {}, 0
    for name in names:
        for path in sorted(Path(project).glob(table_files(name))):
            table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            checked += 1
            if problems := violations(table, name):
                found[str(path.relative_to(project))] = problems
    return found, checked
