"""Further measurements: training arms, log-probability dynamics, forgetting, probes, augmentation, their figures."""
