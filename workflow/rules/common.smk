"""Paths, config lookups and targets shared by every stage of the DAG."""

import os

from latentfacts.arms import arm_of, run_root
from latentfacts.configcheck import check_config

check_config(config)

LOGS = "results/logs"
BENCH = "results/benchmarks"
ONTOLOGIES = list(config["ontologies"])
SEEDS = config["finetune"]["replicates"]
EPOCHS = config["finetune"]["epochs"]
WITHDRAW_AFTER = config["measurements"]["withdrawal"]["after_epoch"]


def downloaded(source):
    """Where `fetch` puts a source's file (kept as fetched; readers handle gzip)."""
    return f"resources/downloads/{source}"


def ontology_sources(kind):
    """{ontology: downloaded file} for kind 'obo' or 'annotations'."""
    return {name: downloaded(spec[kind]) for name, spec in config["ontologies"].items()}


# --- model stage: baseline, finetune, evaluate ---


def base_model_input():
    """The base model directory as an input when it is a file: made by `pretrain_base` or local.
    A hub name is no input (it is fetched by the loader)."""
    path = config["model"]["name_or_path"]
    return [path] if config["model"].get("pretrain") or os.path.exists(path) else []


def previous_epoch(wildcards):
    """Epoch e's fine-tuning starts from epoch e-1's saved state; epoch 1 from the base
    model. A run is `runs` (main) or `arms/{arm}`; where an arm equals the main run, it
    starts from the main run's state."""
    epoch = int(wildcards.epoch)
    if epoch == 1:
        return []
    root = run_root(arm_of(wildcards.run), wildcards.seed, epoch - 1, WITHDRAW_AFTER)
    return f"{root}/finetune/epoch_{epoch - 1:02d}"


def withdrawn_list(wildcards):
    """The facts the withdrawal arm stops training after its epoch k; no input for other runs."""
    if arm_of(wildcards.run) != "withdrawal":
        return []
    return f"results/arms/withdrawal/seed{wildcards.seed}/withdrawn.parquet"


def evaluated_adapter(wildcards):
    """Epoch 0 evaluates the base model itself; epoch e >= 1 the adapter of fine-tuning epoch e."""
    epoch = int(wildcards.epoch)
    return (
        f"results/{wildcards.run}/seed{wildcards.seed}/finetune/epoch_{epoch:02d}"
        if epoch > 0
        else []
    )


def all_targets():
    """The targets of the `all` rule: the analysis stage's outputs (they pull in the whole DAG) and
    the switched-on measurements."""
    return ANALYSIS_TARGETS + MEASUREMENT_TARGETS
