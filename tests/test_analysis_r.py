"""The survival fits of a real tiny run against R (survival, sandwich) through `Rscript`.

The tiny language model of the model tests is fine-tuned with LoRA for a few epochs under three seeds and
every fact is scored after each epoch; this library turns those trajectories into survival tables and
fits them, R refits the same tables (rows shuffled, so R sees another order) and every number must agree:
Cox coefficients and SEs (robust, clustered by fact, as the library reports pooled seeds), cox.zph,
Kaplan-Meier curves and bands, log-rank, concordance, discrete-time
coefficients with vcovCL errors, and Firth estimates (hazard ratios, and the first covariate's profile
interval and p) against a penalized likelihood written in R.
Without R that test skips, except under CI (environment variable CI set), where it fails. The same
tables, their rows shuffled, must give every number of every fit unchanged.
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.discrete_time import collapse_epochs, fit_discrete, person_period
from latentfacts.analysis.kaplan_meier import kaplan_meier
from latentfacts.analysis.survival import ENDPOINTS, horizon, model_columns, survival_table
from latentfacts.model.finetune import TrainConfig, resume, train_epoch, training_examples
from latentfacts.model.lm import load_model, load_tokenizer
from latentfacts.model.prompts import encode_facts
from latentfacts.model.sampling import binomial_hits, knowledge_classes
from latentfacts.model.scoring import score_examples
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir

R_SCRIPT = Path(__file__).parent / "r" / "survival_fits.R"
SEEDS, EPOCHS, STABLE_K = (0, 1, 2), 10, 3
PROMPTS = {"system_message": SYSTEM, "templates": TEMPLATES, "evaluation_template": 0, "train_templates": "all"}
FINETUNE = {"epochs": EPOCHS, "batch_size": 8, "learning_rate": 5e-3, "weight_decay": 0.01, "schedule": "linear",
            "warmup_ratio": 0.1, "lora": {"r": 16, "alpha": 32, "dropout": 0.1, "target_modules": "all-linear"}}  # fmt: skip
BASELINE_SAMPLES = 20
# `planted`: how often the fact appears in the tiny model's pretraining corpus (its "frequency")
COVARIATES, ONTOLOGIES = ["latent", "log1p_planted", "ontology"], ["HPO", "GO"]
PH_ALPHA, MIN_EVENTS = 0.05, 5
PERMUTATION = {"min_expected": 5, "resamples": 999, "seed": 0}
# Largest differences allowed (absolute; Firth's hazard ratios and interval relative).
TOLERANCE = {"cox": 1e-4, "zph": 1e-3, "km": 1e-6, "logrank": 1e-6, "concordance": 1e-6, "discrete": 1e-4, "firth": 1e-3,
             "firth_p": 1e-3}  # fmt: skip


def r_unavailable():
    """Why R cannot serve as the oracle here, or None."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (Debian: r-base-core r-cran-survival r-cran-sandwich)"
    probe = subprocess.run(["Rscript", "-e", "library(survival); library(sandwich)"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"R packages survival and sandwich not loadable: {probe.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="module")
def r_available():
    reason = r_unavailable()
    if reason and os.environ.get("CI"):
        pytest.fail(f"R is required in CI: {reason}")
    if reason:
        pytest.skip(reason)


def trajectories():
    """seed x fact x epoch rows (correct, and the fact's descriptors) of a real LoRA run of the tiny model."""
    tokenizer = load_tokenizer(tiny_lm_dir())
    facts = tiny_facts()
    train = facts[facts["split"] == "train"]
    examples = training_examples(tokenizer, train, PROMPTS)
    evaluation = encode_facts(tokenizer, facts, SYSTEM, TEMPLATES, [0])
    scored = []
    for seed in SEEDS:
        config = TrainConfig.from_config(FINETUNE, PROMPTS, seed=seed)
        model, optimizer, scheduler = resume(load_model(tiny_lm_dir()), None, config, len(train))
        scored.append(score_examples(model, evaluation, tokenizer.pad_token_id, progress=False).assign(seed=seed, epoch=0))
        for epoch in range(1, EPOCHS + 1):
            train_epoch(model, optimizer, scheduler, examples, config, epoch, tokenizer.pad_token_id, progress=False)
            scores = score_examples(model, evaluation, tokenizer.pad_token_id, progress=False)
            scored.append(scores.assign(seed=seed, epoch=epoch))
    base = scored[0]  # the base model, before any training
    hits = binomial_hits(base["p_sample"], BASELINE_SAMPLES, seed=0)
    knowledge = knowledge_classes(base["correct"], base["p_sample"], hits, BASELINE_SAMPLES, "monte_carlo", 0.5)
    facts = facts.assign(knowledge=knowledge.to_numpy(), bin=0)
    return pd.concat(scored)[["seed", "epoch", "fact_id", "correct"]].merge(facts, on="fact_id")


@pytest.fixture(scope="module")
def tables():
    """{endpoint: survival table} of the real tiny run."""
    rows = trajectories()
    return {endpoint: survival_table(rows, endpoint, COVARIATES, ONTOLOGIES, STABLE_K) for endpoint in ENDPOINTS}


def python_fits(tables):
    """Every endpoint's fits by this library, and the jobs R needs to refit them."""
    fits, jobs = {}, []
    for endpoint, table in tables.items():
        columns = model_columns(COVARIATES, ONTOLOGIES, endpoint)
        hazard_ratios, ph, facts = fit_cox(table, columns, 0.0, PH_ALPHA)
        if facts["reason"] or facts["estimation"] != "maximum likelihood":
            continue  # no finite maximum-likelihood fit to compare (R would say the same)
        covariates = facts["covariates"]
        firth, _, _ = fit_cox(table, covariates, 0.0, PH_ALPHA, firth_min_events_per_covariate=np.inf)
        discrete, _ = fit_discrete(table, covariates, MIN_EVENTS)
        last = horizon(endpoint, EPOCHS, STABLE_K)
        curves, logrank, _ = kaplan_meier(table, last, PERMUTATION)
        rows = person_period(table, covariates)
        rows["period"] = rows["epoch"].map(collapse_epochs(rows, MIN_EVENTS))
        fits[endpoint] = dict(cox=hazard_ratios, ph=ph, facts=facts, firth=firth, discrete=discrete,
                              curves=curves, logrank=logrank, person_period=rows)  # fmt: skip
        jobs.append({"endpoint": endpoint, "covariates": " ".join(covariates),
                     "stratified": int(bool(facts["strata"])), "horizon": last})  # fmt: skip
    return fits, jobs


def run_r(directory, tables, fits, jobs):
    for job in jobs:
        endpoint = job["endpoint"]
        shuffled = tables[endpoint].sample(frac=1.0, random_state=3)
        shuffled.to_csv(directory / f"{endpoint}.csv", index=False)
        fits[endpoint]["person_period"].to_csv(directory / f"{endpoint}_pp.csv", index=False)
    pd.DataFrame(jobs).to_csv(directory / "jobs.csv", index=False)
    proc = subprocess.run(["Rscript", str(R_SCRIPT), str(directory)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]


def differences(fits, directory):
    """{quantity: largest |Python - R|} over every endpoint compared."""
    worst = dict.fromkeys(TOLERANCE, 0.0)

    def note(quantity, ours, theirs):
        ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
        assert ours.shape == theirs.shape, quantity
        finite = np.isfinite(theirs)
        np.testing.assert_array_equal(np.isfinite(ours), finite, err_msg=quantity)
        if finite.any():
            worst[quantity] = max(worst[quantity], float(np.abs(ours - theirs)[finite].max()))

    for endpoint, fit in fits.items():
        read = lambda quantity: pd.read_csv(directory / f"{endpoint}_{quantity}.csv")  # noqa: E731
        cox = read("cox").set_index("covariate")
        ours = fit["cox"].set_index("covariate").loc[cox.index]
        note("cox", np.r_[ours["coef"], ours["se"]], np.r_[cox["coef"], cox["se"]])
        note("concordance", [fit["facts"]["concordance"]], cox["concordance"].iloc[:1])
        zph = read("zph").set_index("term")
        ph = fit["ph"].set_index("covariate").loc[cox.index]
        note("zph", np.r_[ph["test_statistic"], ph["p"]], np.r_[zph.loc[cox.index, "chisq"], zph.loc[cox.index, "p"]])
        note("zph", [fit["facts"]["ph_global"]["statistic"], fit["facts"]["ph_global"]["p"]],
             [zph.loc["GLOBAL", "chisq"], zph.loc["GLOBAL", "p"]])  # fmt: skip
        firth = read("firth").set_index("covariate")
        ours_firth = fit["firth"].set_index("covariate").loc[firth.index, "hr"]
        note("firth", np.abs(ours_firth / np.exp(firth["coef"]) - 1), np.zeros(len(firth)))
        profile = read("firth_profile").iloc[0]
        ours_profile = fit["firth"].set_index("covariate").loc[profile["covariate"]]
        relative = [ours_profile["hr_lower"] / np.exp(profile["lower"]) - 1, ours_profile["hr_upper"] / np.exp(profile["upper"]) - 1]
        note("firth", np.abs(relative), [0, 0])
        note("firth_p", [ours_profile["p"]], [profile["p"]])
        km = read("km").set_index(["knowledge", "epoch"])
        curves = fit["curves"].set_index(["knowledge", "epoch"]).loc[km.index]
        for column in ["survival", "ci_lower", "ci_upper"]:
            theirs = km[column].to_numpy(float)
            # R gives no band where the curve is 1 (before any event) or 0; lifelines gives a degenerate one
            defined = np.isfinite(theirs) | (column == "survival")
            note("km", curves[column].to_numpy(float)[defined], theirs[defined])
        if (directory / f"{endpoint}_logrank.csv").exists():
            note("logrank", [fit["logrank"]["test_statistic"]], read("logrank")["chisq"])
        discrete = read("discrete").set_index("covariate")
        ours_discrete = fit["discrete"].set_index("covariate").loc[discrete.index]
        note("discrete", np.r_[ours_discrete["coef"], ours_discrete["se"]], np.r_[discrete["coef"], discrete["se"]])
    return worst


def test_survival_fits_of_a_real_run_agree_with_r(r_available, tables, tmp_path):
    fits, jobs = python_fits(tables)
    # the run gives acquisition events (facts learnt) and degradation events (known facts forgotten)
    assert {"acquisition", "degradation"} <= set(fits), f"endpoints with a finite fit: {sorted(fits)}"
    run_r(tmp_path, tables, fits, jobs)
    worst = differences(fits, tmp_path)
    print("largest |Python - R| per quantity:", worst)
    for quantity, difference in worst.items():
        assert difference <= TOLERANCE[quantity], f"{quantity}: {difference:.3g} > {TOLERANCE[quantity]}"


def test_row_order_of_the_real_tables_changes_no_number(tables):
    fits = [
        lambda t, columns: fit_cox(t, columns, 0.0, PH_ALPHA),
        lambda t, columns: fit_cox(t, columns, 0.0, PH_ALPHA, firth_min_events_per_covariate=np.inf),
        lambda t, columns: fit_discrete(t, columns, MIN_EVENTS),
        lambda t, columns: kaplan_meier(t, EPOCHS, PERMUTATION),
    ]
    for endpoint, table in tables.items():
        columns = model_columns(COVARIATES, ONTOLOGIES, endpoint)
        shuffled = table.sample(frac=1.0, random_state=5).reset_index(drop=True)
        for fit in fits:
            for original, reordered in zip(fit(table, columns), fit(shuffled, columns)):
                if isinstance(original, pd.DataFrame):
                    pd.testing.assert_frame_equal(original, reordered, check_exact=True)
                else:
                    assert original == reordered, endpoint
