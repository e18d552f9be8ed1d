"""model stage of the DAG (see DESIGN.md)."""

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


# --- baseline, fine-tuning, evaluation ---


# {run}: `runs` (the main run) or `arms/{arm}` (an arm of workflow/rules/seeds.smk, same rules)
wildcard_constraints:
    seed=r"\d+",
    epoch=r"\d\d",
    run=r"runs|arms/[a-z_]+",


rule baseline:
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


rule finetune:
    input:
        pairs="results/data/pairs.parquet",
        model=base_model_input(),
        previous=previous_epoch,
        withdrawn=withdrawn_list,
    output:
        directory("results/{run}/seed{seed}/finetune/epoch_{epoch}"),
    log:
        f"{LOGS}/finetune/{{run}}/seed{{seed}}_epoch_{{epoch}}.log",
    benchmark:
        f"{BENCH}/finetune/{{run}}/seed{{seed}}_epoch_{{epoch}}.tsv"
    conda:
        "../../envs/gpu.yaml"
    # one thread: a per-epoch job is mostly imports and model load, so on a small machine evaluate e
    # and finetune e+1 side by side beat two threads each
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=1,
    params:
        model=config["model"],
        prompts=config["prompts"],
        finetune=config["finetune"],
        withdraw_after=WITHDRAW_AFTER,
    script:
        "../scripts/finetune.py"


rule evaluate:
    input:
        pairs="results/data/pairs.parquet",
        model=base_model_input(),
        adapter=evaluated_adapter,
    output:
        "results/{run}/seed{seed}/eval/epoch_{epoch}.parquet",
    log:
        f"{LOGS}/evaluate/{{run}}/seed{{seed}}_epoch_{{epoch}}.log",
    benchmark:
        f"{BENCH}/evaluate/{{run}}/seed{{seed}}_epoch_{{epoch}}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
        gpu=1,
    params:
        model=config["model"],
        prompts=config["prompts"],
        # only the sampling settings: a change of baseline.samples must not redo every epoch
        sampling={k: config["baseline"][k] for k in ("temperature", "top_k", "top_p")},
        batch_size=config["evaluate"]["batch_size"],
        crosscheck_facts=config["evaluate"]["crosscheck_facts"],
        seed=config["seed"],
    script:
        "../scripts/evaluate.py"
