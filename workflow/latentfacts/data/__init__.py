"""Data stage: fetch sources, parse ontologies and annotations, sample pairs, count frequencies, join covariates."""
