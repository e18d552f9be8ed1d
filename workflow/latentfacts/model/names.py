"""How config `model.name_or_path` names a model: the embedded one, a hub name, or a path (no heavy
imports, so the config checks can use it at DAG build time)."""

import re

# The value of model.name_or_path that selects the tiny Llama the workflow pretrains itself, and the
# directory `pretrain_base` writes it to: the only model directory any rule writes.
EMBEDDED = "embedded"
EMBEDDED_DIR = "results/model/base"

# A hub name is `name` or `owner/name`; anything else (`results/model/base`, `./m`, `/abs/m`) is a path.
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def could_be_hub_name(name):
    """`name` has the form of a hub name and is not under the workflow's own folders."""
    return bool(HUB_NAME.match(name)) and not name.startswith(("results/", "resources/"))
