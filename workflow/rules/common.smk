"""Paths, config lookups and targets shared by every stage of the DAG."""

import os

from latentfacts.configcheck import check_config

check_config(config)

LOGS = "results/logs"
BENCH = "results/benchmarks"
ONTOLOGIES = list(config["ontologies"])
SEEDS = config["finetune"]["replicates"]
EPOCHS = config["finetune"]["epochs"]


def downloaded(source):
    """Where `fetch` puts a source's file (kept as fetched; readers handle gzip)."""
    return f"resources/downloads/{source}"


def ontology_sources(kind):
    """{ontology: downloaded file} for kind 'obo' or 'annotations'."""
    return {name: downloaded(spec[kind]) for name, spec in config["ontologies"].items()}


def all_targets():
    return ["results/data/covariates.parquet"]
