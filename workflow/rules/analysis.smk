"""analysis stage of the DAG: eval tables -> trajectories -> survival tables ->
Cox, discrete-time, Kaplan-Meier and dynamics tables -> figures, summary and report."""

from latentfacts.analysis.survival import ENDPOINTS as SURVIVAL_ENDPOINTS
from latentfacts.analysis.survival import (
    CLASS_ENDPOINTS,
    DEGRADATION_ENDPOINTS,
    check_epoch_bands,
    check_stable_k,
    horizon,
    model_columns,
)

check_stable_k(config["analysis"]["stable_k"], EPOCHS)
check_epoch_bands(config["analysis"]["epoch_bands"])

# The covariates of each endpoint's models, and fit_cox's settings, as the rules fitting them pass them on.
ENDPOINT_COLUMNS = {
    endpoint: model_columns(config["analysis"]["covariates"], ONTOLOGIES, endpoint)
    for endpoint in SURVIVAL_ENDPOINTS
}
COX_SETTINGS = {
    "penalizer": config["analysis"]["cox_penalizer"],
    "ph_alpha": config["analysis"]["ph_alpha"],
    "firth_min_events_per_covariate": config["analysis"][
        "firth_min_events_per_covariate"
    ],
}
ANALYSIS = f"{MODEL_ROOT}/analysis"
FIGURES = f"{MODEL_ROOT}/figures"
EVAL_KEYS = [(seed, epoch) for seed in SEEDS for epoch in range(EPOCHS + 1)]
# The report's categories: one per question the study asks, then the measurements and provenance.
CATEGORIES = {
    "recall": "Acquisition",
    "acquisition": "Acquisition",
    "generalization": "Generalization",
    "degradation": "Degradation",
    "dynamics": "Learning dynamics",
}
FIGURE_NAMES = list(CATEGORIES)
QUESTIONS = ["acquisition", "generalization", "degradation", "dynamics"]
PROVENANCE = "Data and model provenance"
REPORT = f"{MODEL_ROOT}/report"
SUMMARY = f"{MODEL_ROOT}/summary.md"
# The inputs the run read (their provenance records name the data releases).
SOURCES = sorted(
    {
        spec[kind]
        for spec in config["ontologies"].values()
        for kind in ("obo", "annotations")
    }
)


SURVIVAL_FILES = {e: f"{ANALYSIS}/survival_{e}.parquet" for e in SURVIVAL_ENDPOINTS}
HORIZONS = {
    e: horizon(e, EPOCHS, config["analysis"]["stable_k"]) for e in SURVIVAL_ENDPOINTS
}
REPORT_TABLES = [
    "hazard_ratios",
    "models",
    "ph_checks",
    "km_logrank",
    "km_rmst",
    "dynamics_summary",
    "effects",
    "km_contrasts",
    "degradation_logrank",
]
# What rule all asks of this stage: each model's summary, every figure, the tables and the report's pages.
ANALYSIS_TARGETS = expand(
    [
        SUMMARY,
        *expand(
            f"{FIGURES}/{{name}}.{{ext}}",
            name=FIGURE_NAMES,
            ext=["png", "svg"],
            allow_missing=True,
        ),
        *expand(f"{ANALYSIS}/{{name}}.csv", name=REPORT_TABLES, allow_missing=True),
        *expand(
            f"{REPORT}/{{name}}.html",
            name=["summary", "provenance", *QUESTIONS],
            allow_missing=True,
        ),
    ],
    model=MODEL_NAMES,
)


rule trajectories:
    """Eval tables of every seed and epoch, joined with split, knowledge class and covariates."""
    input:
        pairs="results/data/pairs.parquet",
        covariates="results/data/covariates.parquet",
        baseline=f"{MODEL_ROOT}/baseline.parquet",
        evals=[
            f"{MODEL_ROOT}/runs/seed{seed}/eval/epoch_{epoch:02d}.parquet"
            for seed, epoch in EVAL_KEYS
        ],
    output:
        f"{ANALYSIS}/trajectories.parquet",
    log:
        f"{MODEL_LOGS}/analysis/trajectories.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        eval_keys=EVAL_KEYS,
    script:
        "../scripts/trajectories.py"


rule survival_tables:
    """Trajectories -> one survival table (duration, event, model columns) per endpoint."""
    input:
        f"{ANALYSIS}/trajectories.parquet",
    output:
        **SURVIVAL_FILES,
    log:
        f"{MODEL_LOGS}/analysis/survival_tables.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        covariates=config["analysis"]["covariates"],
        ontology_levels=ONTOLOGIES,
        stable_k=config["analysis"]["stable_k"],
        p_sample_floor=config["analysis"]["p_sample_floor"],
    script:
        "../scripts/survival_tables.py"


rule cox:
    """Cox proportional-hazards model (Efron ties, Firth when sparse) and cox.zph PH test for one endpoint."""
    input:
        f"{ANALYSIS}/survival_{{endpoint}}.parquet",
    output:
        hazard_ratios=f"{ANALYSIS}/cox_{{endpoint}}.parquet",
        model=f"{ANALYSIS}/cox_{{endpoint}}.json",
        ph=f"{ANALYSIS}/ph_{{endpoint}}.parquet",
    log:
        f"{MODEL_LOGS}/analysis/cox_{{endpoint}}.log",
    benchmark:
        f"{MODEL_BENCH}/analysis/cox_{{endpoint}}.tsv"
    wildcard_constraints:
        endpoint="|".join(SURVIVAL_ENDPOINTS),
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        columns=endpoint_columns,
        penalizer=config["analysis"]["cox_penalizer"],
        ph_alpha=config["analysis"]["ph_alpha"],
        firth_min_events_per_covariate=config["analysis"][
            "firth_min_events_per_covariate"
        ],
    script:
        "../scripts/cox.py"


rule discrete_time:
    """Person-period complementary log-log GLM with fact-clustered errors for one endpoint."""
    input:
        f"{ANALYSIS}/survival_{{endpoint}}.parquet",
    output:
        hazard_ratios=f"{ANALYSIS}/discrete_{{endpoint}}.parquet",
        model=f"{ANALYSIS}/discrete_{{endpoint}}.json",
    log:
        f"{MODEL_LOGS}/analysis/discrete_{{endpoint}}.log",
    benchmark:
        f"{MODEL_BENCH}/analysis/discrete_{{endpoint}}.tsv"
    wildcard_constraints:
        endpoint="|".join(SURVIVAL_ENDPOINTS),
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        columns=endpoint_columns,
        min_events=config["analysis"]["discrete_min_events"],
    script:
        "../scripts/discrete_time.py"


rule hazard_ratio_tables:
    """Cox and discrete-time results of every endpoint -> three report tables."""
    input:
        cox=expand(
            f"{ANALYSIS}/cox_{{endpoint}}.parquet",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
        cox_models=expand(
            f"{ANALYSIS}/cox_{{endpoint}}.json",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
        ph=expand(
            f"{ANALYSIS}/ph_{{endpoint}}.parquet",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
        discrete=expand(
            f"{ANALYSIS}/discrete_{{endpoint}}.parquet",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
        discrete_models=expand(
            f"{ANALYSIS}/discrete_{{endpoint}}.json",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
    output:
        hazard_ratios=f"{ANALYSIS}/hazard_ratios.csv",
        models=f"{ANALYSIS}/models.csv",
        ph=f"{ANALYSIS}/ph_checks.csv",
    log:
        f"{MODEL_LOGS}/analysis/hazard_ratio_tables.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        endpoints=SURVIVAL_ENDPOINTS,
    script:
        "../scripts/hazard_ratio_tables.py"


rule kaplan_meier:
    """Kaplan-Meier curves by knowledge class, log-rank tests and RMST for every endpoint."""
    input:
        **SURVIVAL_FILES,
    output:
        curves=f"{ANALYSIS}/km_curves.parquet",
        logrank=f"{ANALYSIS}/km_logrank.csv",
        rmst=f"{ANALYSIS}/km_rmst.csv",
    log:
        f"{MODEL_LOGS}/analysis/kaplan_meier.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        horizons=HORIZONS,
        permutation={
            "min_expected": config["analysis"]["permutation_min_expected"],
            "resamples": config["analysis"]["permutation_resamples"],
            "seed": config["seed"],
        },
    script:
        "../scripts/kaplan_meier.py"


rule effects:
    """Cox hazard ratios of one endpoint per epoch band, per seed and with log10 sampling probability."""
    input:
        f"{ANALYSIS}/survival_{{endpoint}}.parquet",
    output:
        f"{ANALYSIS}/effects_{{endpoint}}.parquet",
    log:
        f"{MODEL_LOGS}/analysis/effects_{{endpoint}}.log",
    benchmark:
        f"{MODEL_BENCH}/analysis/effects_{{endpoint}}.tsv"
    wildcard_constraints:
        endpoint="|".join(SURVIVAL_ENDPOINTS),
    priority: PRIORITY["long"]
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        columns=endpoint_columns,
        bands=config["analysis"]["epoch_bands"],
        horizon=lambda w: HORIZONS[w.endpoint],
        cox=COX_SETTINGS,
    script:
        "../scripts/effects.py"


rule effect_table:
    """Every endpoint's per-band, per-seed and sensitivity hazard ratios -> one report table."""
    input:
        expand(
            f"{ANALYSIS}/effects_{{endpoint}}.parquet",
            endpoint=SURVIVAL_ENDPOINTS,
            allow_missing=True,
        ),
    output:
        f"{ANALYSIS}/effects.csv",
    log:
        f"{MODEL_LOGS}/analysis/effect_table.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        endpoints=SURVIVAL_ENDPOINTS,
    script:
        "../scripts/effect_table.py"


rule km_contrasts:
    """Median event time and RMST per knowledge class, RMST difference latent - unknown, bootstrap CIs."""
    input:
        **{e: SURVIVAL_FILES[e] for e in CLASS_ENDPOINTS},
    output:
        f"{ANALYSIS}/km_contrasts.csv",
    log:
        f"{MODEL_LOGS}/analysis/km_contrasts.log",
    benchmark:
        f"{MODEL_BENCH}/analysis/km_contrasts.tsv"
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        horizons={e: HORIZONS[e] for e in CLASS_ENDPOINTS},
        replicates=config["analysis"]["bootstrap_replicates"],
        seed=config["seed"],
    script:
        "../scripts/km_contrasts.py"


rule degradation_exposure:
    """Degradation trained vs withheld: Kaplan-Meier curves and log-rank tests stratified by ontology."""
    input:
        **{e: SURVIVAL_FILES[e] for e in DEGRADATION_ENDPOINTS},
    output:
        curves=f"{ANALYSIS}/degradation_curves.parquet",
        logrank=f"{ANALYSIS}/degradation_logrank.csv",
    log:
        f"{MODEL_LOGS}/analysis/degradation_exposure.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        horizons={e: HORIZONS[e] for e in DEGRADATION_ENDPOINTS},
        permutation={
            "min_expected": config["analysis"]["permutation_min_expected"],
            "resamples": config["analysis"]["permutation_resamples"],
            "seed": config["seed"],
        },
    script:
        "../scripts/degradation_exposure.py"


rule dynamics:
    """Per-epoch acquisition rate by knowledge class, its peak, convergence and reversion, with bootstrap CIs."""
    input:
        SURVIVAL_FILES["acquisition"],
    output:
        curves=f"{ANALYSIS}/dynamics_curves.parquet",
        summary=f"{ANALYSIS}/dynamics_summary.csv",
    log:
        f"{MODEL_LOGS}/analysis/dynamics.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        horizon=EPOCHS,
        convergence_fraction=config["analysis"]["convergence_fraction"],
        min_at_risk=config["analysis"]["min_at_risk"],
        replicates=config["analysis"]["bootstrap_replicates"],
        seed=config["seed"],
    script:
        "../scripts/dynamics.py"


rule run_facts:
    """The run's model, data releases, seeds, epochs and scoring rule -> run.json (captions, summary)."""
    input:
        provenance=[f"{downloaded(source)}.provenance.json" for source in SOURCES],
        data=[downloaded(source) for source in SOURCES],
        model=base_model_input,
        annotations_report="results/data/annotations_report.json",
    output:
        f"{ANALYSIS}/run.json",
    log:
        f"{MODEL_LOGS}/analysis/run_facts.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        # a hub model is named here; a local one is its input directory
        hub_model=lambda w: (
            None if base_model_input(w) else MODELS[w.model]["name_or_path"]
        ),
        pretrained=lambda w: w.model in PRETRAINED,
        sources=SOURCES,
        seeds=SEEDS,
        epochs=EPOCHS,
        answer=ANSWER,
    script:
        "../scripts/run_facts.py"


rule figures:
    """Recall per epoch, one figure per question (Kaplan-Meier curves and hazard ratios) and the dynamics."""
    input:
        run=f"{ANALYSIS}/run.json",
        trajectories=f"{ANALYSIS}/trajectories.parquet",
        km_curves=f"{ANALYSIS}/km_curves.parquet",
        hazard_ratios=f"{ANALYSIS}/hazard_ratios.csv",
        models=f"{ANALYSIS}/models.csv",
        effects=f"{ANALYSIS}/effects.csv",
        degradation_curves=f"{ANALYSIS}/degradation_curves.parquet",
        dynamics=f"{ANALYSIS}/dynamics_curves.parquet",
    output:
        **{
            f"{name}_png": report(
                f"{FIGURES}/{name}.png",
                caption=f"../report/{name}.rst",
                category=category,
            )
            for name, category in CATEGORIES.items()
        },
        **{f"{name}_svg": f"{FIGURES}/{name}.svg" for name in FIGURE_NAMES},
        notes=f"{FIGURES}/figure_notes.json",
    log:
        f"{MODEL_LOGS}/analysis/figures.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        stable_k=config["analysis"]["stable_k"],
        min_at_risk=config["analysis"]["min_at_risk"],
    script:
        "../scripts/figures.py"


rule summary:
    """This model's headline numbers beside the paper's -> results/models/{model}/summary.md."""
    input:
        trajectories=f"{ANALYSIS}/trajectories.parquet",
        hazard_ratios=f"{ANALYSIS}/hazard_ratios.csv",
        models=f"{ANALYSIS}/models.csv",
        ph=f"{ANALYSIS}/ph_checks.csv",
        effects=f"{ANALYSIS}/effects.csv",
        contrasts=f"{ANALYSIS}/km_contrasts.csv",
        degradation_logrank=f"{ANALYSIS}/degradation_logrank.csv",
        dynamics=f"{ANALYSIS}/dynamics_summary.csv",
        generalization=SURVIVAL_FILES["generalization"],
        run=f"{ANALYSIS}/run.json",
        figure_notes=f"{FIGURES}/figure_notes.json",
    output:
        SUMMARY,
    log:
        f"{MODEL_LOGS}/analysis/summary.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        seeds=SEEDS,
        epochs=EPOCHS,
        horizons=HORIZONS,
        ph_alpha=config["analysis"]["ph_alpha"],
    script:
        "../scripts/summary.py"


rule report_pages:
    """The report's HTML pages: the summary (its first page), each question's tables, the provenance."""
    input:
        summary=SUMMARY,
        run=f"{ANALYSIS}/run.json",
        hazard_ratios=f"{ANALYSIS}/hazard_ratios.csv",
        models=f"{ANALYSIS}/models.csv",
        ph_checks=f"{ANALYSIS}/ph_checks.csv",
        km_logrank=f"{ANALYSIS}/km_logrank.csv",
        km_rmst=f"{ANALYSIS}/km_rmst.csv",
        effects=f"{ANALYSIS}/effects.csv",
        km_contrasts=f"{ANALYSIS}/km_contrasts.csv",
        degradation_logrank=f"{ANALYSIS}/degradation_logrank.csv",
        dynamics=f"{ANALYSIS}/dynamics_summary.csv",
    output:
        **{
            question: report(
                f"{REPORT}/{question}.html",
                caption=f"../report/{question}_tables.rst",
                category=CATEGORIES[question],
            )
            for question in QUESTIONS
        },
        summary=report(
            f"{REPORT}/summary.html",
            caption="../report/summary.rst",
            category="Summary",
        ),
        provenance=report(
            f"{REPORT}/provenance.html",
            caption="../report/provenance.rst",
            category=PROVENANCE,
        ),
    log:
        f"{MODEL_LOGS}/analysis/report_pages.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        stable_k=config["analysis"]["stable_k"],
    script:
        "../scripts/report_pages.py"
