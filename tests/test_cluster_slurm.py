"""The SLURM profile on a real single-node SLURM: every job goes through sbatch with the profile's
resources (GPU rules with a GPU request, two for a model whose config asks for two), and the tables
equal those of a local run.

Needs root and Debian packages (tools/slurm_ci.sh installs them); fails, with the daemons' own
messages, where SLURM cannot start. The cluster lives in a temporary directory and is gone when the
test ends (tests/slurm_cluster.py).
"""

import os
import re
import shlex
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from conftest import copy_project, run_snakemake
from slurm_cluster import CI_PARTITIONS, leftovers, running_slurm

# What the test builds (default: through the model stage, so GPU rules are submitted), and extra
# Snakemake arguments for both runs; LATENTFACTS_SLURM_TARGETS overrides the targets.
DEFAULT_TARGETS = " ".join(f"results/models/default/runs/seed0/eval/epoch_{epoch:02d}.parquet" for epoch in range(3))
TARGETS = os.environ.get("LATENTFACTS_SLURM_TARGETS", DEFAULT_TARGETS).split()
EXTRA_ARGS = shlex.split(os.environ.get("LATENTFACTS_SLURM_ARGS", ""))
# The base model of a second model that asks for two GPUs (the CI node has two fake ones).
SHARDED_TARGET = "results/models/sharded/base_model"
# The embedded study made smaller for the test (both runs use it): a short pretraining, two epochs.
CI_STUDY = {"embedded_model": {"steps": 60}, "finetune": {"epochs": 2}, "analysis": {"stable_k": 2}}
# CI-only speed-ups: the first status check after 5 s (not 40 s), then every 2 s.
CI_SETTINGS = {"slurm-init-seconds-before-status-checks": 5, "seconds-between-status-checks": 2}


def ci_profile(project):
    """profiles/slurm with the CI cluster's partition names and the embedded config; nothing else
    changes, so the test submits exactly the resources a real cluster gets."""
    profile = yaml.safe_load((project / "profiles" / "slurm" / "config.yaml").read_text())
    profile["configfile"] = "config/config.yaml"
    profile["default-resources"]["slurm_partition"] = CI_PARTITIONS[profile["default-resources"]["slurm_partition"]]
    # New dicts: rules that share a YAML anchor share one dict after loading.
    profile["set-resources"] = {
        rule: resources | {"slurm_partition": CI_PARTITIONS[resources["slurm_partition"]]}
        for rule, resources in profile["set-resources"].items()
    }
    profile |= CI_SETTINGS
    path = project / "profiles" / "slurm-ci" / "config.yaml"
    path.parent.mkdir()
    path.write_text(
        "# Derived from profiles/slurm by tests/test_cluster_slurm.py\n" + yaml.safe_dump(profile, sort_keys=False)
    )
    return path.parent


def sbatch_calls(output):
    """[(rules the job runs, sbatch command line)] from Snakemake's --verbose output; a group job
    runs several rules (--allowed-rules of the command it wraps)."""
    calls = []
    for line in output.splitlines():
        if "sbatch call:" in line:
            call = line.split("sbatch call:", 1)[1].strip()
            rules = re.search(r"--allowed-rules ((?:\w+ )+)", call).group(1).split()
            calls.append((frozenset(rules), call))
    return calls


def tables(project):
    return {
        path.relative_to(project): pd.read_parquet(path) for path in sorted((project / "results").rglob("*.parquet"))
    }


@pytest.mark.workflow
@pytest.mark.slurm
def test_slurm_profile_runs_the_study_through_sbatch(tmp_path):
    local, cluster = copy_project(tmp_path / "local"), copy_project(tmp_path / "cluster")
    for project in (local, cluster):
        (project / "config" / "ci.yaml").write_text(yaml.safe_dump(CI_STUDY))
    # Targets first: --configfile takes every argument after it.
    args = [*TARGETS, *EXTRA_ARGS, "--configfile", "config/config.yaml", "config/ci.yaml"]
    run_snakemake(local, *args)

    profile = ci_profile(cluster)
    dry_run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", str(profile), "--dry-run", *args],
        cwd=cluster,
        capture_output=True,
        text=True,
        check=True,
    )
    planned_rules = set(re.findall(r"^\s*rule (\w+):", dry_run.stdout + dry_run.stderr, flags=re.M)) - {"all"}

    with running_slurm() as slurm:
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "snakemake", "--profile", str(profile), "--verbose", *args],
            cwd=cluster,
            env=slurm.env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        wall = time.monotonic() - started
        # A second model sharded over two GPUs (config key gpus): its jobs ask for both, the first model's
        # finished jobs are not redone.
        (cluster / "config" / "sharded.yaml").write_text(yaml.safe_dump({"models": {"default": {}, "sharded": {"gpus": 2}}}))
        sharded = subprocess.run(
            [sys.executable, "-m", "snakemake", "--profile", str(profile), "--verbose", SHARDED_TARGET,
             "--configfile", "config/config.yaml", "config/ci.yaml", "config/sharded.yaml"],
            cwd=cluster,
            env=slurm.env,
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        slurmctld_log = (slurm.directory / "log" / "slurmctld.log").read_text()
    # Nothing left that outlives the test: no daemon, no config (a later Snakemake start asks
    # `scontrol show config` through the SLURM plugin, which must fail fast without a cluster).
    assert leftovers(slurm) == []
    started = time.monotonic()
    subprocess.run(["scontrol", "show", "config"], capture_output=True, timeout=60)
    assert time.monotonic() - started < 5  # the plugin gives up after 10 s
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"snakemake on SLURM failed ({run.returncode}):\n{output[-8000:]}"
    print(f"SLURM run of {TARGETS}: {wall:.0f} s")

    # Every planned job went through sbatch, to the partition
    # of its kind; GPU rules asked for a GPU.
    calls = sbatch_calls(output)
    assert set().union(*(rules for rules, _ in calls)) == planned_rules, (planned_rules, calls)
    gpu_rules = {
        rule
        for rule, resources in yaml.safe_load(profile.joinpath("config.yaml").read_text())["set-resources"].items()
        if resources["slurm_partition"] == CI_PARTITIONS["gpu"]
    }
    for rules, call in calls:
        print(f"{' '.join(sorted(rules))}: {call[:420]}")
        if rules & gpu_rules:
            assert f"-p {CI_PARTITIONS['gpu']}" in call and "--gpus=1 " in call and "--cpus-per-gpu=" in call, call
        else:
            assert f"-p {CI_PARTITIONS['cpu']}" in call and "--gpus" not in call and "--cpus-per-task=" in call, call
    sharded_output = sharded.stdout + sharded.stderr
    assert sharded.returncode == 0, f"the two-GPU model's job failed ({sharded.returncode}):\n{sharded_output[-8000:]}"
    sharded_calls = sbatch_calls(sharded_output)
    assert [rules for rules, _ in sharded_calls] == [frozenset({"pretrain_base"})], sharded_calls
    assert "model=sharded" in sharded_calls[0][1] and "--gpus=2 " in sharded_calls[0][1], sharded_calls[0][1]
    # SLURM itself saw them: slurmctld allocated and completed each job, and kept its log.
    assert slurmctld_log.count("sched: Allocate JobId=") >= len(calls) + len(sharded_calls), slurmctld_log[-3000:]
    assert len(list((cluster / "results" / "logs" / "slurm").rglob("*.log"))) >= len(calls)

    # The same tables as the local run.
    local_tables, cluster_tables = tables(local), tables(cluster)
    assert local_tables.keys() == cluster_tables.keys() and local_tables
    for path, table in local_tables.items():
        pd.testing.assert_frame_equal(cluster_tables[path], table, check_exact=True, obj=str(path))
