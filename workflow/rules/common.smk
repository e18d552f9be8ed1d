"""Paths, config lookups and targets shared by every stage of the DAG."""

import json
import os

from latentfacts.measurements.arms import (
    checkpoint_path,
    extra_arms,
    own_epochs,
    run_dir,
    template_mode,
)
from latentfacts.configcheck import check_config
from latentfacts.model.answers import answer_settings
from latentfacts.model.lm import check_model_location, resolve_device
from latentfacts.model.names import embedded_dir, model_root
from latentfacts.model.sections import (
    load_settings,
    model_sections,
    pretrained,
    pretraining,
    section_keys,
)
from latentfacts.measurements.probing import probe_epochs

check_config(config)
# The studied models: short name -> model section (config/README.md: `models`).
MODELS = model_sections(config)
MODEL_NAMES = list(MODELS)
# The embedded models are pretrained by the workflow; any other is the user's, only ever read.
PRETRAINED = [name for name in MODEL_NAMES if pretrained(config, name)]
# A local base model must be whole before any job starts (an embedded one is a job's output).
for name, key in section_keys(config).items():
    if name not in PRETRAINED:
        check_model_location(MODELS[name]["name_or_path"], f"{key}.name_or_path")


onstart:
    # After the DAG is built and before any job runs (or Snakemake deletes an output to redo it); only
    # where this machine runs the jobs: a SLURM login node has no GPU, its GPU nodes do.
    if workflow.executor_plugin.common_settings.local_exec and any(
        section["device"] == "cuda" for section in MODELS.values()
    ):
        resolve_device("cuda")


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


def fetch_spec(source):
    """The keys of a source that decide what `fetch` downloads (not how its file is read)."""
    spec = config["sources"][source]
    return {
        key: spec[key] for key in ("path", "url", "sha256", "allow_http") if key in spec
    }


def ontology_sources(kind):
    """{ontology: downloaded file} for kind 'obo' or 'annotations'."""
    return {name: downloaded(spec[kind]) for name, spec in config["ontologies"].items()}


def configured_sources(*kinds):
    """{ontology: {kind: (source name, what fetch reads of it)}} for kinds 'obo', 'annotations': the
    readers name the configured source, not only its downloaded copy."""
    return {
        name: {kind: (spec[kind], fetch_spec(spec[kind])) for kind in kinds}
        for name, spec in config["ontologies"].items()
    }


def pubmed_setting(key):
    """A key of frequency.pubmed; None when the frequencies come from a local corpus."""
    if config["frequency"]["source"] != "pubmed":
        return None
    return config["frequency"]["pubmed"][key]


def pubmed_manners():
    """The frequency.pubmed keys that cannot change a count (rate, retries, contact, cache path), as
    JSON: a resource holds one string or integer (Snakemake rounds a float, drops a null).
    """
    keys = ("email", "tool", "requests_per_second", "retries", "cache")
    return json.dumps({key: pubmed_setting(key) for key in keys})


# Which ready job takes a free core first where cores are fewer than ready jobs (a laptop): the
# chain the study's end waits on (training runs, then their evaluations and the baseline), then the
# long jobs after them (the Firth effects and the probes: started last, one of them would run alone
# at the end), then the short analysis and measurement jobs, which fill the cores they leave.
PRIORITY = {"training": 4, "scoring": 3, "long": 2, "analysis": 1}


# --- model stage ---
# A rule's params are the keys that shape its outputs (a change reruns it); settings that only decide
# where and how fast it runs (model.device, batch sizes, the resume directory) are its resources,
# which Snakemake never compares with the last run (config/README.md: which keys rerun what).

# Every model-dependent output lives under its model's short name, the {model} wildcard.
MODEL_ROOT = model_root("{model}")
MODEL_LOGS = f"{MODEL_ROOT}/logs"
MODEL_BENCH = f"{MODEL_ROOT}/benchmarks"


# how each model is loaded: `embedded` resolved to the directory it is pretrained into, with the date
# chat templates read (prompts.date_string)
MODEL_LOAD = {name: load_settings(config, name) for name in MODEL_NAMES}


def per_model(path):
    """`path` (with {model}) of every studied model, in the order of the config."""
    return expand(path, model=MODEL_NAMES)


def model_load(wildcards):
    """What wildcards.model is loaded with, as params (a change reruns that model's jobs only)."""
    return MODEL_LOAD[wildcards.model]


def model_device(wildcards):
    """The device wildcards.model runs on (a resource: it never reruns a job)."""
    return MODELS[wildcards.model]["device"]


def model_placement(wildcards):
    """wildcards.model's device_map and max_memory as JSON (a resource holds one string): where its
    layers go changes no result."""
    section = MODELS[wildcards.model]
    return json.dumps({key: section[key] for key in ("device_map", "max_memory")})


def model_gpus(wildcards):
    """The GPUs a job of wildcards.model asks for (config key gpus; SLURM's --gpus)."""
    return MODELS[wildcards.model]["gpus"]


# how every epoch's replies are judged (evaluate.answer and, under extract, its settings)
ANSWER = answer_settings(config["evaluate"])
# the sampling law of every score's p_sample (the baseline's Monte Carlo settings are its own)
SAMPLING = {key: config["baseline"][key] for key in ("temperature", "top_k", "top_p")}


def prompts(*keys):
    """The keys of config section `prompts` that a rule reads."""
    return {key: config["prompts"][key] for key in keys}


EVALUATION_PROMPTS = prompts("system_message", "templates", "evaluation_template")


def resume_state(run):
    """Where a training run's finished epochs wait while it runs (outside its outputs, which Snakemake
    deletes before it runs a job again)."""
    return (
        lambda wildcards: f"{model_root(wildcards.model)}/{run}/seed{wildcards.seed}/resume"
    )


def base_model_input(wildcards):
    """wildcards.model's base model directory as an input when it is a file: made by `pretrain_base`
    or local. A hub name is no input (it is fetched by the loader)."""
    path = MODEL_LOAD[wildcards.model]["name_or_path"]
    return [path] if wildcards.model in PRETRAINED or os.path.exists(path) else []


# --- measurements: rules that load the model with an adapter per (seed, epoch) ---


def adapter_dirs(model, arm, seed_epochs):
    """The adapter directory of `model`'s `arm` at each (seed, epoch): None at epoch 0, the base model."""
    return [checkpoint_path(model, arm, s, e, WITHDRAW_AFTER) for s, e in seed_epochs]


def model_inputs(arm, seed_epochs):
    """An input function: what a rule that loads wildcards.model with `arm`'s adapter at each of
    `seed_epochs(wildcards)` (or the list itself) depends on."""

    def inputs(wildcards):
        pairs = seed_epochs(wildcards) if callable(seed_epochs) else seed_epochs
        dirs = adapter_dirs(
            wildcards.model, arm(wildcards) if callable(arm) else arm, pairs
        )
        return [*base_model_input(wildcards), *(d for d in dirs if d)]

    return inputs


def semantic_epochs(wildcards):
    """The (seed, epoch) pairs at which a run's held-out paraphrases are scored (augmentation arm)."""
    every = config["measurements"]["augmentation"]["every"]
    return [(int(wildcards.seed), e) for e in probe_epochs(every, EPOCHS)]


# --- analysis ---


def endpoint_columns(wildcards):
    """The covariates of wildcards.endpoint's models (ENDPOINT_COLUMNS, analysis.smk)."""
    return ENDPOINT_COLUMNS[wildcards.endpoint]


def all_targets():
    """The targets of the `all` rule: the analysis stage's outputs (they pull in the whole DAG), the
    switched-on measurements and, with two or more models, their comparison."""
    return ANALYSIS_TARGETS + MEASUREMENT_TARGETS + COMPARISON_TARGETS
