"""Two models side by side on the shrunken study (`models:` with two embedded base models that differ in
their pretraining steps): each model's outputs under results/models/<name>/, the comparison of both, and
a config edit of one model scheduling that model's jobs and the comparison only (dry runs)."""

import json

import pandas as pd
import pytest
import yaml
from conftest import copy_project, run_snakemake, small_study_args, table_violations
from test_reruns import scheduled

# listed in the order the config files hold them (the tests write them sorted): `long` is the reference
TWO_MODELS = {"models": {"long": {}, "short": {"embedded_model": {"steps": 60}}}}
COMPARISON_TABLES = ["comparison_hazard_ratios", "comparison_rates", "comparison_recall", "comparison_pooled_cox"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("two_models") / "project")
    run_snakemake(project, *small_study_args(project, yaml.safe_dump(TWO_MODELS)))
    return project


def models_of(jobs):
    """The models whose jobs are scheduled, and the jobs that belong to no model."""
    models = {part.split("=")[1] for job in jobs for part in job.strip("]").split("[")[-1].split(", ") if "model=" in part}
    return models, {job for job in jobs if "model=" not in job}


@pytest.mark.workflow
def test_each_model_has_its_own_outputs_and_the_comparison_holds_both(finished):
    project = finished
    for name in ("short", "long"):
        root = project / "results/models" / name
        assert (root / "base_model/config.json").exists() and (root / "summary.md").exists()
        assert (root / "report/acquisition.html").exists()
    steps = {name: json.loads((project / f"results/models/{name}/base_model/pretrain_stats.json").read_text())["steps"]
             for name in ("short", "long")}  # fmt: skip
    assert steps == {"short": 60, "long": 150}  # the planted difference: the second pretrains 2.5 times as long
    found, checked = table_violations(project, COMPARISON_TABLES)
    assert found == {} and checked == len(COMPARISON_TABLES)
    estimates = pd.read_csv(project / "results/comparison/hazard_ratios.csv")
    assert set(estimates["studied_model"]) == {"short", "long"}
    assert (estimates.dropna(subset=["estimate"])["n"] > 0).all()  # every estimate rests on facts at risk
    rates = pd.read_csv(project / "results/comparison/rates.csv")
    shares = rates[rates["measure"] == "knowledge_share"].groupby("studied_model")["estimate"].sum()
    assert shares.round(9).tolist() == [1.0, 1.0]
    pooled = pd.read_csv(project / "results/comparison/pooled_cox.csv")
    assert set(pooled["reference_model"]) == {"long"}
    assert "latent:short" in set(pooled["term"]) or pooled["note"].notna().all()
    summary = (project / "results/comparison/summary.md").read_text()
    assert "# Model comparison" in summary and "long" in summary and "short" in summary
    assert "Model comparison" in (project / "results/comparison/report/comparison.html").read_text()
    for name in ("forest", "recall"):
        for ext in ("png", "svg"):
            assert (project / f"results/comparison/{name}.{ext}").stat().st_size > 0


@pytest.mark.workflow
def test_an_edit_of_one_model_schedules_that_models_jobs_and_the_comparison_only(finished):
    project = finished
    assert scheduled(project, TWO_MODELS, {}) == {}
    assert scheduled(project, TWO_MODELS, {"models": {"long": {"device": "cpu"}}}) == {}

    jobs = scheduled(project, TWO_MODELS, {"models": {"short": {"embedded_model": {"steps": 50}}}})
    models, shared = models_of(jobs)
    assert models == {"short"} and "pretrain_base[model=short]" in jobs
    assert shared == {"compare_models", "comparison_report", "all"}

    jobs = scheduled(project, TWO_MODELS, {"models": {"long": {"dtype": "bfloat16"}}})
    models, shared = models_of(jobs)
    assert models == {"long"} and "baseline[model=long]" in jobs
    assert "pretrain_base[model=long]" not in jobs  # the dtype a model is loaded in does not change its pretraining
    assert shared == {"compare_models", "comparison_report", "all"}
