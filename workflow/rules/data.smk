"""data stage of the DAG: fetch inputs, parse ontologies, count annotations,
draw the pairs, count identifier/label frequencies, join the covariates."""


rule fetch:
    """One configured source (local path or URL) -> resources/downloads/, with provenance."""
    input:
        lambda w: config["sources"][w.source].get("path", []),
    output:
        data="resources/downloads/{source}",
        provenance="resources/downloads/{source}.provenance.json",
    log:
        f"{LOGS}/fetch/{{source}}.log",
    wildcard_constraints:
        source="|".join(config["sources"]),
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=500,
        runtime=30,
        # a cap, not a reason to fetch again: a resource, which Snakemake never compares with the last run
        download_max_mb=config["fetch"]["max_megabytes"],
    params:
        spec=lambda w: fetch_spec(w.source),
    script:
        "../scripts/fetch.py"


rule parse_ontology:
    """All configured OBO files -> one table of non-obsolete terms."""
    input:
        **ontology_sources("obo"),
    output:
        "results/data/terms.parquet",
    log:
        f"{LOGS}/parse_ontology.log",
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        sources=configured_sources("obo"),
    script:
        "../scripts/parse_ontology.py"


rule annotation_counts:
    """HPOA / GAF files -> direct and is_a-propagated annotation counts per term."""
    input:
        obo=list(ontology_sources("obo").values()),
        annotations=list(ontology_sources("annotations").values()),
    output:
        counts="results/data/annotations.parquet",
        report="results/data/annotations_report.json",
    log:
        f"{LOGS}/annotation_counts.log",
    benchmark:
        f"{BENCH}/annotation_counts.tsv"
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=8000,
        runtime=30,
        # when to warn, not what to count: a resource, which Snakemake never compares with the last run
        max_unannotated_percent=config["annotations"]["max_unannotated_percent"],
    params:
        ontologies={
            name: {
                "annotation_format": spec["annotation_format"],
                "namespace": spec["namespace"],
                "remap_obsolete": config["sources"][spec["annotations"]].get(
                    "remap_obsolete", False
                ),
            }
            for name, spec in config["ontologies"].items()
        },
        sources=configured_sources("obo", "annotations"),
    script:
        "../scripts/annotation_counts.py"


rule build_pairs:
    """Seeded, stratified sample of term -> identifier pairs with the train/withheld split."""
    input:
        terms="results/data/terms.parquet",
        annotations="results/data/annotations.parquet",
    output:
        "results/data/pairs.parquet",
    log:
        f"{LOGS}/build_pairs.log",
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        ontologies={
            name: {key: spec[key] for key in ("namespace", "train", "withheld")}
            for name, spec in config["ontologies"].items()
        },
        pairs=config["pairs"],
        seed=config["seed"],
    script:
        "../scripts/build_pairs.py"


rule literature_frequency:
    """How often each pair's identifier and label occur (a local corpus, or PubMed Central)."""
    input:
        pairs="results/data/pairs.parquet",
        corpus=lambda w: (
            config["frequency"]["corpus"]
            if config["frequency"]["source"] == "corpus"
            else []
        ),
    output:
        "results/data/frequency.parquet",
    log:
        f"{LOGS}/literature_frequency.log",
    benchmark:
        f"{BENCH}/literature_frequency.tsv"
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
        # how politely PubMed is asked and where its answers are cached: never a reason to count again
        pubmed=pubmed_manners(),
    params:
        source=config["frequency"]["source"],
        base_url=pubmed_setting("base_url"),
    script:
        "../scripts/literature_frequency.py"


rule covariates:
    """One row per pair with every covariate of the analysis."""
    input:
        pairs="results/data/pairs.parquet",
        terms="results/data/terms.parquet",
        annotations="results/data/annotations.parquet",
        frequency="results/data/frequency.parquet",
    output:
        "results/data/covariates.parquet",
    log:
        f"{LOGS}/covariates.log",
    conda:
        "../../envs/cpu.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/covariates.py"
