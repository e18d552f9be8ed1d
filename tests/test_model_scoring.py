"""One-pass teacher-forced scoring against real generation on the tiny model: greedy correctness,
exact sampling probability, batch/padding invariance, the cross-check, the baseline classes
and the SliCK categories over every template."""

import numpy as np
import pandas as pd
import pytest
import torch

from latentfacts.model.evaluation import SLICK_CATEGORIES, baseline_examples, baseline_table, slick_categories
from latentfacts.model.lm import load_model, load_tokenizer
from latentfacts.model.prompts import encode_facts, end_of_turn_id
from latentfacts.model.sampling import (
    CrosscheckError,
    binomial_hits,
    crosscheck_greedy,
    generate_answers,
    knowledge_classes,
    matches_target,
    monte_carlo_hits,
)
from latentfacts.model.scoring import Sampling, score_examples, shared_prefix_length, target_logits
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir


@pytest.fixture(scope="module")
def lm():
    tokenizer = load_tokenizer(tiny_lm_dir())
    model = load_model(tiny_lm_dir())
    examples = encode_facts(tokenizer, tiny_facts(), SYSTEM, TEMPLATES, [0])
    return model, tokenizer, examples


@pytest.fixture(scope="module")
def scores(lm):
    model, tokenizer, examples = lm
    return score_examples(model, examples, tokenizer.pad_token_id, batch_size=16, progress=False)


def test_the_tiny_model_knows_some_facts_and_not_others(scores):
    assert 0.2 < scores["correct"].mean() < 0.9
    assert scores["p_sample"].between(1e-3, 0.3).any()


def test_teacher_forced_correct_equals_greedy_generate_on_every_fact(lm, scores):
    model, tokenizer, examples = lm
    answers = generate_answers(model, examples, tokenizer.pad_token_id, end_of_turn_id(tokenizer), batch_size=13, progress=False)
    generated = [matches_target(a[0], ex.target_ids) for a, ex in zip(answers, examples)]
    assert generated == scores["correct"].tolist()


def test_head_at_target_positions_equals_full_forward_logits(lm):
    model, tokenizer, examples = lm
    batch = examples[:5]
    logits, targets = target_logits(model, batch, tokenizer.pad_token_id, "right")
    row = 0
    for ex in batch:
        ids = torch.tensor([ex.prompt_ids + ex.target_ids[:-1]])
        with torch.no_grad():
            full = model(input_ids=ids).logits[0, len(ex.prompt_ids) - 1 :]
        torch.testing.assert_close(logits[row : row + len(ex.target_ids)], full, atol=1e-5, rtol=1e-5)
        assert targets[row : row + len(ex.target_ids)].tolist() == list(ex.target_ids)
        row += len(ex.target_ids)


@pytest.mark.parametrize("side", ["left", "right"])
def test_shared_prompt_start_run_once_gives_the_full_forward_logits(lm, side):
    model, tokenizer, examples = lm
    batch = examples[:9]
    shared = shared_prefix_length([ex.prompt_ids for ex in batch])
    assert shared > len(tokenizer(SYSTEM, add_special_tokens=False)["input_ids"])  # chat header + system message
    assert len({ex.prompt_ids[: shared + 1] for ex in batch}) > 1
    with torch.no_grad():
        cached, targets = target_logits(model, batch, tokenizer.pad_token_id, side, shared)
        full, same_targets = target_logits(model, batch, tokenizer.pad_token_id, side)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-5)
    assert targets.tolist() == same_targets.tolist()


@pytest.mark.parametrize("batch_size,side", [(1, "left"), (7, "left"), (7, "right"), (1000, "right")])
def test_answers_do_not_depend_on_batch_size_or_padding(lm, scores, batch_size, side):
    model, tokenizer, examples = lm
    other = score_examples(model, examples, tokenizer.pad_token_id, batch_size=batch_size, side=side, progress=False)
    assert other["fact_id"].tolist() == scores["fact_id"].tolist()
    assert other["correct"].tolist() == scores["correct"].tolist()
    assert other["first_token_rank"].tolist() == scores["first_token_rank"].tolist()
    np.testing.assert_allclose(other["logprob"], scores["logprob"], atol=1e-4)
    np.testing.assert_allclose(other["p_sample"], scores["p_sample"], rtol=1e-4, atol=1e-9)


def test_scores_are_deterministic(lm, scores):
    model, tokenizer, examples = lm
    again = score_examples(model, examples, tokenizer.pad_token_id, batch_size=16, progress=False)
    assert again.equals(scores)


@pytest.mark.parametrize("sampling", [Sampling(), Sampling(temperature=1.3, top_k=6, top_p=0.9)])
def test_exact_p_sample_agrees_with_2000_monte_carlo_samples(lm, scores, sampling):
    model, tokenizer, examples = lm
    exact = score_examples(model, examples, tokenizer.pad_token_id, sampling, batch_size=64, progress=False)
    # a few facts spread over the probability range, from near-certain to rare
    order = exact["p_sample"].sort_values().index
    chosen = sorted({order[-1], order[len(order) * 2 // 3], *exact.index[exact["p_sample"].between(0.01, 0.2)][:1]})
    draws = 2000
    torch.manual_seed(1)
    answers = generate_answers(
        model, [examples[i] for i in chosen], tokenizer.pad_token_id, end_of_turn_id(tokenizer), 4, sampling, draws, progress=False
    )
    for i, fact_answers in zip(chosen, answers):
        p = exact["p_sample"][i]
        hits = sum(matches_target(a, examples[i].target_ids) for a in fact_answers)
        tolerance = 4 * np.sqrt(p * (1 - p) / draws) + 2 / draws
        assert abs(hits / draws - p) <= tolerance, (examples[i].fact_id, hits, p)


def test_truncation_gives_zero_probability_outside_the_nucleus(lm):
    model, tokenizer, examples = lm
    greedy_only = score_examples(model, examples, tokenizer.pad_token_id, Sampling(top_k=1), progress=False)
    # with top_k=1 sampling is greedy decoding: probability 1 when greedy-correct, else 0
    assert greedy_only["p_sample"].tolist() == pytest.approx(greedy_only["correct"].astype(float).tolist())


def test_crosscheck_names_the_facts_it_disagrees_on(lm, scores):
    model, tokenizer, examples = lm
    end_id = end_of_turn_id(tokenizer)
    assert crosscheck_greedy(model, examples[:16], scores[:16], tokenizer.pad_token_id, end_id, 16, 0, 16) == 16
    tampered = scores[:16].copy()
    tampered.loc[3, "correct"] = not tampered.loc[3, "correct"]
    with pytest.raises(CrosscheckError, match=examples[3].fact_id):
        crosscheck_greedy(model, examples[:16], tampered, tokenizer.pad_token_id, end_id, 16, 0, 16)


def test_knowledge_classes_by_monte_carlo_and_by_exact_probability():
    correct, p, hits = [True, False, False, False], [0.9, 0.05, 0.001, 0.0], [18, 1, 0, 0]
    assert knowledge_classes(correct, p, hits, 20, "monte_carlo", 0.5).tolist() == ["known", "latent", "unknown", "unknown"]
    # 1-(1-0.05)^20 = 0.64 > 0.5; 1-(1-0.001)^20 = 0.02
    assert knowledge_classes(correct, p, hits, 20, "exact", 0.5).tolist() == ["known", "latent", "unknown", "unknown"]
    assert knowledge_classes(correct, p, hits, 20, "exact", 0.7).tolist() == ["known", "unknown", "unknown", "unknown"]


def test_baseline_finds_known_latent_and_unknown_facts(lm):
    model, tokenizer, examples = lm
    settings = {"samples": 50, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "latent_rule": "monte_carlo", "latent_threshold": 0.5}
    table = baseline_table(model, tokenizer, tiny_facts(), {0: examples}, settings, batch_size=16, crosscheck_facts=8, seed=0)
    assert set(table["knowledge"]) == {"known", "latent", "unknown"}
    assert (table["mc_samples"] == 50).all()
    assert table.loc[table["knowledge"] == "known", "correct"].all()
    assert (table.loc[table["knowledge"] == "latent", "mc_hits"] > 0).all()


def test_monte_carlo_hits_are_seeded(lm):
    model, tokenizer, examples = lm
    end_id = end_of_turn_id(tokenizer)
    runs = [monte_carlo_hits(model, examples[:12], tokenizer.pad_token_id, end_id, Sampling(), 20, seed, 8, False) for seed in (5, 5, 6)]
    assert runs[0].tolist() == runs[1].tolist()
    assert runs[0].tolist() != runs[2].tolist()


def test_binomial_hits_have_the_law_of_real_samples(lm, scores):
    """Over every fact, the hits of 50 real samples and 50 binomial draws per fact agree in total and
    in the number of facts hit at least once (each within 4 standard deviations of the difference)."""
    model, tokenizer, examples = lm
    draws, p = 50, scores["p_sample"].to_numpy()
    real = monte_carlo_hits(model, examples, tokenizer.pad_token_id, end_of_turn_id(tokenizer), Sampling(), draws, 3, 16, False)
    drawn = binomial_hits(p, draws, seed=3)
    assert drawn.tolist() == binomial_hits(p, draws, seed=3).tolist() and drawn.max() <= draws
    total_sd = np.sqrt(2 * np.sum(draws * p * (1 - p)))
    assert abs(real.sum() - drawn.sum()) <= 4 * total_sd, (real.sum(), drawn.sum())
    found = 1 - (1 - p) ** draws
    assert abs((real > 0).sum() - (drawn > 0).sum()) <= 4 * np.sqrt(2 * np.sum(found * (1 - found))) + 1


def test_baseline_with_binomial_draws_decodes_nothing_and_keeps_the_classes_rule(lm):
    model, tokenizer, examples = lm
    settings = {"samples": 50, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "monte_carlo": "binomial", "latent_rule": "monte_carlo", "latent_threshold": 0.5}
    table = baseline_table(model, tokenizer, tiny_facts(), {0: examples}, settings, batch_size=16, crosscheck_facts=8, seed=0)
    assert table["mc_hits"].tolist() == binomial_hits(table["p_sample"], 50, 0).tolist()
    assert (table.loc[table["knowledge"] == "latent", "mc_hits"] > 0).all()
    assert (table.loc[(table["knowledge"] == "unknown"), "mc_hits"] == 0).all()


def test_slick_categories_span_the_templates():
    correct = [[True, True], [True, False], [False, False], [False, False]]
    hits = [[3, 0], [1, 0], [0, 2], [0, 0]]
    assert slick_categories(correct, hits).tolist() == list(SLICK_CATEGORIES)


def test_slick_categories_over_every_template_change_no_other_column(lm):
    model, tokenizer, examples = lm
    facts = tiny_facts()
    settings = {"samples": 20, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "monte_carlo": "binomial", "latent_rule": "monte_carlo", "latent_threshold": 0.5}
    prompts = {"system_message": SYSTEM, "templates": TEMPLATES, "evaluation_template": 1}
    every = baseline_examples(tokenizer, facts, prompts, "slick")
    assert list(every) == [1, 0, 2]
    table = baseline_table(model, tokenizer, facts, every, settings, batch_size=16, crosscheck_facts=8, seed=0)
    alone = baseline_table(model, tokenizer, facts, {1: every[1]}, settings, batch_size=16, crosscheck_facts=8, seed=0)
    assert alone["slick"].isna().all()
    pd.testing.assert_frame_equal(table.drop(columns="slick"), alone.drop(columns="slick"))
    # the tiny model knows some facts under every template, some under one or two, others under none
    assert {"Known", "MaybeKnown", "Unknown"} <= set(table["slick"]) <= set(SLICK_CATEGORIES)
    assert (table.loc[table["knowledge"] == "known", "slick"].isin(["Known", "MaybeKnown"])).all()
    assert (table.loc[table["slick"] == "Known", "knowledge"] == "known").all()
    assert (table.loc[table["slick"] == "Unknown", "mc_hits"] == 0).all()
