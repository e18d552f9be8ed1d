"""Judge a generated reply the way the paper's group did: take the identifier out of the reply (a
JSON field first when configured, else the first match of the ontology's identifier pattern) and
compare it with the target. `exact` (teacher-forced) asks for the identifier and nothing else.
"""

import json
import re
from dataclasses import dataclass


EXTRACT_KEYS = ("max_new_tokens", "identifier_patterns", "json_field", "reply_chars")


def answer_settings(evaluate):
    """The keys of config section `evaluate` that decide how a reply is judged: under `exact` only
    the mode, so that extraction settings rerun nothing they do not change."""
    if evaluate["answer"] == "exact":
        return {"answer": "exact"}
    return {"answer": "extract", **{key: evaluate[key] for key in EXTRACT_KEYS}}


@dataclass(frozen=True)
class AnswerRule:
    """The extract rule: the identifier pattern per ontology, an optional JSON field read first
    (`{ontology}` replaced by the ontology's name), the length of a generated reply, and how much
    of it the tables keep."""

    patterns: dict
    json_field: str | None
    max_new_tokens: int
    reply_chars: int

    @classmethod
    def from_settings(cls, settings):
        """The rule `answer_settings` describe; None for `exact` (teacher-forced, nothing extracted)."""
        if settings["answer"] == "exact":
            return None
        return cls(
            dict(settings["identifier_patterns"]),
            settings["json_field"],
            settings["max_new_tokens"],
            settings["reply_chars"],
        )

    def identifier(self, reply, ontology):
        """The identifier this rule reads in `reply` to a question about an `ontology` term."""
        field = self.json_field.replace("{ontology}", ontology) if self.json_field else None
        return extract_identifier(reply, self.patterns[ontology], field)


def json_field_values(reply, field):
    """The values of `field` (as text) in the JSON objects found in `reply`, in order of appearance."""
    decoder = json.JSONDecoder()
    values = []
    for brace in re.finditer(r"\{", reply):
        try:
            parsed, _ = decoder.raw_decode(reply, brace.start())
        except ValueError:
            continue
        if isinstance(parsed, dict) and field in parsed:
            values.append(str(parsed[field]))
    return values


def extract_identifier(reply, pattern, json_field=None):
    """The first identifier matching `pattern` in `reply`: inside the value of `json_field` of a JSON
    object when there is one that holds an identifier, else anywhere in the reply; None if none."""
    regex = re.compile(pattern)
    candidates = json_field_values(reply, json_field) if json_field else []
    for text in [*candidates, reply]:
        found = regex.search(text)
        if found:
            return found.group(0)
    return None


def decode_reply(tokenizer, answer, end_id):
    """The text of one generated answer (token ids), up to its end-of-turn token."""
    if end_id in answer:
        answer = answer[: answer.index(end_id)]
    return tokenizer.decode(list(answer), skip_special_tokens=True)
