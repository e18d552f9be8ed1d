"""config/paper.yaml and the SLURM profile: complete, valid, and a paper-scale DAG built offline."""

import copy
import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from snakemake.profiles import ProfileConfigFileParser
from snakemake.utils import validate
from test_envs import rules

SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
# Keys whose children legitimately differ between the embedded and the paper study.
FREE_FORM = {("sources",), ("model", "pretrain"), ("frequency",)}


def load(name):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def key_paths(tree, prefix=()):
    paths = set()
    for key, value in tree.items():
        path = prefix + (key,)
        paths.add(path)
        if isinstance(value, dict) and path not in FREE_FORM:
            paths |= key_paths(value, path)
    return paths


def test_paper_config_is_valid_and_complete():
    paper = load("paper.yaml")
    validate(copy.deepcopy(paper), SCHEMA)
    # Every key of the embedded config is set explicitly (no schema default fills a gap).
    assert key_paths(load("config.yaml")) == key_paths(paper)
    assert paper["model"] == paper["model"] | {
        "name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
        "dtype": "bfloat16",
        "pretrain": None,
    }
    assert {source["url"] for source in paper["sources"].values()} == {
        "https://purl.obolibrary.org/obo/hp.obo",
        "https://purl.obolibrary.org/obo/hp/hpoa/phenotype.hpoa",
        "https://purl.obolibrary.org/obo/go/go-basic.obo",
        "https://current.geneontology.org/annotations/goa_human.gaf.gz",
    }
    sizes = {name: (o["train"], o["withheld"], o["namespace"]) for name, o in paper["ontologies"].items()}
    assert sizes == {"HPO": (800, 0, None), "GO": (400, 400, "cellular_component")}
    assert (paper["finetune"]["epochs"], paper["baseline"]["samples"], paper["baseline"]["temperature"]) == (
        20,
        100,
        1.0,
    )
    assert paper["frequency"]["source"] == "pubmed"


def test_pubmed_settings_are_required_for_the_pubmed_source():
    paper = load("paper.yaml")
    del paper["frequency"]["pubmed"]
    with pytest.raises(Exception, match="'pubmed' is a required property"):
        validate(paper, SCHEMA)


def test_slurm_profile_selects_the_paper_config_and_sends_gpu_rules_to_the_gpu_partition():
    profile = ProfileConfigFileParser().parse(open(ROOT / "profiles" / "slurm" / "config.yaml"))
    assert profile["executor"] == "slurm" and profile["configfile"].endswith("config/paper.yaml")
    assert not any(item.startswith("cpus_per_task=") for item in profile["default-resources"])
    gpu_rules = {"pretrain_base", "baseline", "train_main", "train_withdrawal", "train_paraphrases"}
    gpu_rules |= {name for name, (_, _, gpu) in rules().items() if gpu}
    for rule in gpu_rules:
        assert {f"{rule}:gpu=1", f"{rule}:slurm_partition=gpu"} <= set(profile["set-resources"]), rule


def dry_run_jobs(project, *args):
    """{rule: number of jobs} of a dry run with every proxy pointing nowhere: a DAG that reaches
    for the network (a model hub, a download) at build time fails here."""
    dead_proxy = "http://127.0.0.1:9"
    env = os.environ | {
        "HTTP_PROXY": dead_proxy,
        "HTTPS_PROXY": dead_proxy,
        "http_proxy": dead_proxy,
        "https_proxy": dead_proxy,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    table = (proc.stdout + proc.stderr).split("Job stats:")[1]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M) if rule != "total"}


def test_paper_dag_builds_offline_with_either_profile(project):
    paper = load("paper.yaml")
    seeds, epochs = paper["finetune"]["replicates"], paper["finetune"]["epochs"]
    evaluations = [f"results/runs/seed{s}/eval/epoch_{e:02d}.parquet" for s in seeds for e in range(epochs + 1)]
    # Targets first: --configfile takes every argument after it.
    local = dry_run_jobs(project, *evaluations, "--profile", "profiles/local", "--configfile", "config/paper.yaml")
    assert local == dry_run_jobs(project, *evaluations, "--profile", "profiles/slurm")
    assert local["fetch"] == len(paper["sources"])
    assert "pretrain_base" not in local  # pretrain: null -> the named model is used as is
    assert local["train_main"] == len(seeds)  # one job per seed trains and evaluates every epoch
