"""Analysis stage: per-fact trajectories, survival tables, Cox / discrete-time / Kaplan-Meier fits, dynamics, figures, summary."""
