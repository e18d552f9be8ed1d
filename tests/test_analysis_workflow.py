"""The analysis rules through Snakemake on hand-made input tables, then `snakemake --report`."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from browser import rendered_dom, screenshot
from conftest import run_snakemake, table_violations
from latentfacts.analysis.survival import ENDPOINTS

SEEDS, EPOCHS = [0, 1], 5
ANALYSIS_RULES = [
    "trajectories",
    "survival_tables",
    "cox",
    "discrete_time",
    "hazard_ratio_tables",
    "kaplan_meier",
    "effects",
    "effect_table",
    "km_contrasts",
    "degradation_exposure",
    "dynamics",
    "run_facts",
    "figures",
    "summary",
    "report_pages",
]
SOURCES = ["go_annotations", "go_obo", "hp_obo", "hpo_annotations"]
CATEGORIES = ["Acquisition", "Generalization", "Degradation", "Learning dynamics", "Data and model provenance"]

# The tables the analysis stage writes (workflow/schemas/tables/).
ANALYSIS_TABLES = [
    "trajectories",
    "survival",
    "cox_fit",
    "ph",
    "discrete_fit",
    "hazard_ratios",
    "models",
    "ph_checks",
    "km_curves",
    "km_logrank",
    "km_rmst",
    "dynamics_curves",
    "dynamics_summary",
    "effects_endpoint",
    "effects",
    "km_contrasts",
    "degradation_logrank",
    "degradation_curves",
]


def hand_made_study(rng_seed=0):
    """pairs, covariates, baseline and {(seed, epoch): eval}: latent facts learn faster, some facts degrade."""
    rng = np.random.default_rng(rng_seed)
    specs = [("HPO", "train", 60), ("GO", "train", 30), ("GO", "withheld", 30)]
    rows = [(ontology, split) for ontology, split, count in specs for _ in range(count)]
    facts = pd.DataFrame(
        [(f"{'HP' if ontology == 'HPO' else 'GO'}:{i:07d}", ontology, split) for i, (ontology, split) in enumerate(rows)],
        columns=["fact_id", "ontology", "split"],
    )
    n = len(facts)
    pairs = facts.assign(id=facts["fact_id"], label=[f"term {i}" for i in range(n)], bin=np.arange(n) % 4)
    pairs = pairs[["fact_id", "ontology", "id", "label", "split", "bin"]]
    knowledge = rng.choice(["known", "latent", "unknown"], size=n, p=[0.15, 0.3, 0.55])
    baseline = pd.DataFrame({"fact_id": facts["fact_id"], "correct": knowledge == "known",
                             "logprob": -1.0, "p_sample": np.where(knowledge == "latent", 0.2, 0.0),
                             "first_token_rank": 0, "mc_samples": 20,
                             "mc_hits": np.where(knowledge == "latent", 4, 0), "knowledge": knowledge})  # fmt: skip
    covariates = pd.DataFrame({"fact_id": facts["fact_id"], "ontology": facts["ontology"], "split": facts["split"],
                               "bin": pairs["bin"], "id_frequency": rng.integers(0, 12, n),
                               "label_frequency": rng.integers(0, 12, n), "n_annotations": rng.integers(0, 50, n),
                               "n_annotations_propagated": rng.integers(50, 90, n), "depth": rng.integers(2, 9, n),
                               "n_parents": 1, "n_synonyms": 0, "label_tokens": 2, "label_chars": 6,
                               "id_leading_zeros": 3})  # fmt: skip
    evals = {}
    trained = (facts["split"] == "train").to_numpy()
    for seed in SEEDS:
        learned_at = np.where(knowledge == "latent", rng.geometric(0.5, n), rng.geometric(0.2, n))
        learned_at = np.where(trained, learned_at, rng.geometric(0.05, n))
        forgets_at = np.where(rng.random(n) < 0.3, rng.integers(1, EPOCHS + 1, n), EPOCHS + 1)
        for epoch in range(EPOCHS + 1):
            correct = np.where(knowledge == "known", epoch < forgets_at, (epoch > 0) & (epoch >= learned_at))
            evals[(seed, epoch)] = pd.DataFrame({"fact_id": facts["fact_id"], "epoch": epoch, "correct": correct,
                                                 "logprob": -1.0, "p_sample": 0.5, "first_token_rank": 0})  # fmt: skip
    return pairs, covariates, baseline, evals


def place_inputs(project):
    """Write the hand-made tables where the model layer would, and a config for their seeds and epochs."""
    pairs, covariates, baseline, evals = hand_made_study()
    (project / "results/data").mkdir(parents=True)
    (project / "results/models/default").mkdir(parents=True)
    pairs.to_parquet(project / "results/data/pairs.parquet", index=False)
    covariates.to_parquet(project / "results/data/covariates.parquet", index=False)
    baseline.to_parquet(project / "results/models/default/baseline.parquet", index=False)
    for (seed, epoch), table in evals.items():
        path = project / f"results/models/default/runs/seed{seed}/eval/epoch_{epoch:02d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(path, index=False)
    # what the data and model stages leave for run.json: provenance records and the pretraining statistics
    for source in SOURCES:
        record = {"source": f"resources/embedded/{source}", "sha256": f"{source:0<64}", "bytes": 1,
                  "data_version": "releases/2026-01-01" if source.endswith("obo") else None}  # fmt: skip
        path = project / f"resources/downloads/{source}.provenance.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        header = "!gaf-version: 2.1\n!Generated: 2019-01-14 09:47\n" if source == "go_annotations" else "#version: 2025-01-16\n"
        (path.parent / source).write_text(header)
    # the annotation counting's report, with a warning the summary must repeat
    report = {"HPO": {"warning": None}, "GO": {"warning": "92% of candidate terms have no annotation"}}
    (project / "results/data/annotations_report.json").write_text(json.dumps(report))
    (project / "results/models/default/base_model").mkdir(parents=True)
    (project / "results/models/default/base_model/pretrain_stats.json").write_text(json.dumps({"parameters": 123456}))
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    config["finetune"].update(replicates=SEEDS, epochs=EPOCHS)
    (project / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.workflow
def test_analysis_rules_run_and_report_builds(project):
    place_inputs(project)
    targets = ["results/models/default/summary.md", "results/models/default/figures/recall.png", "results/models/default/figures/degradation.svg",
               "results/models/default/analysis/km_rmst.csv", "results/models/default/report/summary.html", "results/models/default/report/acquisition.html"]  # fmt: skip
    run_snakemake(project, "--allowed-rules", *ANALYSIS_RULES, "--", *targets)
    analysis = project / "results/models/default/analysis"
    # trajectories; per endpoint a survival table and the cox, ph, discrete and effects tables; 3 report
    # tables, 3 Kaplan-Meier tables, 2 dynamics tables, the effects and contrasts tables, 2 degradation tables
    assert table_violations(project, ANALYSIS_TABLES) == ({}, 1 + 5 * len(ENDPOINTS) + 12)
    trajectories = pd.read_parquet(analysis / "trajectories.parquet")
    assert len(trajectories) == len(SEEDS) * (EPOCHS + 1) * 120
    acquisition = pd.read_parquet(analysis / "survival_acquisition.parquet")
    assert set(acquisition["seed"]) == set(SEEDS) and (acquisition["duration"] <= EPOCHS).all()
    assert {"latent", "log1p_id_frequency", "ontology_GO"} <= set(acquisition.columns)
    cox = pd.read_parquet(analysis / "cox_acquisition.parquet").set_index("covariate")
    assert cox.loc["latent", "hr"] > 1  # planted: latent facts are learned faster
    with open(analysis / "cox_generalization.json") as stream:
        generalization = json.load(stream)
    assert "ontology_GO" in generalization["dropped"] and generalization["strata"] == ["seed"]
    hazard_ratios = pd.read_csv(analysis / "hazard_ratios.csv")
    assert set(hazard_ratios["model"]) == {"cox", "discrete"}
    assert "seen" in set(hazard_ratios.loc[hazard_ratios["endpoint"] == "degradation", "covariate"])
    effects = pd.read_csv(analysis / "effects.csv", dtype={"seed": str})
    assert set(effects["seed"]) == {"pooled", "0", "1"}
    # the default bands adapted to 5 epochs: 1-4 and 5 (the last band ends at the horizon)
    bands = effects[(effects["endpoint"] == "acquisition") & (effects["model"] == "cox_band")]
    assert list(dict.fromkeys(bands["band"])) == ["1-4", "5-5"]
    assert set(effects.loc[effects["model"] == "cox_log10_p_sample", "endpoint"]) == {"acquisition", "acquisition_stable", "generalization"}
    contrasts = pd.read_csv(analysis / "km_contrasts.csv", dtype={"seed": str})
    difference = contrasts[(contrasts["measure"] == "rmst_difference") & (contrasts["seed"] == "pooled")
                           & (contrasts["endpoint"] == "acquisition")].iloc[0]  # fmt: skip
    assert difference["ci_upper"] < 0  # planted: latent facts are learned sooner
    logrank = pd.read_csv(analysis / "degradation_logrank.csv", dtype={"seed": str})
    assert set(logrank["endpoint"]) == {"degradation", "degradation_persistent"}
    assert logrank.set_index(["endpoint", "seed"]).loc[("degradation", "pooled"), "variance"] == "robust, clustered by fact"
    summary = (project / "results/models/default/summary.md").read_text()
    assert "HPO baseline greedy recall" in summary and "2.8% (22/800)" in summary
    assert "| measure | pooled (95% CI) | seed 0 | seed 1 | per-seed range |" in summary
    assert "acquisition: latent HR, epochs 1-4" in summary and "RMST difference latent - unknown" in summary
    assert "degradation_persistent: log-rank trained vs withheld" in summary
    assert "embedded Llama pretrained by the workflow, 123,456 parameters" in summary
    assert "hp_obo releases/2026-01-01" in summary and "go_annotations 2019-01-14 09:47" in summary and "**Seeds:** 0, 1" in summary and "**Scoring:**" in summary
    assert "**Data warnings:** GO: 92% of candidate terms have no annotation" in summary
    assert "## How to read" in summary and "`degradation.png`" in summary and "Facts at risk (seed x fact)" in summary
    for name in ["recall", "acquisition", "generalization", "degradation", "dynamics"]:
        assert (project / f"results/models/default/figures/{name}.png").stat().st_size > 0

    run_snakemake(project, "--allowed-rules", *ANALYSIS_RULES, "--report", "results/report.html", "--", *targets)
    dom = rendered_dom(project / "results/report.html")
    # the first page, as rendered: the run and the headline table as an HTML table, not a download
    first_page = dom[dom.index('<div class="latentfacts-summary">') :]
    table = first_page[first_page.index("<table") : first_page.index("</table>")]
    assert "HPO baseline greedy recall" in table and "acquisition: latent HR" in table
    assert "<td" in table and "123,456 parameters" in first_page
    menu = [line for line in dom.split(">") if any(line.startswith(c + "<") for c in CATEGORIES)]
    assert sorted(line.split("<")[0] for line in menu) == sorted(CATEGORIES)
    shot = project / "results/report_first_page.png"
    screenshot(project / "results/report.html", shot)
    assert shot.stat().st_size > 20_000


@pytest.mark.workflow
def test_bad_eval_table_fails_naming_the_file_and_leaves_no_output(project):
    place_inputs(project)
    broken = project / "results/models/default/runs/seed1/eval/epoch_03.parquet"
    pd.read_parquet(broken).drop(columns="logprob").to_parquet(broken, index=False)
    proc = run_snakemake(project, "--allowed-rules", "trajectories", "--", "results/models/default/analysis/trajectories.parquet", check=False)
    assert proc.returncode != 0
    log = (project / "results/models/default/logs/analysis/trajectories.log").read_text()
    assert "seed1/eval/epoch_03.parquet: missing column(s) ['logprob']" in log
    assert not (project / "results/models/default/analysis/trajectories.parquet").exists()


@pytest.mark.workflow
def test_truncated_eval_table_fails_naming_the_file(project):
    place_inputs(project)
    broken = project / "results/models/default/runs/seed0/eval/epoch_02.parquet"
    broken.write_bytes(broken.read_bytes()[:-100])
    proc = run_snakemake(project, "--allowed-rules", "trajectories", "--", "results/models/default/analysis/trajectories.parquet", check=False)
    assert proc.returncode != 0
    log = (project / "results/models/default/logs/analysis/trajectories.log").read_text()
    assert "seed0/eval/epoch_02.parquet: not a readable parquet table" in log
    assert not (project / "results/models/default/analysis/trajectories.parquet").exists()


@pytest.mark.workflow
def test_stable_k_beyond_the_epochs_fails_when_the_dag_is_built(project):
    place_inputs(project)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    config["analysis"]["stable_k"] = EPOCHS + 1
    (project / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    proc = run_snakemake(project, "-n", "results/models/default/analysis/trajectories.parquet", check=False)
    assert proc.returncode != 0 and "analysis.stable_k (6) exceeds finetune.epochs (5)" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_epoch_bands_with_a_gap_fail_when_the_dag_is_built(project):
    place_inputs(project)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    config["analysis"]["epoch_bands"] = [[1, 2], [4, 5]]
    (project / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    proc = run_snakemake(project, "-n", "results/models/default/summary.md", check=False)
    assert proc.returncode != 0 and "config key analysis.epoch_bands: band 1 is [4, 5]" in proc.stdout + proc.stderr
    assert not (project / "results/models/default/analysis").exists()
