"""The config files and the SLURM profile: each default in config/config.yaml alone, the paper-scale
study valid and its DAG built offline, and the files combined the same way by either profile."""

import copy
import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, run_snakemake
from snakemake.profiles import ProfileConfigFileParser
from snakemake.utils import validate
from test_envs import rules

from latentfacts.configfiles import layered

SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
CONFIG = ROOT / "config"
# Files that Snakemake layers over config/config.yaml; each holds only what differs from it.
LAYERS = ["paper.yaml", "extended.yaml", "models.yaml"]


def load(name):
    return yaml.safe_load((CONFIG / name).read_text())


def same_values(layer, defaults, prefix=()):
    """Key paths of `layer` whose value (a leaf, or a list) equals the default it would update."""
    same = []
    for key, value in layer.items():
        path = prefix + (key,)
        default = defaults.get(key, object()) if isinstance(defaults, dict) else object()
        if isinstance(value, dict) and isinstance(default, dict):
            same += same_values(value, default, path)
        elif value == default:
            same.append(".".join(path))
    return same


@pytest.mark.parametrize("name", LAYERS)
def test_a_layer_holds_only_what_differs_from_the_defaults(name):
    assert same_values(load(name), load("config.yaml")) == []
    validate(layered(CONFIG / "config.yaml", CONFIG / name), SCHEMA)


def test_paper_study_is_the_papers():
    paper = layered(CONFIG / "config.yaml", CONFIG / "paper.yaml")
    assert paper["model"] == paper["model"] | {"name_or_path": "meta-llama/Llama-3.1-8B-Instruct", "dtype": "bfloat16"}
    sources = {spec[kind] for spec in paper["ontologies"].values() for kind in ("obo", "annotations")}
    assert {paper["sources"][source]["url"] for source in sources} == {
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
    paper = layered(CONFIG / "config.yaml", CONFIG / "paper.yaml")
    del paper["frequency"]["pubmed"]
    with pytest.raises(Exception, match="'pubmed' is a required property"):
        validate(paper, SCHEMA)


def test_slurm_profile_selects_the_paper_config_and_sends_gpu_rules_to_the_gpu_partition():
    profile = ProfileConfigFileParser().parse(open(ROOT / "profiles" / "slurm" / "config.yaml"))
    assert profile["executor"] == "slurm" and profile["configfile"] == "config/paper.yaml"
    # paper.yaml is layered over config/config.yaml, not used alone
    assert "replace-workflow-config" not in profile
    assert not any(item.startswith("cpus_per_task=") for item in profile["default-resources"])
    gpu_rules = {"pretrain_base", "baseline", "finetune_main", "evaluate_main", "finetune_withdrawal", "evaluate_paraphrases"}
    gpu_rules |= {name for name, (_, _, gpu) in rules().items() if gpu}
    for rule in gpu_rules:
        assert f"{rule}:slurm_partition=gpu" in set(profile["set-resources"]), rule
        # how many GPUs is the model's (config key gpus): a profile value would override it for every model
        assert not any(item.startswith(f"{rule}:gpu=") for item in profile["set-resources"]), rule


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


RELEASES = 4  # paper.yaml's downloads: HPO and GO, ontology and annotations


@pytest.mark.workflow
def test_paper_dag_builds_offline_with_either_profile(project):
    paper = layered(CONFIG / "config.yaml", CONFIG / "paper.yaml")
    seeds, epochs = paper["finetune"]["replicates"], paper["finetune"]["epochs"]
    evaluations = [f"results/models/default/runs/seed{s}/eval/epoch_{e:02d}.parquet" for s in seeds for e in range(epochs + 1)]
    # Targets first: --configfile takes every argument after it.
    local = dry_run_jobs(project, *evaluations, "--profile", "profiles/local", "--configfile", "config/paper.yaml")
    assert local == dry_run_jobs(project, *evaluations, "--profile", "profiles/slurm")
    assert local["fetch"] == RELEASES
    assert "pretrain_base" not in local  # a named model is used as is
    # per seed, one job trains every epoch and one evaluates every epoch
    assert local["finetune_main"] == local["evaluate_main"] == len(seeds)


@pytest.mark.workflow
def test_own_config_file_with_the_slurm_profile(project):
    (project / "two_seeds.yaml").write_text("finetune: {replicates: [0, 1]}\n")
    # Named after paper.yaml, both apply over the defaults.
    both = dry_run_jobs(project, "--profile", "profiles/slurm", "--configfile", "config/paper.yaml", "two_seeds.yaml")
    assert (both["finetune_main"], both["fetch"], "pretrain_base" in both) == (2, RELEASES, False)
    # Alone, it takes paper.yaml's place: the embedded study with two seeds.
    alone = dry_run_jobs(project, "--profile", "profiles/slurm", "--configfile", "two_seeds.yaml")
    assert (alone["finetune_main"], alone["pretrain_base"]) == (2, 1)


@pytest.mark.workflow
def test_without_a_profile_snakemake_says_how_to_run(project):
    bare = subprocess.run([sys.executable, "-m", "snakemake"], cwd=project, capture_output=True, text=True, timeout=300)
    assert bare.returncode != 0
    assert "`snakemake --profile profiles/local`" in bare.stderr, bare.stderr
    assert not (project / "results").exists()
    # With a profile: no such hint, and the config files the run combines are named.
    run = run_snakemake(project, "-n", "--configfile", "config/extended.yaml")
    output = run.stdout + run.stderr
    assert "--profile profiles/local`" not in output
    assert "Config: config/config.yaml + config/extended.yaml\n" in output


@pytest.mark.workflow
def test_a_two_gpu_models_jobs_ask_slurm_for_two_gpus_and_the_others_for_one(project):
    (project / "two.yaml").write_text(
        "models: {one: {}, sharded: {gpus: 2, device_map: auto, max_memory: {'0': 70GiB, '1': 70GiB}}}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--profile", "profiles/slurm", "--configfile", "two.yaml"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    gpus = {}
    for rule, wildcards, resources in re.findall(
        r"^rule (\w+):\n(?:    .*\n)*?    wildcards: (.*)\n(?:    .*\n)*?    resources: (.*)$", proc.stdout, flags=re.M
    ):
        model = re.search(r"model=(\w+)", wildcards)
        gpu = re.search(r"\bgpu=(\d+)", resources)
        if model and gpu:
            gpus.setdefault(model.group(1), set()).add((rule, int(gpu.group(1))))
    assert {rule for rule, _ in gpus["sharded"]} >= {"pretrain_base", "baseline", "finetune_main", "evaluate_main"}
    assert {n for _, n in gpus["sharded"]} == {2} and {n for _, n in gpus["one"]} == {1}
