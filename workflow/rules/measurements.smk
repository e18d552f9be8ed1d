"""Measurements beside the survival analysis: log-probability dynamics, forgetting, reverse and
linear probes on the main run, and two arms with their own training runs (withdrawal, augmentation).

An arm's runs live under results/models/{model}/arms/{arm}/seed{s}/ and are made by finetune_{arm} and
evaluate_{arm} rules like the main run's (results/models/{model}/runs/seed{s}/, see model.smk); epochs an
arm shares with the main run are read from there.
"""

from latentfacts.measurements.arms import (
    arm_of,
    augmentation_arm,
    check_measurements,
    checkpoint_path,
    eval_path,
    run_dir,
    template_mode,
)
from latentfacts.measurements.probing import probe_epochs

check_measurements(config)

MEASUREMENTS = config["measurements"]
ALL_EPOCHS = [(s, e) for s in SEEDS for e in range(EPOCHS + 1)]
TRAINED_EPOCHS = [(s, e) for s, e in ALL_EPOCHS if e > 0]
REVERSE_EPOCHS = [(s, e) for s in SEEDS for e in (0, EPOCHS)]
PROBE_EPOCHS = [
    (s, e)
    for s in SEEDS
    for e in probe_epochs(MEASUREMENTS["linear_probe"]["every"], EPOCHS)
]
AUGMENTATION_ARMS = [
    "main",
    augmentation_arm(config["prompts"]["train_templates"]),
]


# What rule all asks of this stage: each switched-on measurement's table and figure, for every model.
MEASUREMENT_TARGETS = expand(
    [
        *(
            [f"{ANALYSIS}/effectivity.parquet", f"{FIGURES}/logprob_dynamics.png"]
            if MEASUREMENTS["logprob_dynamics"]["enabled"]
            else []
        ),
        *(
            [
                f"{ANALYSIS}/forgetting_exposure_fit.json",
                f"{FIGURES}/forgetting_exposure.png",
            ]
            if MEASUREMENTS["forgetting"]["enabled"]
            else []
        ),
        *(
            [f"{ANALYSIS}/reverse_probe.parquet", f"{FIGURES}/reverse_probe.png"]
            if MEASUREMENTS["reverse_probe"]["enabled"]
            else []
        ),
        *(
            [f"{ANALYSIS}/linear_probe.parquet", f"{FIGURES}/linear_probe.png"]
            if MEASUREMENTS["linear_probe"]["enabled"]
            else []
        ),
        *(
            [f"{ANALYSIS}/retainability_fit.json", f"{FIGURES}/retainability.png"]
            if "withdrawal" in ARMS
            else []
        ),
        *(
            [f"{ANALYSIS}/augmentation_gap.csv", f"{FIGURES}/augmentation.png"]
            if MEASUREMENTS["augmentation"]["enabled"]
            else []
        ),
    ],
    model=MODEL_NAMES,
)


rule logprob_dynamics:
    """Per-fact log-probability gains per epoch, effectivity and the log-probability threshold of correctness."""
    input:
        run=f"{ANALYSIS}/run.json",
        pairs="results/data/pairs.parquet",
        evals=[
            eval_path("{model}", "main", s, e, WITHDRAW_AFTER) for s, e in ALL_EPOCHS
        ],
    output:
        gains=f"{ANALYSIS}/logprob_gains.parquet",
        effectivity=f"{ANALYSIS}/effectivity.parquet",
        by_epoch=report(
            f"{ANALYSIS}/logprob_gain_by_epoch.csv",
            caption="../report/logprob_dynamics_table.rst",
            category="Measurements",
            subcategory="Log-probability dynamics",
        ),
        threshold=report(
            f"{ANALYSIS}/logprob_threshold.json",
            caption="../report/logprob_threshold.rst",
            category="Measurements",
            subcategory="Log-probability dynamics",
        ),
        png=report(
            f"{FIGURES}/logprob_dynamics.png",
            caption="../report/logprob_dynamics.rst",
            category="Measurements",
            subcategory="Log-probability dynamics",
        ),
        svg=f"{FIGURES}/logprob_dynamics.svg",
    log:
        f"{MODEL_LOGS}/logprob_dynamics.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        seed_epochs=ALL_EPOCHS,
    script:
        "../scripts/logprob_dynamics.py"


rule forgetting_exposure:
    """Change in log-probability against optimizer steps since each fact's last exposure."""
    input:
        run=f"{ANALYSIS}/run.json",
        evals=[
            eval_path("{model}", "main", s, e, WITHDRAW_AFTER) for s, e in ALL_EPOCHS
        ],
        checkpoints=[
            checkpoint_path("{model}", "main", s, e, WITHDRAW_AFTER)
            for s, e in TRAINED_EPOCHS
        ],
    output:
        table=f"{ANALYSIS}/forgetting_exposure.parquet",
        fit=report(
            f"{ANALYSIS}/forgetting_exposure_fit.json",
            caption="../report/forgetting_exposure_fit.rst",
            category="Measurements",
            subcategory="Forgetting",
        ),
        png=report(
            f"{FIGURES}/forgetting_exposure.png",
            caption="../report/forgetting_exposure.rst",
            category="Measurements",
            subcategory="Forgetting",
        ),
        svg=f"{FIGURES}/forgetting_exposure.svg",
    log:
        f"{MODEL_LOGS}/forgetting_exposure.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        seed_epochs=TRAINED_EPOCHS,
        eval_seed_epochs=ALL_EPOCHS,
    script:
        "../scripts/forgetting_exposure.py"


rule reverse_probe:
    """Negative control: the label given the identifier at the first and last epoch."""
    input:
        model_inputs("main", REVERSE_EPOCHS),
        run=f"{ANALYSIS}/run.json",
        pairs="results/data/pairs.parquet",
        evals=[
            eval_path("{model}", "main", s, e, WITHDRAW_AFTER)
            for s, e in REVERSE_EPOCHS
        ],
    output:
        scores=f"{ANALYSIS}/reverse_probe.parquet",
        recall=report(
            f"{ANALYSIS}/reverse_probe_recall.csv",
            caption="../report/reverse_probe_table.rst",
            category="Measurements",
            subcategory="Reverse probe",
        ),
        png=report(
            f"{FIGURES}/reverse_probe.png",
            caption="../report/reverse_probe.rst",
            category="Measurements",
            subcategory="Reverse probe",
        ),
        svg=f"{FIGURES}/reverse_probe.svg",
    log:
        f"{MODEL_LOGS}/reverse_probe.log",
    benchmark:
        f"{MODEL_BENCH}/reverse_probe.tsv"
    priority: PRIORITY["long"]
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=model_gpus,
        batch_size=config["evaluate"]["batch_size"],
        device=model_device,
        placement=model_placement,
    params:
        seed_epochs=REVERSE_EPOCHS,
        adapters=lambda w: adapter_dirs(w.model, "main", REVERSE_EPOCHS),
        model=model_load,
        # a dict: Snakemake would read a string's {ontology} as a wildcard
        prompts={
            "system_message": config["prompts"]["system_message"],
            "template": MEASUREMENTS["reverse_probe"]["template"],
        },
        sampling=SAMPLING,
    script:
        "../scripts/reverse_probe.py"


rule linear_probe:
    """Linear probes of one identifier digit from each layer's hidden state, per probed epoch."""
    input:
        model_inputs("main", PROBE_EPOCHS),
        run=f"{ANALYSIS}/run.json",
        pairs="results/data/pairs.parquet",
    output:
        table=report(
            f"{ANALYSIS}/linear_probe.parquet",
            caption="../report/linear_probe_table.rst",
            category="Measurements",
            subcategory="Linear probing",
        ),
        png=report(
            f"{FIGURES}/linear_probe.png",
            caption="../report/linear_probe.rst",
            category="Measurements",
            subcategory="Linear probing",
        ),
        svg=f"{FIGURES}/linear_probe.svg",
    log:
        f"{MODEL_LOGS}/linear_probe.log",
    benchmark:
        f"{MODEL_BENCH}/linear_probe.tsv"
    priority: PRIORITY["long"]
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=model_gpus,
        batch_size=config["evaluate"]["batch_size"],
        device=model_device,
        placement=model_placement,
    params:
        seed_epochs=PROBE_EPOCHS,
        adapters=lambda w: adapter_dirs(w.model, "main", PROBE_EPOCHS),
        model=model_load,
        prompts=prompts("system_message", "templates", "evaluation_template"),
        digit_position=MEASUREMENTS["linear_probe"]["digit_position"],
        C=MEASUREMENTS["linear_probe"]["C"],
        seed=config["seed"],
    script:
        "../scripts/linear_probe.py"


rule withdrawn_facts:
    """The trained facts that the withdrawal arm stops training after `after_epoch` (seeded per replicate)."""
    input:
        pairs="results/data/pairs.parquet",
    output:
        f"{MODEL_ROOT}/arms/withdrawal/seed{{seed}}/withdrawn.parquet",
    log:
        f"{MODEL_LOGS}/withdrawn_facts/seed{{seed}}.log",
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        fraction=MEASUREMENTS["withdrawal"]["fraction"],
        after_epoch=WITHDRAW_AFTER,
        seed=config["seed"],
    script:
        "../scripts/withdrawn_facts.py"


rule retainability:
    """Retainability of the withdrawn facts and its power-law fit against epochs since withdrawal."""
    input:
        run=f"{ANALYSIS}/run.json",
        withdrawn=expand(
            f"{MODEL_ROOT}/arms/withdrawal/seed{{seed}}/withdrawn.parquet",
            seed=SEEDS,
            allow_missing=True,
        ),
        evals=[
            eval_path("{model}", "withdrawal", s, e, WITHDRAW_AFTER)
            for s, e in ALL_EPOCHS
        ],
    output:
        table=f"{ANALYSIS}/retainability.parquet",
        curve=report(
            f"{ANALYSIS}/retainability_curve.csv",
            caption="../report/retainability_table.rst",
            category="Measurements",
            subcategory="Forgetting",
        ),
        fit=report(
            f"{ANALYSIS}/retainability_fit.json",
            caption="../report/retainability_fit.rst",
            category="Measurements",
            subcategory="Forgetting",
        ),
        png=report(
            f"{FIGURES}/retainability.png",
            caption="../report/retainability.rst",
            category="Measurements",
            subcategory="Forgetting",
        ),
        svg=f"{FIGURES}/retainability.svg",
    log:
        f"{MODEL_LOGS}/retainability.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        seeds=SEEDS,
        seed_epochs=ALL_EPOCHS,
        after_epoch=WITHDRAW_AFTER,
        min_gain=MEASUREMENTS["withdrawal"]["min_gain"],
        iqr_factor=MEASUREMENTS["withdrawal"]["iqr_factor"],
    script:
        "../scripts/retainability.py"


rule heldout_probe:
    """A run's trained facts scored on the held-out paraphrase templates (semantic probe)."""
    input:
        model_inputs(lambda w: arm_of(w.run), semantic_epochs),
        pairs="results/data/pairs.parquet",
    output:
        f"{MODEL_ROOT}/{{run}}/seed{{seed}}/probes/heldout_templates.parquet",
    log:
        f"{MODEL_LOGS}/heldout_probe/{{run}}/seed{{seed}}.log",
    benchmark:
        f"{MODEL_BENCH}/heldout_probe/{{run}}/seed{{seed}}.tsv"
    wildcard_constraints:
        run="runs|arms/[a-z_]+",
        seed=r"\d+",
    priority: PRIORITY["long"]
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=model_gpus,
        batch_size=config["evaluate"]["batch_size"],
        device=model_device,
        placement=model_placement,
    params:
        seed_epochs=semantic_epochs,
        adapters=lambda w: adapter_dirs(w.model, arm_of(w.run), semantic_epochs(w)),
        model=model_load,
        # a dict: Snakemake would read a string's {ontology} as a wildcard
        prompts={
            "system_message": config["prompts"]["system_message"],
            "templates": MEASUREMENTS["augmentation"]["heldout_templates"],
        },
        sampling=SAMPLING,
    script:
        "../scripts/heldout_probe.py"


rule augmentation:
    """Memorization vs semantic recall per epoch for each template mode, and acquisition Cox models per arm."""
    input:
        run=f"{ANALYSIS}/run.json",
        pairs="results/data/pairs.parquet",
        covariates="results/data/covariates.parquet",
        baseline=f"{MODEL_ROOT}/baseline.parquet",
        probes=[
            f"{MODEL_ROOT}/{run_dir(a)}/seed{s}/probes/heldout_templates.parquet"
            for a in AUGMENTATION_ARMS
            for s in SEEDS
        ],
        evals=[
            eval_path("{model}", a, s, e, WITHDRAW_AFTER)
            for a in AUGMENTATION_ARMS
            for s, e in ALL_EPOCHS
        ],
    output:
        gap=report(
            f"{ANALYSIS}/augmentation_gap.csv",
            caption="../report/augmentation_gap.rst",
            category="Measurements",
            subcategory="Augmentation",
        ),
        cox=report(
            f"{ANALYSIS}/augmentation_cox.csv",
            caption="../report/augmentation_cox.rst",
            category="Measurements",
            subcategory="Augmentation",
        ),
        models=f"{ANALYSIS}/augmentation_cox.json",
        png=report(
            f"{FIGURES}/augmentation.png",
            caption="../report/augmentation.rst",
            category="Measurements",
            subcategory="Augmentation",
        ),
        svg=f"{FIGURES}/augmentation.svg",
    log:
        f"{MODEL_LOGS}/augmentation.log",
    priority: PRIORITY["analysis"]
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        probe_arm_seeds=[(a, s) for a in AUGMENTATION_ARMS for s in SEEDS],
        modes={
            a: template_mode(a, config["prompts"]["train_templates"])
            for a in AUGMENTATION_ARMS
        },
        eval_arm_seed_epochs=[
            (a, s, e) for a in AUGMENTATION_ARMS for s, e in ALL_EPOCHS
        ],
        analysis={
            k: config["analysis"][k]
            for k in ("covariates", "stable_k", "cox_penalizer", "ph_alpha")
        },
    script:
        "../scripts/augmentation.py"
