"""Reverse probe: the label given the identifier, a negative control.

Training only ever asks for identifier-from-label, so the reverse direction should not improve with
fine-tuning (the "reversal curse"). Examples are built like forward ones and scored by the same
teacher-forced pass (`latentfacts.model.scoring.score_examples`): prompt = the reverse question in the chat
template, target = label tokens + end-of-turn token.
"""

from latentfacts.model.prompts import Example, PromptError, end_of_turn_id, render_prompt


def label_ids(tokenizer, fact_id, label):
    """Token ids of `label`; it must decode back to itself, or greedy decoding could never match it."""
    ids = tokenizer(label, add_special_tokens=False)["input_ids"]
    if not ids or tokenizer.decode(ids, skip_special_tokens=False) != label:
        raise PromptError(f"fact {fact_id}: label {label!r} does not round-trip through the tokenizer")
    return ids


def reverse_examples(tokenizer, facts, system_message, template):
    """One Example per fact (rows with fact_id, id, label, ontology): `template` with `{id}` (and
    `{ontology}`) filled in as the question, the label as the answer."""
    end_id = end_of_turn_id(tokenizer)
    examples = []
    for row in facts.itertuples():
        question = template.replace("{id}", row.id)
        prompt = render_prompt(tokenizer, system_message, question, row.label, row.ontology)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        examples.append(
            Example(row.fact_id, -1, tuple(prompt_ids), (*label_ids(tokenizer, row.fact_id, row.label), end_id))
        )
    return examples


def recall_table(scores):
    """Recall and mean logprob per seed, epoch, ontology and split of a scored probe table."""
    grouped = scores.groupby(["seed", "epoch", "ontology", "split"])
    return grouped.agg(
        recall=("correct", "mean"), correct=("correct", "sum"), n=("correct", "size"), mean_logprob=("logprob", "mean")
    ).reset_index()
