"""comparison stage of the DAG (a study of two or more models): every model's estimates, rates and
recall curves side by side, the pooled Cox models that test whether an effect differs between models,
their figures and the comparison section of the summary and report."""

COMPARISON = "results/comparison"
# What rule all asks of this stage: nothing for a one-model study.
COMPARISON_TARGETS = (
    [
        f"{COMPARISON}/summary.md",
        f"{COMPARISON}/report/comparison.html",
        *expand(
            f"{COMPARISON}/{{name}}.{{ext}}",
            name=["forest", "recall"],
            ext=["png", "svg"],
        ),
    ]
    if len(MODEL_NAMES) > 1
    else []
)


rule compare_models:
    """Every model's hazard ratios, RMST differences and rates in one table each, and the pooled interaction Cox models."""
    input:
        **{
            f"survival_{endpoint}": per_model(path)
            for endpoint, path in SURVIVAL_FILES.items()
        },
        effects=per_model(f"{ANALYSIS}/effects.csv"),
        contrasts=per_model(f"{ANALYSIS}/km_contrasts.csv"),
        trajectories=per_model(f"{ANALYSIS}/trajectories.parquet"),
    output:
        estimates=f"{COMPARISON}/hazard_ratios.csv",
        rates=f"{COMPARISON}/rates.csv",
        recall=f"{COMPARISON}/recall_curves.csv",
        pooled=f"{COMPARISON}/pooled_cox.csv",
    log:
        f"{LOGS}/comparison/compare_models.log",
    benchmark:
        f"{BENCH}/comparison/compare_models.tsv"
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        models=MODEL_NAMES,
        endpoints=SURVIVAL_ENDPOINTS,
        columns=ENDPOINT_COLUMNS,
        cox=COX_SETTINGS,
    script:
        "../scripts/compare_models.py"


rule comparison_report:
    """The forest figure of every model's hazard ratios, all models' recall curves, and the comparison's summary and report page."""
    input:
        estimates=f"{COMPARISON}/hazard_ratios.csv",
        rates=f"{COMPARISON}/rates.csv",
        recall=f"{COMPARISON}/recall_curves.csv",
        pooled=f"{COMPARISON}/pooled_cox.csv",
    output:
        forest_png=report(
            f"{COMPARISON}/forest.png",
            caption="../report/comparison_forest.rst",
            category="Model comparison",
        ),
        forest_svg=f"{COMPARISON}/forest.svg",
        recall_png=report(
            f"{COMPARISON}/recall.png",
            caption="../report/comparison_recall.rst",
            category="Model comparison",
        ),
        recall_svg=f"{COMPARISON}/recall.svg",
        summary=f"{COMPARISON}/summary.md",
        page=report(
            f"{COMPARISON}/report/comparison.html",
            caption="../report/comparison_tables.rst",
            category="Model comparison",
        ),
    log:
        f"{LOGS}/comparison/comparison_report.log",
    benchmark:
        f"{BENCH}/comparison/comparison_report.tsv"
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        endpoints=SURVIVAL_ENDPOINTS,
        stable_k=config["analysis"]["stable_k"],
    script:
        "../scripts/comparison_report.py"
