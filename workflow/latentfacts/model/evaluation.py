"""What the `baseline` and `evaluate_*` rules compute from a loaded model: every fact under the
evaluation template, scored teacher-forced, with a greedy `generate` cross-check of a random sample;
for an epoch under `evaluate.answer: extract` also judged by the identifier extracted from a generated
reply; and for the baseline, Monte Carlo hits (real samples, or drawn from their exact law) and the knowledge class.
"""

import logging

from latentfacts.model.answers import decode_reply
from latentfacts.model.lm import with_each_adapter
from latentfacts.model.prompts import encode_facts, end_of_turn_id
from latentfacts.model.sampling import (
    binomial_hits,
    check_greedy_answers,
    crosscheck_greedy,
    crosscheck_sample,
    generate_answers,
    knowledge_classes,
    monte_carlo_hits,
)
from latentfacts.model.scoring import Sampling, score_examples

log = logging.getLogger(__name__)


def sampling_from_config(baseline):
    """The sampling settings (temperature, top_k, top_p) of config section `baseline`, also used for
    every epoch's p_sample."""
    return Sampling(temperature=baseline["temperature"], top_k=baseline["top_k"], top_p=baseline["top_p"])


def evaluation_examples(tokenizer, pairs, prompts):
    """One example per fact, under prompts.evaluation_template, in the order of `pairs`."""
    return encode_facts(
        tokenizer, pairs, prompts["system_message"], prompts["templates"], [prompts["evaluation_template"]]
    )


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


def epoch_table(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed, epoch, rule=None, targets=None):
    """results/{run}/seed{s}/eval/epoch_{e}.parquet: the scores of `examples` after fine-tuning epoch
    `epoch` (0: the base model), cross-checked on a sample drawn by (seed, epoch); `correct` by the
    extract `rule` (`extracted_scores`) or, when None, teacher-forced (then `correct_exact` is the
    same and `extracted_id`, `reply` are empty). No progress of its own: evaluation reports a line
    per epoch."""
    if rule is None:
        scores = score_and_crosscheck(
            model, tokenizer, examples, sampling, batch_size, crosscheck_facts, [seed, epoch], progress=False
        )
        scores.insert(2, "correct_exact", scores["correct"])
        scores["extracted_id"] = scores["reply"] = None  # nothing generated to read
    else:
        scores = extracted_scores(
            model, tokenizer, examples, sampling, batch_size, crosscheck_facts, [seed, epoch], rule, targets
        )
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


def baseline_table(model, tokenizer, examples, baseline, batch_size, crosscheck_facts, seed):
    """results/baseline.parquet: scores plus mc_samples, mc_hits and knowledge for every fact (`baseline`:
    the config section's settings that shape the result; `batch_size` only sets the pace)."""
    sampling = sampling_from_config(baseline)
    table = score_and_crosscheck(model, tokenizer, examples, sampling, batch_size, crosscheck_facts, seed)
    table["mc_samples"] = baseline["samples"]
    if baseline.get("monte_carlo", "generate") == "generate":
        table["mc_hits"] = monte_carlo_hits(
            model, examples, tokenizer.pad_token_id, end_of_turn_id(tokenizer), sampling,
            baseline["samples"], seed, batch_size,
        )
    else:
        table["mc_hits"] = binomial_hits(table["p_sample"], baseline["samples"], seed)
    table["knowledge"] = knowledge_classes(
        table["correct"], table["p_sample"], table["mc_hits"], baseline["samples"],
        baseline["latent_rule"], baseline["latent_threshold"],
    )
    log.info("knowledge classes: %s", table["knowledge"].value_counts().to_dict())
    return table


def recall_note(scores, pairs):
    """Greedy recall of one evaluation, over all facts and per ontology and split (the summary's unit):
    'recall over all facts 51.2% (819/1600); HPO train 60.0% (480/800); ...'."""
    rows = scores[["fact_id", "correct"]].merge(pairs[["fact_id", "ontology", "split"]], on="fact_id")
    parts = [f"recall over all facts {rows['correct'].mean():.1%} ({rows['correct'].sum()}/{len(rows)})"]
    for (ontology, split), group in rows.groupby(["ontology", "split"], sort=True):
        parts.append(f"{ontology} {split} {group['correct'].mean():.1%} ({group['correct'].sum()}/{len(group)})")
    return "; ".join(parts)
