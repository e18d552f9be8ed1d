"""How config `model.name_or_path` names a model: the embedded one, a hub name, or a path; and where a
studied model's outputs live (no heavy imports, so the config checks can use it at DAG build time)."""

import re

# The value of model.name_or_path that selects the tiny Llama the workflow pretrains itself.
EMBEDDED = "embedded"

# A hub name is `name` or `owner/name`; anything else (`results/models/a/base_model`, `./m`, `/abs/m`) is a path.
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def could_be_hub_name(name):
    """`name` has the form of a hub name and is not under the workflow's own folders."""
    return bool(HUB_NAME.match(name)) and not name.startswith(("results/", "resources/"))


def model_root(model):
    """results/models/{model}: every output that depends on the studied model `model` (its short name,
    or the wildcard `{model}` in a rule's path)."""
    return f"results/models/{model}"


def embedded_dir(model):
    """Where `pretrain_base` writes model `model`'s embedded base: the only model directory any rule writes."""
    return f"{model_root(model)}/base_model"
