"""The embedded model's chat format: its special tokens and chat template, and the template rendered
without a tokenizer (the corpus is written before the tokenizer exists, in a job that needs no torch)."""

from jinja2.sandbox import ImmutableSandboxedEnvironment

BOS, EOS, PAD = "<|begin|>", "<|end|>", "<|pad|>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]
SPECIAL_TOKENS = [PAD, BOS, EOS, *ROLE_TOKENS]

# One turn is `<|role|>content<|end|>`, no newlines, so a rendered conversation is one line of text.
# The assistant's answer is the identifier followed by `<|end|>`, the tokenizer's eos token.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}"
)

# The environment transformers renders chat templates in (sandboxed, trim_blocks, lstrip_blocks).
_COMPILED = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(CHAT_TEMPLATE)


def render_chat(messages):
    """`messages` as text in CHAT_TEMPLATE, exactly as the trained tokenizer's `apply_chat_template`
    renders it."""
    return _COMPILED.render(messages=messages, bos_token=BOS, add_generation_prompt=False)
