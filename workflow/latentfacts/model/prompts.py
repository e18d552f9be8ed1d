"""Turn facts into token ids: the prompt (system message + one question template, rendered with the
tokenizer's chat template) and the target (the identifier followed by the end-of-turn token).
"""

from dataclasses import dataclass

# Content that cannot occur in a real chat template; its position in a rendered assistant turn shows
# where the template puts the answer and what follows it.
PROBE_ANSWER = "PROBE-ANSWER-7f3a"


class PromptError(ValueError):
    """A fact or template cannot be turned into a prompt and target; the message names it."""


@dataclass(frozen=True)
class Example:
    """One fact under one template: what the model reads and what it should answer."""

    fact_id: str
    template: int
    prompt_ids: tuple
    target_ids: tuple  # identifier tokens + end-of-turn token


def messages(system_message, question):
    turns = [{"role": "system", "content": system_message}] if system_message else []
    return [*turns, {"role": "user", "content": question}]


def render_prompt(tokenizer, system_message, template, label, ontology):
    """The chat-formatted prompt text, ending where the assistant's answer begins."""
    question = template.replace("{label}", label).replace("{ontology}", ontology)
    return tokenizer.apply_chat_template(
        messages(system_message, question), tokenize=False, add_generation_prompt=True
    )


def end_of_turn_id(tokenizer):
    """The token the chat template closes an assistant turn with (Llama-3.1: `<|eot_id|>`), found by
    rendering a probe turn and tokenizing what follows its content; the eos token if nothing does."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "?"}, {"role": "assistant", "content": PROBE_ANSWER}], tokenize=False
    )
    after = rendered[rendered.index(PROBE_ANSWER) + len(PROBE_ANSWER) :] if PROBE_ANSWER in rendered else ""
    ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after.strip() else []
    if ids and ids[0] in tokenizer.all_special_ids:
        return ids[0]
    if tokenizer.eos_token_id is None:
        raise PromptError("the chat template closes no assistant turn with a special token and the tokenizer has no eos token")
    return tokenizer.eos_token_id


def identifier_ids(tokenizer, fact_id, identifier):
    """Token ids of `identifier`; it must decode back to itself, or greedy decoding could never match it."""
    ids = tokenizer(identifier, add_special_tokens=False)["input_ids"]
    decoded = tokenizer.decode(ids, skip_special_tokens=False)
    if not ids or decoded != identifier:
        raise PromptError(
            f"fact {fact_id}: identifier {identifier!r} does not round-trip through the tokenizer "
            f"(decodes to {decoded!r}); choose a tokenizer that can spell it"
        )
    return ids


def encode_facts(tokenizer, facts, system_message, templates, template_indices):
    """Examples for every fact (rows with fact_id, id, label, ontology) under each template index in
    `template_indices`; the identifier check runs for every fact before anything else is encoded."""
    end_id = end_of_turn_id(tokenizer)
    targets = {
        row.fact_id: (*identifier_ids(tokenizer, row.fact_id, row.id), end_id) for row in facts.itertuples()
    }
    examples = []
    for row in facts.itertuples():
        for index in template_indices:
            prompt = render_prompt(tokenizer, system_message, templates[index], row.label, row.ontology)
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            examples.append(Example(row.fact_id, index, tuple(prompt_ids), targets[row.fact_id]))
    return examples


def train_template(mode, n_templates, fact_index, epoch):
    """Template index a fact is trained with in `epoch` (1-based). `first`: always template 0. `all`:
    rotate through the templates, offset by the fact's position, so every fact sees every template
    equally often (over any n_templates consecutive epochs) and each batch mixes templates."""
    if mode == "first":
        return 0
    return (fact_index + epoch - 1) % n_templates
