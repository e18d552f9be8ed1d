"""Checks of the config that JSON Schema cannot express (cross-references between keys).

Run at DAG build time, after schema validation, so a bad config fails before any job starts.
"""


class ConfigError(ValueError):
    """A config value is inconsistent with another; the message names the key."""


def check_config(config):
    sources = config["sources"]
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
