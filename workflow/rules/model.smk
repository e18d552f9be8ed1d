"""model stage of the DAG: the embedded base model (synthetic corpus, pretraining), the baseline
and the training runs (fine-tuning with an evaluation after every epoch)."""

# --- embedded base model ---
# Only the embedded study pretrains its base model; otherwise name_or_path is a hub model.
if config["model"]["pretrain"]:

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
            corpus=config["model"]["pretrain"]["corpus"],
            prompts=config["prompts"],
            seed=config["seed"],
        script:
            "../scripts/synthetic_corpus.py"

    rule pretrain_base:
        """Tokenizer and tiny Llama trained from scratch on the corpus, saved as a Hugging Face model."""
        input:
            corpus="results/corpus/corpus.txt",
        output:
            directory(config["model"]["name_or_path"]),
        log:
            f"{LOGS}/pretrain_base.log",
        benchmark:
            f"{BENCH}/pretrain_base.tsv"
        conda:
            "../../envs/gpu.yaml"
        threads: 2
        resources:
            mem_mb=4000,
            runtime=30,
            gpu=1,
        params:
            pretrain=config["model"]["pretrain"],
            seed=config["seed"],
        script:
            "../scripts/pretrain_base.py"


# --- baseline, training runs (fine-tuning and evaluation) ---


wildcard_constraints:
    seed=r"\d+",


rule baseline:
    """The base model on every fact: greedy correctness, exact sampling probability, Monte Carlo hits, knowledge class."""
    input:
        pairs="results/data/pairs.parquet",
        model=base_model_input(),
    output:
        "results/baseline.parquet",
    log:
        f"{LOGS}/baseline.log",
    benchmark:
        f"{BENCH}/baseline.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=1,
    params:
        model=config["model"],
        prompts=config["prompts"],
        baseline=config["baseline"],
        crosscheck_facts=config["evaluate"]["crosscheck_facts"],
        seed=config["seed"],
    script:
        "../scripts/baseline.py"


# One job per run and seed trains every epoch and scores each right away, with the base model loaded
# once: per-epoch jobs would load it 41 times (minutes per load at 8B, most of each job on a CPU).
# The per-epoch outputs stay; a run is rerun as a whole. One rule per run (main and each switched-on
# arm): they differ only in which epochs they own, which an output list cannot take from a wildcard.
for arm in ["main", *ARMS]:
    trained, evaluated = own_epochs(arm, EPOCHS, WITHDRAW_AFTER)
    run = run_dir(arm)

    rule:
        """One training run of one seed: LoRA fine-tuning with an evaluation of every fact after each epoch."""
        name:
            f"train_{arm}"
        input:
            pairs="results/data/pairs.parquet",
            model=base_model_input(),
            # where the run starts: fresh adapters, or main's state at the epoch the arm leaves it
            start=checkpoint_path(arm, "{seed}", trained[0] - 1, WITHDRAW_AFTER) or [],
            withdrawn=(
                "results/arms/withdrawal/seed{seed}/withdrawn.parquet"
                if arm == "withdrawal"
                else []
            ),
        output:
            checkpoints=[
                directory(f"results/{run}/seed{{seed}}/finetune/epoch_{e:02d}")
                for e in trained
            ],
            evals=[
                f"results/{run}/seed{{seed}}/eval/epoch_{e:02d}.parquet"
                for e in evaluated
            ],
        log:
            f"{LOGS}/train/{run}/seed{{seed}}.log",
        benchmark:
            f"{BENCH}/train/{run}/seed{{seed}}.tsv"
        conda:
            "../../envs/gpu.yaml"
        threads: 2
        resources:
            mem_mb=4000,
            runtime=240,
            gpu=1,
        params:
            run=run,
            epochs=trained,
            evaluate_base=0 in evaluated,
            model=config["model"],
            prompts=config["prompts"],
            finetune=config["finetune"],
            # only the withdrawal arm's: moving it must not redo the other runs
            withdraw_after=WITHDRAW_AFTER if arm == "withdrawal" else None,
            # only the sampling settings: a change of baseline.samples must not redo the runs
            sampling={
                k: config["baseline"][k] for k in ("temperature", "top_k", "top_p")
            },
            batch_size=config["evaluate"]["batch_size"],
            crosscheck_facts=config["evaluate"]["crosscheck_facts"],
            seed=config["seed"],
        script:
            "../scripts/train_run.py"
