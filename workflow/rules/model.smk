"""model stage of the DAG: the embedded base model (synthetic corpus, pretraining), the baseline
and the training runs (fine-tuning through every epoch; the evaluation of every epoch).
"""

# --- embedded base model ---
# The synthetic corpus is also a frequency source, so it exists wherever its settings do, shared by every
# model; a pretrained model (one per embedded model) only when the study runs on it (a user's own model
# is never an output).
if "embedded_model" in config:

    rule synthetic_corpus:
        """The synthetic literature: every fact planted a seeded number of times, in several phrasings."""
        input:
            pairs="results/data/pairs.parquet",
            terms="results/data/terms.parquet",
            annotations="results/data/annotations.parquet",
        output:
            corpus="results/corpus/corpus.txt",
            counts="results/corpus/planted_counts.parquet",
        log:
            f"{LOGS}/synthetic_corpus.log",
        conda:
            # QA documents are rendered with the chat template (transformers)
            "../../envs/gpu.yaml"
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            corpus=config["embedded_model"]["corpus"],
            prompts=prompts("system_message", "templates"),
            seed=config["seed"],
        script:
            "../scripts/synthetic_corpus.py"


if PRETRAINED:

    rule pretrain_base:
        """Tokenizer and tiny Llama trained from scratch on the corpus, saved as a Hugging Face model."""
        input:
            corpus="results/corpus/corpus.txt",
        output:
            directory(embedded_dir("{model}")),
        log:
            f"{MODEL_LOGS}/pretrain_base.log",
        benchmark:
            f"{MODEL_BENCH}/pretrain_base.tsv"
        wildcard_constraints:
            model="|".join(PRETRAINED),
        conda:
            "../../envs/gpu.yaml"
        threads: 2
        resources:
            mem_mb=4000,
            runtime=30,
            gpu=model_gpus,
        params:
            # the corpus settings shape the corpus, an input here
            pretrain=lambda w: pretraining(config, w.model),
            seed=config["seed"],
        script:
            "../scripts/pretrain_base.py"


# --- baseline, training runs (fine-tuning and evaluation) ---


wildcard_constraints:
    seed=r"\d+",
    # a model's short name (config check: letters, digits, '_' and '-')
    model="|".join(MODEL_NAMES),


rule baseline:
    """The base model on every fact: greedy correctness, exact sampling probability, Monte Carlo hits, knowledge class."""
    input:
        pairs="results/data/pairs.parquet",
        model=base_model_input,
    output:
        f"{MODEL_ROOT}/baseline.parquet",
    log:
        f"{MODEL_LOGS}/baseline.log",
    benchmark:
        f"{MODEL_BENCH}/baseline.tsv"
    priority: PRIORITY["scoring"]
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=model_gpus,
        batch_size=config["baseline"]["batch_size"],
        device=model_device,
        placement=model_placement,
    params:
        model=model_load,
        prompts=EVALUATION_PROMPTS,
        baseline={k: v for k, v in config["baseline"].items() if k != "batch_size"},
        crosscheck_facts=config["evaluate"]["crosscheck_facts"],
        answer=ANSWER,
        seed=config["seed"],
    script:
        "../scripts/baseline.py"


# A training run is two jobs per seed: `finetune_{run}` trains every epoch with the base model loaded
# once (per-epoch jobs would load it 20 times: minutes per load at 8B), and `evaluate_{run}` scores every
# epoch with the base model loaded once and the adapters swapped on it. A scoring change thus reruns
# evaluation only. One rule pair per run (main and each switched-on arm): they differ only in which
# epochs they own, which an output list cannot take from a wildcard.
for arm in ["main", *ARMS]:
    trained, evaluated = own_epochs(arm, EPOCHS, WITHDRAW_AFTER)
    run = run_dir(arm)
    checkpoints = [
        f"{MODEL_ROOT}/{run}/seed{{seed}}/finetune/epoch_{e:02d}" for e in trained
    ]

    rule:
        """One training run of one seed: LoRA fine-tuning through every epoch, resumable after a kill."""
        name:
            f"finetune_{arm}"
        input:
            pairs="results/data/pairs.parquet",
            model=base_model_input,
            # where the run starts: fresh adapters, or main's state at the epoch the arm leaves it
            start=checkpoint_path(
                "{model}", arm, "{seed}", trained[0] - 1, WITHDRAW_AFTER
            )
            or [],
            withdrawn=(
                f"{MODEL_ROOT}/arms/withdrawal/seed{{seed}}/withdrawn.parquet"
                if arm == "withdrawal"
                else []
            ),
        output:
            checkpoints=[directory(path) for path in checkpoints],
        log:
            f"{MODEL_LOGS}/finetune/{run}/seed{{seed}}.log",
        benchmark:
            f"{MODEL_BENCH}/finetune/{run}/seed{{seed}}.tsv"
        priority: PRIORITY["training"]
        conda:
            "../../envs/gpu.yaml"
        threads: 2
        resources:
            mem_mb=4000,
            runtime=240,
            gpu=model_gpus,
            device=model_device,
            placement=model_placement,
            resume=resume_state(run),
        params:
            epochs=trained,
            model=model_load,
            prompts=prompts("system_message", "templates"),
            train_templates=template_mode(arm, config["prompts"]["train_templates"]),
            # the replicate list is not a setting of one run: adding a seed must not redo the others
            finetune={k: v for k, v in config["finetune"].items() if k != "replicates"},
            # only the withdrawal arm's: moving it must not redo the other runs
            withdraw_after=WITHDRAW_AFTER if arm == "withdrawal" else None,
        script:
            "../scripts/finetune.py"

    rule:
        """One training run of one seed scored at each epoch, the adapters swapped on one base model."""
        name:
            f"evaluate_{arm}"
        input:
            pairs="results/data/pairs.parquet",
            model=base_model_input,
            checkpoints=checkpoints,
        output:
            evals=[
                f"{MODEL_ROOT}/{run}/seed{{seed}}/eval/epoch_{e:02d}.parquet"
                for e in evaluated
            ],
        log:
            f"{MODEL_LOGS}/evaluate/{run}/seed{{seed}}.log",
        benchmark:
            f"{MODEL_BENCH}/evaluate/{run}/seed{{seed}}.tsv"
        priority: PRIORITY["scoring"]
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
            epochs=evaluated,
            model=model_load,
            # every run is scored on the main run's evaluation template, so arms compare with main
            prompts=EVALUATION_PROMPTS,
            sampling=SAMPLING,
            crosscheck_facts=config["evaluate"]["crosscheck_facts"],
            answer=ANSWER,
            seed=config["seed"],
        script:
            "../scripts/evaluate.py"
