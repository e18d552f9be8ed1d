"""The study's config as Snakemake builds it from config files, for code that reads them outside a run."""

from pathlib import Path

import yaml
from snakemake.utils import update_config


def layered(*configfiles):
    """The config of `snakemake --configfile b.yaml c.yaml` given ("config/config.yaml", "b.yaml", "c.yaml"):
    each file updates the ones before it key by key (a mapping is merged into the one it meets, any other
    value, a list or null included, replaces it)."""
    config = {}
    for path in configfiles:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    return config
