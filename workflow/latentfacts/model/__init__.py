"""Model stage: load a causal LM and its adapters, build prompts, score facts, sample, fine-tune, evaluate."""
