"""Model stage: load a causal LM and its adapters, build prompts, score facts, sample, fine-tune, evaluate."""

import warnings

# peft reads transformers' `is_gradient_checkpointing`, an alias transformers 5 deprecates: a
# FutureWarning about peft's code, repeated for every adapter loaded. Only that message is silenced.
warnings.filterwarnings(
    "ignore",
    message="`is_gradient_checkpointing` is deprecated",
    category=FutureWarning,
    module=r"transformers\.modeling_utils",
)
