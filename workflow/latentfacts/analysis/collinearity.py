"""Variance inflation factors of a model's covariates: how far each is explained by the others."""

import numpy as np

# Above this a covariate's own hazard ratio cannot be read apart from those it correlates with
# (a common rule of thumb; 10 is the lenient one).
VIF_WARNING = 5.0


def variance_inflation(table, covariates):
    """{covariate: VIF} = diagonal of the inverse correlation matrix (1 / (1 - R^2) of each covariate
    regressed on the others with an intercept); 1.0 for a lone covariate."""
    if len(covariates) < 2:
        return {name: 1.0 for name in covariates}
    correlation = np.corrcoef(table[covariates].to_numpy(dtype=float), rowvar=False)
    return {name: float(v) for name, v in zip(covariates, np.diag(np.linalg.pinv(correlation)))}


def vif_warnings(vif):
    return [
        f"VIF of {name} is {value:.1f} (> {VIF_WARNING:g}): its hazard ratio is confounded with correlated covariates"
        for name, value in vif.items()
        if value > VIF_WARNING
    ]
