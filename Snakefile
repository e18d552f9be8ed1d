import os
import sys

from snakemake.logging import logger
from snakemake.utils import min_version, validate

from latentfacts.configcheck import check_moved_keys, type_command_line_values
from latentfacts.modelcheck import check_model_sections

min_version("9.0")


report: "workflow/report/workflow.rst"


configfile: "config/config.yaml"


check_moved_keys(config)
type_command_line_values(config, "workflow/schemas/config.schema.yaml")
check_model_sections(config, "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")

if workflow.is_main_process:
    # A --configfile takes the place of a profile's `configfile:`: say which files make this config.
    layers = [os.path.relpath(path) for path in workflow.overwrite_configfiles]
    logger.info(f"Config: {' + '.join(['config/config.yaml', *layers])}")
    # Without a profile (or --cores / --jobs), Snakemake would only say that cores have to be specified.
    if (
        workflow.resource_settings.cores is None
        and workflow.resource_settings.nodes is None
    ):
        print(
            "latentfacts runs through a profile: `snakemake --profile profiles/local` on this machine,\n"
            "`snakemake --profile profiles/slurm` on a SLURM cluster (README.md, 'Quick start').",
            file=sys.stderr,
        )


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/measurements.smk"
include: "workflow/rules/comparison.smk"


rule all:
    """The analysis stage's summary, figures and tables, and every switched-on measurement."""
    input:
        all_targets(),
