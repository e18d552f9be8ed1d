"""The model half of the DAG on a shrunken embedded study (few facts, a small base model, two
epochs): baseline, the training run and its evaluation of every epoch run as Snakemake jobs, write the
contract's tables, and a rerun gives bit-identical adapter tensors and tables."""

import pandas as pd
import pytest
from safetensors.torch import load_file

from conftest import run_snakemake, small_study_args, table_violations

TARGETS = ["results/models/default/baseline.parquet", "results/models/default/runs/seed0/eval/epoch_00.parquet", "results/models/default/runs/seed0/eval/epoch_02.parquet"]


@pytest.mark.workflow
def test_baseline_finetune_evaluate_jobs(project):
    config_args = small_study_args(project)
    run_snakemake(project, *TARGETS, *config_args)
    pairs = pd.read_parquet(project / "results/data/pairs.parquet")
    baseline = pd.read_parquet(project / TARGETS[0])
    # every table written so far follows the data contract: 5 of the data and model stages, 3 eval tables,
    # 2 epochs' seen_order
    tables = ["terms", "annotations", "pairs", "planted_counts", "baseline", "eval", "seen_order"]
    assert table_violations(project, tables) == ({}, 10)
    assert sorted(baseline["fact_id"]) == sorted(pairs["fact_id"])
    assert set(baseline["knowledge"]) <= {"known", "latent", "unknown"} and (baseline["mc_samples"] == 5).all()
    epochs = {e: pd.read_parquet(project / f"results/models/default/runs/seed0/eval/epoch_{e:02d}.parquet") for e in (0, 2)}
    for e, table in epochs.items():
        assert (table["epoch"] == e).all() and len(table) == len(pairs)
    # epoch 0 is the base model: the same scores as the baseline
    assert epochs[0]["correct"].tolist() == baseline["correct"].tolist()
    assert epochs[0]["logprob"].tolist() == baseline["logprob"].tolist()
    # training moved the model: the log-probability of the trained facts rose on average
    trained = epochs[0]["fact_id"].isin(pairs.loc[pairs["split"] == "train", "fact_id"])
    assert epochs[2].loc[trained, "logprob"].mean() > epochs[0].loc[trained, "logprob"].mean()

    epoch_two = project / "results/models/default/runs/seed0/finetune/epoch_02"
    seen = pd.read_parquet(epoch_two / "seen_order.parquet")
    assert sorted(seen["fact_id"]) == sorted(pairs.loc[pairs["split"] == "train", "fact_id"])
    adapter = load_file(epoch_two / "adapter_model.safetensors")
    evaluation = (project / TARGETS[2]).read_bytes()

    # a run is redone as a whole (one job per run and seed) and gives the same adapter and table, bit for bit
    run_snakemake(project, TARGETS[2], "--forcerun", "finetune_main", *config_args)
    redone = load_file(epoch_two / "adapter_model.safetensors")
    assert redone.keys() == adapter.keys()
    assert all((redone[name] == adapter[name]).all() for name in adapter)
    assert (project / TARGETS[2]).read_bytes() == evaluation

    # binomial draws cannot judge extracted replies: refused when the DAG is built, and the finished
    # baseline stays as it was
    written = (project / TARGETS[0]).read_bytes()
    refused = run_snakemake(project, *TARGETS, *small_study_args(project, "evaluate: {answer: extract}\n"), check=False)
    assert refused.returncode != 0
    assert "config key baseline.monte_carlo: binomial" in refused.stdout + refused.stderr
    assert (project / TARGETS[0]).read_bytes() == written

    # under evaluate.answer: extract the baseline and the evaluation rerun; the rules agree wherever the
    # reply is exactly the identifier (on this small model rarely; tests/test_model_answers.py checks such
    # replies), and the teacher-forced columns are unchanged
    extract = "evaluate: {answer: extract, max_new_tokens: 12}\nbaseline: {monte_carlo: generate}\n"
    run_snakemake(project, *TARGETS, *small_study_args(project, extract))
    assert (project / TARGETS[2]).read_bytes() != evaluation
    assert table_violations(project, ["baseline", "eval"]) == ({}, 4)
    for target, before in zip(TARGETS, (baseline, epochs[0], epochs[2])):
        table = pd.read_parquet(project / target).merge(pairs[["fact_id", "id"]], on="fact_id")
        assert table["correct_exact"].tolist() == before["correct"].tolist()
        assert table["logprob"].tolist() == before["logprob"].tolist()
        assert (table["correct"] == (table["extracted_id"] == table["id"])).all()
        alone = table["reply"] == table["id"]
        assert (table.loc[alone, "correct"] & table.loc[alone, "correct_exact"]).all()
        assert table.loc[table["correct_exact"], "correct"].all()
    judged = pd.read_parquet(project / TARGETS[0])
    # the baseline judges the base model's greedy reply as epoch 0 does; real samples, each extracted
    assert judged["correct"].tolist() == pd.read_parquet(project / TARGETS[1])["correct"].tolist()
    assert (judged["mc_hits"] >= judged["mc_hits_exact"]).all() and (judged["mc_hits"] <= 5).all()
    for rule in ("", "_exact"):
        classes = judged[f"knowledge{rule}"]
        assert set(classes) <= {"known", "latent", "unknown"}
        assert judged.loc[classes == "known", f"correct{rule}"].all()
        assert (judged.loc[classes == "latent", f"mc_hits{rule}"] > 0).all()
