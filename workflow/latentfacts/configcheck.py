"""Checks of the config that JSON Schema cannot express (cross-references between keys, keys that
moved), and the typing of values given on the command line.

Run at DAG build time, around schema validation, so a bad config fails before any job starts.
"""

import os
import re

import yaml

from latentfacts.model.names import EMBEDDED, could_be_hub_name
from latentfacts.model.sections import model_sections, section_keys


class ConfigError(ValueError):
    """A config value is inconsistent with another; the message names the key."""


def check_moved_keys(config):
    """Keys of earlier layouts, refused with what to do instead (before schema validation, whose
    message would only call them unexpected)."""
    if "pretrain" in (config.get("model") or {}):
        raise ConfigError(
            "config key model.pretrain: remove it. The embedded model's pretraining settings live under "
            "embedded_model and are read only when model.name_or_path is 'embedded'; any other "
            "model.name_or_path is your own model, which the workflow loads and never writes"
        )


def _schema_at(schema, root):
    """`schema`, or what its `$ref` (a pointer into `root`, such as `#/$defs/source`) points to."""
    if "$ref" not in schema:
        return schema
    for part in schema["$ref"].removeprefix("#/").split("/"):
        root = root[part]
    return root


def typed_values(value, schema, root):
    """`value` with every string where the schema wants a number, boolean or null parsed as one.

    `--config finetune='{"epochs": 3}'` reaches the config as {'epochs': '3'} (Snakemake reads nested
    command-line values as strings); a string where the schema accepts no string is an error either
    way, so parsing it changes nothing but that error into the intended value."""
    schema = _schema_at(schema, root)
    if isinstance(value, dict):
        known = schema.get("properties", {})
        other = schema.get("additionalProperties")
        return {
            key: typed_values(item, known.get(key, other if isinstance(other, dict) else {}), root)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [typed_values(item, schema.get("items", {}), root) for item in value]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str) and types and "string" not in types:
        return parsed_scalar(value)
    return value


def parsed_scalar(text):
    """An int, float (`1e-4` included, which YAML 1.1 leaves a string), bool or None read from `text`;
    `text` itself when it is none of these."""
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    parsed = yaml.safe_load(text)
    return parsed if isinstance(parsed, bool) or parsed is None else text


def type_command_line_values(config, schema_path):
    """Parse, in place, the strings of `config` that the schema at `schema_path` wants as numbers."""
    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    config.update(typed_values(dict(config), schema, schema))


def check_model_choice(config):
    """For every studied model: `embedded` needs the embedded_model section; any other name is a hub
    name or an existing local directory (a path-like name that does not exist is a typo, not a hub model)."""
    sections = model_sections(config)
    for model, key in section_keys(config).items():
        name = sections[model]["name_or_path"]
        if name == EMBEDDED:
            if "embedded_model" not in config:
                raise ConfigError(f"config key embedded_model: required when {key}.name_or_path is 'embedded'")
            continue
        if not os.path.exists(name) and not could_be_hub_name(name):
            raise ConfigError(
                f"config key {key}.name_or_path: {name!r} is no local directory and cannot be a Hugging Face "
                "hub name ('owner/model'); use 'embedded' for the workflow's own tiny model"
            )


def check_answer_rule(config):
    """Identifier patterns compile; under `extract` every ontology has one, and the baseline's latent
    knowledge comes from real samples (a probability known exactly exists only for the exact reply)."""
    evaluate = config["evaluate"]
    for name, pattern in evaluate["identifier_patterns"].items():
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"config key evaluate.identifier_patterns.{name}: {pattern!r} is no regular expression ({error})")
    if evaluate["answer"] != "extract":
        return
    missing = [name for name in config["ontologies"] if name not in evaluate["identifier_patterns"]]
    if missing:
        raise ConfigError(
            f"config key evaluate.identifier_patterns: no pattern for {', '.join(missing)}, "
            "which evaluate.answer: extract needs"
        )
    baseline = config["baseline"]
    if baseline.get("monte_carlo", "generate") == "binomial":
        raise ConfigError(
            "config key baseline.monte_carlo: binomial draws know only the probability of the exact reply, "
            "not of a reply from which the identifier is extracted; set baseline.monte_carlo: generate "
            "with evaluate.answer: extract (or evaluate.answer: exact)"
        )
    if baseline["latent_rule"] == "exact":
        raise ConfigError(
            "config key baseline.latent_rule: exact reads p_sample, the probability of the exact reply only; "
            "set baseline.latent_rule: monte_carlo with evaluate.answer: extract (or evaluate.answer: exact)"
        )


def check_config(config):
    sources = config["sources"]
    for name, spec in sources.items():
        if "url" in spec and not spec["url"].startswith("https://") and not spec.get("allow_http"):
            raise ConfigError(
                f"config key sources.{name}.url: {spec['url']!r} is not https; "
                f"set sources.{name}.allow_http: true to download it unencrypted"
            )
    for name, spec in config["ontologies"].items():
        for kind in ("obo", "annotations"):
            if spec[kind] not in sources:
                raise ConfigError(
                    f"config key ontologies.{name}.{kind}: source '{spec[kind]}' is not defined "
                    f"under 'sources' (defined: {', '.join(sorted(sources))})"
                )
    pairs = config["pairs"]
    if pairs["label_min_chars"] > pairs["label_max_chars"]:
        raise ConfigError(
            f"config keys pairs.label_min_chars ({pairs['label_min_chars']}) and "
            f"pairs.label_max_chars ({pairs['label_max_chars']}): the minimum exceeds the maximum"
        )
    prompts = config["prompts"]
    if prompts["evaluation_template"] >= len(prompts["templates"]):
        raise ConfigError(
            f"config key prompts.evaluation_template: {prompts['evaluation_template']} is not an "
            f"index into prompts.templates ({len(prompts['templates'])} templates)"
        )
    frequency = config["frequency"]
    if frequency["source"] == "corpus" and not frequency.get("corpus"):
        raise ConfigError("config key frequency.corpus: required when frequency.source is 'corpus'")
    check_model_choice(config)
    check_answer_rule(config)
