from snakemake.utils import min_version, validate

min_version("9.0")


report: "workflow/report/workflow.rst"


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/measurements.smk"


rule all:
    """The analysis stage's summary, figures and tables, and every switched-on measurement."""
    input:
        all_targets(),
