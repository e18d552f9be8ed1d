"""The extract answer rule: extraction reads a JSON field first, then the first identifier match; on a
real tiny model the extract rule agrees with the teacher-forced exact rule wherever the greedy reply is
the identifier alone, and the teacher-forced columns are the same under both rules; a tiny model taught to
answer in a sentence ("The identifier is HP:...") is right for extract and wrong for exact, in an
epoch's evaluation and in the baseline's knowledge classes (from real extracted samples)."""

import pytest
import yaml

from conftest import ROOT
from latentfacts.configcheck import ConfigError, check_answer_rule
from latentfacts.model.answers import AnswerRule, answer_settings, extract_identifier
from latentfacts.model.evaluation import (
    SLICK_CATEGORIES,
    baseline_examples,
    baseline_table,
    epoch_table,
    evaluation_examples,
    example_targets,
    sampling_from_config,
)
from latentfacts.model.lm import load_model, load_tokenizer
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir, verbose_facts, verbose_lm_dir

EVALUATE = {
    "answer": "extract",
    "max_new_tokens": 16,
    "identifier_patterns": {"HPO": r"HP:\d{7}", "GO": r"GO:\d{7}"},
    "json_field": "{ontology}_ID",
    "reply_chars": 60,
}
PROMPTS = {"system_message": SYSTEM, "templates": TEMPLATES, "evaluation_template": 0}
SAMPLING = sampling_from_config({"temperature": 1.0, "top_k": 0, "top_p": 1.0})
BASELINE = {"samples": 8, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "monte_carlo": "generate",
            "latent_rule": "monte_carlo", "latent_threshold": 0.5}  # fmt: skip
SENTENCE = "The identifier is "
RULE = AnswerRule.from_settings(EVALUATE)


def test_extraction_reads_the_json_field_first_then_the_first_match():
    pattern = r"HP:\d{7}"
    assert extract_identifier('{"HPO_ID": "HP:0001250", "note": "not HP:0000001"}', pattern, "HPO_ID") == "HP:0001250"
    # the JSON field wins over an identifier written before it
    assert extract_identifier('See HP:0000001. {"HPO_ID": "HP:0001250"}', pattern, "HPO_ID") == "HP:0001250"
    # no JSON (or no identifier in the field): the first match anywhere
    assert extract_identifier("The HPO identifier for Seizure is HP:0001250, not HP:0000002.", pattern, "HPO_ID") == "HP:0001250"
    assert extract_identifier('{"HPO_ID": "unknown"} maybe HP:0001250', pattern, "HPO_ID") == "HP:0001250"
    assert extract_identifier("HP:12345 is too short", pattern) is None
    assert RULE.identifier('{"GO_ID": "GO:0005634"}', "GO") == "GO:0005634"
    assert answer_settings({**EVALUATE, "answer": "exact"}) == {"answer": "exact"}
    assert AnswerRule.from_settings({"answer": "exact"}) is None


def loaded(model_dir, facts):
    """A test model, its tokenizer, its facts and their evaluation examples."""
    tokenizer = load_tokenizer(model_dir)
    return load_model(model_dir), tokenizer, facts, evaluation_examples(tokenizer, facts, PROMPTS)


@pytest.fixture(scope="module")
def tiny():
    return loaded(tiny_lm_dir(), tiny_facts())


def test_extract_and_exact_agree_where_the_reply_is_the_identifier(tiny):
    model, tokenizer, facts, examples = tiny
    exact = epoch_table(model, tokenizer, examples, SAMPLING, 8, 4, 0, 1)
    extract = epoch_table(model, tokenizer, examples, SAMPLING, 8, len(examples), 0, 1, RULE, example_targets(facts, examples))
    assert list(exact.columns) == list(extract.columns)
    # under exact `correct` is the teacher-forced rule and nothing is generated to read
    assert (exact["correct"] == exact["correct_exact"]).all() and exact["reply"].isna().all()
    # the teacher-forced columns do not depend on the answer rule
    for column in ("correct_exact", "logprob", "p_sample", "first_token_rank"):
        assert exact[column].tolist() == extract[column].tolist(), column
    table = extract.merge(facts[["fact_id", "id"]], on="fact_id")
    assert (table["correct"] == (table["extracted_id"] == table["id"])).all()
    alone = table["reply"] == table["id"]
    assert alone.sum() >= 4  # the tiny model answers some of its facts with the identifier alone
    assert table.loc[alone, "correct"].all() and table.loc[alone, "correct_exact"].all()
    # right under exact means the greedy reply is the identifier, so right under extract
    assert (table.loc[table["correct_exact"], "reply"] == table.loc[table["correct_exact"], "id"]).all()
    assert table.loc[table["correct_exact"], "correct"].all()


@pytest.fixture(scope="module")
def verbose():
    return loaded(verbose_lm_dir(), verbose_facts())


def test_a_reply_in_a_sentence_is_right_for_extract_and_wrong_for_exact(verbose):
    model, tokenizer, facts, examples = verbose
    table = epoch_table(model, tokenizer, examples, SAMPLING, 8, len(examples), 0, 1, RULE, example_targets(facts, examples))
    table = table.merge(facts[["fact_id", "id"]], on="fact_id")
    # the model learned to answer in a sentence, and the identifiers in it
    assert table["reply"].str.startswith(SENTENCE).all()
    assert table["correct"].mean() >= 0.75 and not table["correct_exact"].any()
    assert (table["correct"] == (table["extracted_id"] == table["id"])).all()
    right = table[table["correct"]]
    assert (right["reply"] == SENTENCE + right["id"]).all()
    # the teacher-forced columns stay: after "The" the identifier is not the greedy start
    assert (table["first_token_rank"] > 1).all()


def test_latent_knowledge_under_extract_comes_from_real_extracted_samples(verbose):
    model, tokenizer, facts, _ = verbose
    examples = baseline_examples(tokenizer, facts, PROMPTS, "slick")
    assert list(examples) == [0, 1, 2]
    table = baseline_table(model, tokenizer, facts, examples, BASELINE, 8, 4, 0, RULE)
    table = table.merge(facts[["fact_id", "id"]], on="fact_id")
    assert (table["correct"] == (table["extracted_id"] == table["id"])).all()
    # a sample exactly the identifier is right under extract too, so extract finds at least as many;
    # sampled sentences are right under extract and never exactly the identifier
    assert (table["mc_hits"] >= table["mc_hits_exact"]).all() and (table["mc_hits"] <= 8).all()
    assert (table["mc_hits"] > table["mc_hits_exact"]).mean() >= 0.75
    # known by extraction, never known by the exact rule
    assert (table["knowledge"] == "known").mean() >= 0.75
    assert not (table["knowledge_exact"] == "known").any()
    assert (table.loc[table["knowledge"] == "known", "correct"]).all()
    assert (table.loc[table["knowledge"] == "latent", "mc_hits"] > 0).all()
    assert (table.loc[table["knowledge_exact"] == "latent", "mc_hits_exact"] > 0).all()
    # SliCK over the three templates, by the extract rule
    assert set(table["slick"]) <= set(SLICK_CATEGORIES)
    assert (table.loc[table["slick"] == "Known", "knowledge"] == "known").all()
    assert (table.loc[table["knowledge"] == "known", "slick"].isin(["Known", "MaybeKnown"])).all()
    assert (table.loc[table["slick"] == "Unknown", "mc_hits"] == 0).all()


@pytest.mark.parametrize(
    "sections, message",
    [
        ({"evaluate": {"identifier_patterns": {"HPO": "HP:(\\d{7}"}}}, r"evaluate.identifier_patterns.HPO: 'HP:\(\\\\d\{7\}' is no regular expression"),
        ({"evaluate": {"answer": "extract", "identifier_patterns": {"HPO": "HP:\\d{7}"}}}, "evaluate.identifier_patterns: no pattern for GO"),
        ({"evaluate": {"answer": "extract"}}, "baseline.monte_carlo: binomial .* set baseline.monte_carlo: generate"),
        ({"evaluate": {"answer": "extract"}, "baseline": {"monte_carlo": "generate", "latent_rule": "exact"}},
         "baseline.latent_rule: exact .* set baseline.latent_rule: monte_carlo"),
    ],
)
def test_bad_answer_settings_are_named(sections, message):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for section, values in sections.items():
        config[section].update(values)
    with pytest.raises(ConfigError, match=message):
        check_answer_rule(config)
