"""Paths, config lookups and targets shared by every stage of the DAG."""

import os

from latentfacts.measurements.arms import (
    checkpoint_path,
    extra_arms,
    own_epochs,
    run_dir,
)
from latentfacts.configcheck import check_config
from latentfacts.measurements.probing import probe_epochs

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


# --- measurements: rules that load the model with an adapter per (seed, epoch) ---


def adapter_dirs(arm, seed_epochs):
    """The adapter directory of `arm` at each (seed, epoch): None at epoch 0, the base model."""
    return [checkpoint_path(arm, s, e, WITHDRAW_AFTER) for s, e in seed_epochs]


def model_inputs(dirs):
    """What a rule that loads the model with each adapter directory of `dirs` depends on."""
    return [*base_model_input(), *(d for d in dirs if d)]


def semantic_epochs(wildcards):
    """The (seed, epoch) pairs at which a run's held-out paraphrases are scored (augmentation arm)."""
    every = config["measurements"]["augmentation"]["every"]
    return [(int(wildcards.seed), e) for e in probe_epochs(every, EPOCHS)]


def all_targets():
    """The targets of the `all` rule: the analysis stage's outputs (they pull in the whole DAG) and
    the switched-on measurements."""
    return ANALYSIS_TARGETS + MEASUREMENT_TARGETS
