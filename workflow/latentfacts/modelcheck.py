"""Each entry of config `models` checked against the schema's model section before the whole config is
validated, so an error names the key in full (`models.small.dtype`). Only the Snakefile reads this (at DAG
build time, where Snakemake's own jsonschema is at hand); no rule's script imports it."""

import re

import jsonschema
import yaml

from latentfacts.configcheck import ConfigError

# A studied model's short name: a folder name and a Snakemake wildcard value.
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_model_sections(config, schema_path):
    """Each entry of `models` against the schema's model section, the error naming the key in full
    (`models.small.dtype`), before the whole config's validation would name it by schema path."""
    with open(schema_path) as handle:
        schema = yaml.safe_load(handle)
    # the whole schema, so its references resolve, over a config holding only the entry
    validator = jsonschema.Draft202012Validator({**schema, "required": []})
    for name, entry in (config.get("models") or {}).items():
        if not MODEL_NAME.match(str(name)):
            raise ConfigError(
                f"config key models.{name}: a model's short name names its folder results/models/<name>; "
                "use letters, digits, '_' and '-' (starting with a letter or digit)"
            )
        if not isinstance(entry, dict):
            raise ConfigError(f"config key models.{name}: expected a model section (a mapping), got {entry!r}")
        error = jsonschema.exceptions.best_match(validator.iter_errors({"models": {name: entry}}))
        if error is not None:
            raise ConfigError(f"config key {'.'.join(map(str, error.absolute_path))}: {error.message}")
