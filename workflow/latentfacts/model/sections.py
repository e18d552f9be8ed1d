"""The studied models: config `models` maps a short name to a model section; without it, config `model`
is the study's one model, named `default`. Each entry of `models` holds only what differs from `model`,
whose keys are the defaults of every entry (an entry's `embedded_model` likewise overrides keys of the
top-level `embedded_model` for that model's pretraining; the corpus is the study's shared data).

Light module (no torch), read at DAG build time by the rules and the config checks.
"""

from latentfacts.model.names import EMBEDDED, embedded_dir

# The name of the one model of a config without `models` (its outputs: results/models/default/).
DEFAULT_MODEL = "default"
# What a rule loading a model passes on to latentfacts.model.lm (where and how fast it runs is a resource).
LOAD_KEYS = ("name_or_path", "dtype", "trust_remote_code", "chat_template")


def section_keys(config):
    """{short name: the config key of its section}: `model` alone, or `models.<name>` per entry."""
    if not config.get("models"):
        return {DEFAULT_MODEL: "model"}
    return {name: f"models.{name}" for name in config["models"]}


def model_sections(config):
    """{short name: model section}: each entry of `models` over the defaults in `model`."""
    return {
        name: {**config["model"], **(config.get("models") or {}).get(name, {})}
        for name in section_keys(config)
    }


def pretraining(config, name):
    """The embedded_model pretraining settings of model `name` (the top-level ones, without the shared
    corpus, overridden by its section's `embedded_model`)."""
    shared = {key: value for key, value in config["embedded_model"].items() if key != "corpus"}
    return shared | model_sections(config)[name].get("embedded_model", {})


def load_settings(config, name):
    """What the model rules load model `name` with: its section's LOAD_KEYS, `embedded` resolved to the
    directory it is pretrained into, and the date chat templates read (prompts.date_string)."""
    section = model_sections(config)[name]
    settings = {key: section[key] for key in LOAD_KEYS} | {"date_string": config["prompts"]["date_string"]}
    if settings["name_or_path"] == EMBEDDED:
        settings["name_or_path"] = embedded_dir(name)
    return settings


def pretrained(config, name):
    """Whether model `name` is the embedded one, which the workflow pretrains itself."""
    return model_sections(config)[name]["name_or_path"] == EMBEDDED
