"""Chat templates that read today's date give the same prompt on two days once prompts.date_string
fixes it, and a template whose rendering changes between two calls is refused when it loads."""

import datetime

import pytest
import transformers.utils.chat_template_utils as chat_template_utils

from latentfacts.model.lm import ModelInputError, load_tokenizer
from latentfacts.model.prompts import render_prompt
from tiny_lm import SYSTEM, TEMPLATES, tiny_lm_dir

# the date logic of Llama 3.1-3.3 templates: `date_string` if set, else the clock
LLAMA_STYLE = (
    '{%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}'
    "<|system|>Today Date: {{ date_string }} {{ messages[0].content }}<|end|>"
    "{% for m in messages[1:] %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
# a template that reads the clock directly, in a format of its own
DIRECT = LLAMA_STYLE.replace("{{ date_string }}", '{{ strftime_now("%Y-%m-%d") }}')


def prompt_on(day, monkeypatch, template, date_string):
    """The prompt of one fact as rendered on `day` (transformers' clock for chat templates set to it)."""

    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls.combine(day, datetime.time(9))

    monkeypatch.setattr(chat_template_utils, "datetime", Clock)
    tokenizer = load_tokenizer(tiny_lm_dir(), template, date_string=date_string)
    return render_prompt(tokenizer, SYSTEM, TEMPLATES[0], "Seizure", "HPO")


@pytest.mark.parametrize("template", [LLAMA_STYLE, DIRECT])
def test_a_date_reading_template_gives_the_same_prompt_on_two_days(template, monkeypatch):
    days = datetime.date(2025, 3, 1), datetime.date(2025, 3, 2)
    unfixed = [prompt_on(day, monkeypatch, template, None) for day in days]
    assert unfixed[0] != unfixed[1]  # the template does read the date
    fixed = [prompt_on(day, monkeypatch, template, "26 Jul 2024") for day in days]
    assert fixed[0] == fixed[1] and "Today Date: 26 Jul 2024 " + SYSTEM in fixed[0]


def test_a_template_that_changes_between_calls_is_refused():
    drawing = LLAMA_STYLE.replace("{{ date_string }}", "{{ range(99999) | random }}")
    with pytest.raises(ModelInputError, match="renders the same conversation differently on two calls"):
        load_tokenizer(tiny_lm_dir(), drawing, date_string="26 Jul 2024")
