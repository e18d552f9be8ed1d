"""Cluster-robust (sandwich) variance of a Cox model with Efron ties, as R's coxph(..., cluster = ).

V = I^-1 (sum over clusters of U_c U_c') I^-1, with U_c the sum of a cluster's score residuals at the estimate
(Therneau & Grambsch 2000, ch. 7; the Efron form of survival's coxscore).
"""

import numpy as np
import pandas as pd


def efron_score_residuals(duration, event, x, beta, strata):
    """rows x covariates score residuals at `beta`; Efron's handling of tied events, risk sets within strata."""
    residuals = np.zeros_like(x, dtype=float)
    risk = np.exp(x @ beta)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        t, dead, xs, r = duration[rows], event[rows] == 1, x[rows], risk[rows]
        for time in np.unique(t[dead]):
            at_risk, dying = t >= time, dead & (t == time)
            d = dying.sum()
            s0, s1 = r[at_risk].sum(), r[at_risk] @ xs[at_risk]
            s0_dying, s1_dying = r[dying].sum(), r[dying] @ xs[dying]
            fractions = np.arange(d) / d
            denominators = s0 - fractions * s0_dying
            means = (s1[None, :] - fractions[:, None] * s1_dying[None, :]) / denominators[:, None]
            hazard = 1 / denominators
            # every subject at risk: - r_j sum_k w_jk hazard_k (x_j - mean_k); w = 1, or 1 - k/d for the dying
            others = at_risk & ~dying
            residuals[rows[others]] -= r[others, None] * (hazard.sum() * xs[others] - hazard @ means)
            weights = (1 - fractions) * hazard
            residuals[rows[dying]] += xs[dying] - means.mean(axis=0)
            residuals[rows[dying]] -= r[dying, None] * (weights.sum() * xs[dying] - weights @ means)
    return residuals


def clustered_covariance(table, covariates, strata, clusters, beta, variance):
    """Robust covariance (covariates x covariates) of the Cox estimate `beta` with model-based `variance`."""
    strata_codes = table.groupby(strata, sort=True).ngroup().to_numpy() if strata else np.zeros(len(table), int)
    residuals = efron_score_residuals(
        table["duration"].to_numpy(), table["event"].to_numpy(), table[covariates].to_numpy(float), beta, strata_codes
    )
    per_cluster = pd.DataFrame(residuals).groupby(table[clusters].to_numpy()).sum().to_numpy()
    dfbeta = per_cluster @ variance
    return dfbeta.T @ dfbeta

