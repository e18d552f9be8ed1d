"""Paths, config lookups and targets shared by every stage of the DAG."""

import os

from latentfacts.arms import checkpoint_path, extra_arms, own_epochs, run_dir
from latentfacts.configcheck import check_config

check_config(config)

LOGS = "results/logs"
BENCH = "results/benchmarks"
ONTOLOGIES = list(config["ontologies"])
SEEDS = config["finetune"]["replicates"]
EPOCHS = config["finetune"]["epochs"]
WITHDRAW_AFTER = config["measurements"]["withdrawal"]["after_epoch"]
# the switched-on arms beside the main run, each with its own training runs
ARMS = extra_arms(config)


def downloaded(source):
    """Where `fetch` puts a source's file (kept as fetched; readers handle gzip)."""
    return f"resources/downloads/{source}"


def ontology_sources(kind):
    """{ontology: downloaded file} for kind 'obo' or 'annotations'."""
    return {name: downloaded(spec[kind]) for name, spec in config["ontologies"].items()}


# --- model stage ---


def base_model_input():
    """The base model directory as an input when it is a file: made by `pretrain_base` or local.
    A hub name is no input (it is fetched by the loader)."""
    path = config["model"]["name_or_path"]
    return [path] if config["model"].get("pretrain") or os.path.exists(path) else []


def all_targets():
    """The targets of the `all` rule: the analysis stage's outputs (they pull in the whole DAG) and
    the switched-on measurements."""
    return ANALYSIS_TARGETS + MEASUREMENT_TARGETS
