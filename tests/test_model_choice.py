"""The switch between the embedded model and the user's own: `embedded` is pretrained by the workflow,
any other name is only read (a hub name plans no pretraining; a local directory is loaded, never
written); old keys and impossible names fail at DAG build; numbers given with --config are numbers."""

import hashlib
import shutil

import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_snakemake, small_study_args
from test_cluster_config import dry_run_jobs
from tiny_lm import tiny_lm_dir

from latentfacts.configcheck import typed_values

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def fingerprint(directory):
    """{file name: (sha256, mtime)} of every file under `directory`."""
    return {
        str(path.relative_to(directory)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.mark.workflow
def test_a_hub_name_plans_no_pretraining_and_no_model_directory(project):
    (project / "qwen.yaml").write_text("model: {name_or_path: Qwen/Qwen2.5-0.5B-Instruct}\n")
    jobs = dry_run_jobs(project, "--profile", "profiles/local", "--configfile", "qwen.yaml")
    assert "pretrain_base" not in jobs and jobs["baseline"] == 1 and "finetune_main" in jobs and "evaluate_main" in jobs
    assert not (project / "Qwen").exists()
    # the README's example for one's own model plans the same jobs
    example = dry_run_jobs(project, "--profile", "profiles/local", "--configfile", "config/own-model.yaml")
    assert example == jobs
    embedded = dry_run_jobs(project, "--profile", "profiles/local")
    assert embedded["pretrain_base"] == 1


@pytest.mark.workflow
def test_a_local_model_directory_is_read_and_never_written(project, tmp_path):
    own = tmp_path / "my-model"
    shutil.copytree(tiny_lm_dir(), own)
    before = fingerprint(own)
    extra = f"model: {{name_or_path: {own}}}\n"
    run_snakemake(project, "results/models/default/baseline.parquet", *small_study_args(project, extra))
    log = (project / "results/models/default/logs/baseline.log").read_text()
    assert "knowledge classes" in log
    assert fingerprint(own) == before
    assert not (project / "results/models/default/base_model").exists()
    # the corpus is newer than the model now; still nothing would pretrain or rewrite it
    run_snakemake(project, "results/corpus/corpus.txt", *small_study_args(project, extra))
    jobs = dry_run_jobs(project, "--profile", "profiles/local", "--configfile", "small.yaml", "extra.yaml")
    assert "pretrain_base" not in jobs and "baseline" not in jobs
    baseline = pd.read_parquet(project / "results/models/default/baseline.parquet")
    assert len(baseline) == len(pd.read_parquet(project / "results/data/pairs.parquet"))


@pytest.mark.workflow
def test_the_old_pretrain_key_and_impossible_model_names_fail_at_dag_build(project):
    (project / "old.yaml").write_text("model: {name_or_path: results/models/default/base_model, pretrain: {steps: 10}}\n")
    failed = run_snakemake(project, "-n", "--configfile", "old.yaml", check=False)
    assert failed.returncode != 0
    assert "config key model.pretrain: remove it" in failed.stdout + failed.stderr
    (project / "typo.yaml").write_text("model: {name_or_path: ./models/my-llama}\n")
    failed = run_snakemake(project, "-n", "--configfile", "typo.yaml", check=False)
    assert failed.returncode != 0
    assert "config key model.name_or_path: './models/my-llama' is no local directory" in failed.stdout + failed.stderr
    assert not (project / "results").exists()


@pytest.mark.workflow
def test_numbers_given_on_the_command_line_are_numbers(project):
    typed = typed_values({"finetune": {"epochs": "3", "learning_rate": "1e-4"}, "seed": 2}, SCHEMA, SCHEMA)
    assert typed == {"finetune": {"epochs": 3, "learning_rate": 1e-4}, "seed": 2}
    # strings stay strings where the schema takes strings, even when they read as numbers
    assert typed_values({"prompts": {"system_message": "42"}}, SCHEMA, SCHEMA) == {"prompts": {"system_message": "42"}}
    jobs = dry_run_jobs(project, "--profile", "profiles/local", "--config", 'finetune={"epochs": 3}', "baseline={samples: 7}")
    assert "finetune_main" in jobs
    wrong = run_snakemake(project, "-n", "--config", 'finetune={"epochs": "three"}', check=False)
    assert "'three' is not of type 'integer'" in wrong.stdout + wrong.stderr
