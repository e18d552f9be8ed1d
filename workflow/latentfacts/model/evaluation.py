"""What the `baseline` and `evaluate_*` rules compute from a loaded model: every fact under the
evaluation template, scored teacher-forced, with a greedy `generate` cross-check of a random sample;
under `evaluate.answer: extract` also judged by the identifier extracted from a generated reply; and
for the baseline, Monte Carlo hits (real samples, each judged by the answer rule, or drawn from their
exact law), the knowledge class under the answer rule and under the exact one, and optionally the
SliCK category over every template.
"""

import logging

import numpy as np
import pandas as pd

from latentfacts.model.answers import decode_reply
from latentfacts.model.lm import with_each_adapter
from latentfacts.model.prompts import encode_facts, end_of_turn_id
from latentfacts.model.sampling import (
    binomial_hits,
    check_greedy_answers,
    crosscheck_greedy,
    crosscheck_sample,
    exact_hits,
    generate_answers,
    knowledge_classes,
    sampled_answers,
)
from latentfacts.model.scoring import Sampling, score_examples

log = logging.getLogger(__name__)

SLICK_CATEGORIES = ("Known", "MaybeKnown", "WeaklyKnown", "Unknown")


def sampling_from_config(baseline):
    """The sampling settings (temperature, top_k, top_p) of config section `baseline`, also used for
    every epoch's p_sample."""
    return Sampling(temperature=baseline["temperature"], top_k=baseline["top_k"], top_p=baseline["top_p"])


def evaluation_examples(tokenizer, pairs, prompts, template=None):
    """One example per fact, under prompts.evaluation_template (or the template of index `template`),
    in the order of `pairs`."""
    index = prompts["evaluation_template"] if template is None else template
    return encode_facts(tokenizer, pairs, prompts["system_message"], prompts["templates"], [index])


def example_targets(pairs, examples):
    """(ontology, identifier) of each example's fact, in example order: what extraction compares with."""
    by_fact = pairs.set_index("fact_id")
    return [(by_fact.at[ex.fact_id, "ontology"], by_fact.at[ex.fact_id, "id"]) for ex in examples]


def judged_replies(tokenizer, rule, targets, answers):
    """(reply, extracted identifier, correct) of every answer (token ids) of every example:
    `answers[i]` are example i's answers, `targets[i]` its (ontology, identifier)."""
    end_id = end_of_turn_id(tokenizer)
    judged = []
    for (ontology, identifier), own in zip(targets, answers):
        replies = [decode_reply(tokenizer, answer, end_id) for answer in own]
        extracted = [rule.identifier(reply, ontology) for reply in replies]
        judged.append([(reply, found, found == identifier) for reply, found in zip(replies, extracted)])
    return judged


def score_and_crosscheck(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, progress=True):
    """Teacher-forced scores of `examples`; raises CrosscheckError if greedy generation disagrees on
    any of `crosscheck_facts` randomly chosen facts (seeded by `seed`)."""
    scores = score_examples(model, examples, tokenizer.pad_token_id, sampling, batch_size, progress=progress)
    checked = crosscheck_greedy(
        model, examples, scores, tokenizer.pad_token_id, end_of_turn_id(tokenizer), crosscheck_facts, seed, batch_size
    )
    log.info("greedy generate agrees with teacher forcing on all %d cross-checked facts", checked)
    return scores


def extracted_scores(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, rule, targets):
    """Teacher-forced scores of `examples` with `correct_exact` (the teacher-forced exact rule) and
    `correct` judged by the extract `rule` from a greedy `generate` reply of every example (whose
    (ontology, identifier) are `targets`), beside `extracted_id` and the truncated `reply`. The same
    greedy replies cross-check the exact rule on `crosscheck_facts` facts drawn by `seed`."""
    pad_id, end_id = tokenizer.pad_token_id, end_of_turn_id(tokenizer)
    scores = score_examples(model, examples, pad_id, sampling, batch_size, progress=False)
    greedy = generate_answers(
        model, examples, pad_id, end_id, batch_size, max_new_tokens=rule.max_new_tokens, progress=False
    )
    replies, extracted, correct = zip(*(own[0] for own in judged_replies(tokenizer, rule, targets, greedy)))
    scores.insert(2, "correct_exact", scores["correct"])
    scores["correct"] = list(correct)
    scores["extracted_id"] = list(extracted)
    scores["reply"] = [reply[: rule.reply_chars] for reply in replies]
    chosen = crosscheck_sample(len(examples), crosscheck_facts, seed)
    checked = check_greedy_answers(examples, scores["correct_exact"], chosen, [greedy[i] for i in chosen])
    log.info("greedy generate agrees with teacher forcing on all %d cross-checked facts", checked)
    return scores


def judged_scores(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, rule=None, targets=None, progress=False):
    """The scores of `examples` under the answer rule, cross-checked on a sample drawn by `seed`:
    `correct` by the extract `rule` (`extracted_scores`) or, when None, teacher-forced (then
    `correct_exact` is the same and `extracted_id`, `reply` are empty)."""
    if rule is not None:
        return extracted_scores(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, rule, targets)
    scores = score_and_crosscheck(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, progress)
    scores.insert(2, "correct_exact", scores["correct"])
    scores["extracted_id"] = scores["reply"] = None  # nothing generated to read
    return scores


def epoch_table(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, epoch, rule=None, targets=None):
    """results/models/{model}/{run}/seed{s}/eval/epoch_{e}.parquet: the `judged_scores` of `examples` after fine-tuning
    epoch `epoch` (0: the base model), cross-checked on a sample drawn by (seed, epoch). No progress of
    its own: evaluation reports a line per epoch."""
    scores = judged_scores(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, [seed, epoch], rule, targets)
    scores.insert(1, "epoch", epoch)
    return scores


def run_tables(model_config, tokenizer, examples, adapters, sampling, batch_size, crosscheck_facts, seed, rule=None, targets=None):
    """Yield (epoch, epoch_table) for each epoch of `adapters` ({epoch: adapter directory, None for the
    base model}), the base model loaded once and the adapters swapped on it."""
    models = with_each_adapter(model_config, list(adapters.values()))
    for epoch, model in zip(adapters, models):
        yield epoch, epoch_table(
            model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, epoch, rule, targets
        )


def sampled_hits(model, tokenizer, examples, scores, baseline, batch_size, seed, rule=None, targets=None):
    """(hits, exact hits) of baseline.samples samples per example: how many are right under the answer
    rule and how many are exactly the target. Under an extract `rule` the samples are real (`generate`,
    each prompt prefilled once, at most rule.max_new_tokens tokens) and each reply is judged by `rule`;
    under the exact rule the two counts are one, of real samples or drawn from their exact law
    (binomial of the `scores`' p_sample), as baseline.monte_carlo says."""
    samples = baseline["samples"]
    if baseline.get("monte_carlo", "generate") == "binomial":
        if rule is not None:
            raise ValueError("baseline.monte_carlo: binomial knows only the exact reply; extraction needs generate")
        hits = binomial_hits(scores["p_sample"], samples, seed)
        return hits, hits
    pad_id, end_id = tokenizer.pad_token_id, end_of_turn_id(tokenizer)
    answers = sampled_answers(
        model, examples, pad_id, end_id, sampling_from_config(baseline), samples, seed, batch_size,
        max_new_tokens=rule.max_new_tokens if rule else None,
    )
    exact = exact_hits(examples, answers)
    if rule is None:
        return exact, exact
    judged = judged_replies(tokenizer, rule, targets, answers)
    return np.array([sum(right for *_, right in own) for own in judged]), exact


def judged_baseline(model, tokenizer, examples, baseline, batch_size, crosscheck_facts, seed, rule=None, targets=None):
    """The base model's `judged_scores` of `examples` with mc_samples, mc_hits and knowledge under the
    answer rule, and mc_hits_exact and knowledge_exact under the exact rule (the same columns under exact)."""
    table = judged_scores(
        model, tokenizer, examples, sampling_from_config(baseline), batch_size, crosscheck_facts, seed, rule, targets,
        progress=True,
    )
    samples = baseline["samples"]
    table["mc_samples"] = samples
    table["mc_hits"], table["mc_hits_exact"] = sampled_hits(
        model, tokenizer, examples, table, baseline, batch_size, seed, rule, targets
    )
    latent = (samples, baseline["latent_rule"], baseline["latent_threshold"])
    table["knowledge"] = knowledge_classes(table["correct"], table["p_sample"], table["mc_hits"], *latent)
    table["knowledge_exact"] = knowledge_classes(
        table["correct_exact"], table["p_sample"], table["mc_hits_exact"], *latent
    )
    return table


def slick_categories(correct, hits):
    """The SliCK category of each fact from facts x templates arrays of greedy correctness and sampled
    hits: Known (greedy right under every template), MaybeKnown (under some), WeaklyKnown (never greedy
    right, some sample right), Unknown."""
    correct, found = np.asarray(correct, bool), np.asarray(hits) > 0
    chosen = np.select([correct.all(1), correct.any(1), found.any(1)], SLICK_CATEGORIES[:3], SLICK_CATEGORIES[3])
    return pd.Series(chosen, dtype=object)


def baseline_examples(tokenizer, pairs, prompts, categories=None):
    """{template index: one example per fact of `pairs`}: the evaluation template first, and with
    `categories` 'slick' every other template of `prompts` after it."""
    first = prompts["evaluation_template"]
    templates = [first]
    if categories == "slick":
        templates += [t for t in range(len(prompts["templates"])) if t != first]
    return {template: evaluation_examples(tokenizer, pairs, prompts, template) for template in templates}


def template_seed(seed, template, evaluation_template):
    """The baseline's seed under `template`: the plain `seed` for the evaluation template (so switching
    SliCK categories on changes no other column), one derived from (seed, template) for the others."""
    if template == evaluation_template:
        return seed
    return int(np.random.SeedSequence([seed, template]).generate_state(1)[0])


def baseline_table(model, tokenizer, pairs, examples, baseline, batch_size, crosscheck_facts, seed, rule=None):
    """results/models/{model}/baseline.parquet: every fact of `pairs` judged by `judged_baseline` under the evaluation
    template, the first of `examples` ({template: examples}, `baseline_examples`); `baseline`: the
    config section's settings that shape the result; `batch_size` only sets the pace; `rule`: the
    extract rule, None for exact. With more templates, column `slick` holds the SliCK category over
    all of them (else it is empty)."""
    first = next(iter(examples))
    tables = [
        judged_baseline(
            model, tokenizer, own, baseline, batch_size, crosscheck_facts, template_seed(seed, template, first),
            rule, example_targets(pairs, own),
        )
        for template, own in examples.items()
    ]
    table = tables[0]
    table["slick"] = None
    if len(tables) > 1:
        table["slick"] = slick_categories(
            np.stack([t["correct"] for t in tables], 1), np.stack([t["mc_hits"] for t in tables], 1)
        )
        log.info("SliCK categories over %d templates: %s", len(tables), table["slick"].value_counts().to_dict())
    log.info("knowledge classes: %s", table["knowledge"].value_counts().to_dict())
    if rule is not None:
        log.info("knowledge classes under the exact rule: %s", table["knowledge_exact"].value_counts().to_dict())
    return table


def recall_note(scores, pairs):
    """Greedy recall of one evaluation, over all facts and per ontology and split (the summary's unit):
    'recall over all facts 51.2% (819/1600); HPO train 60.0% (480/800); ...'."""
    rows = scores[["fact_id", "correct"]].merge(pairs[["fact_id", "ontology", "split"]], on="fact_id")
    parts = [f"recall over all facts {rows['correct'].mean():.1%} ({rows['correct'].sum()}/{len(rows)})"]
    for (ontology, split), group in rows.groupby(["ontology", "split"], sort=True):
        parts.append(f"{ontology} {split} {group['correct'].mean():.1%} ({group['correct'].sum()}/{len(group)})")
    return "; ".join(parts)
