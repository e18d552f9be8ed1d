"""The embedded study's base model: a synthetic corpus with planted fact frequencies, and pretraining on it."""
