"""The study's figures (matplotlib, Agg): each function takes result tables and returns a Figure."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

# Fixed SVG ids and no timestamps, so the same tables give the same files.
plt.rcParams["svg.hashsalt"] = "latentfacts"
CLASS_COLORS = {"known": "tab:green", "latent": "tab:orange", "unknown": "tab:blue", "all": "black"}
MODEL_STYLES = {"cox": ("o", "tab:purple", "Cox (Efron)"), "discrete": ("s", "tab:cyan", "discrete-time cloglog")}


def save(figure, png, svg):
    figure.savefig(png, dpi=150, bbox_inches="tight", metadata={"Software": None})
    figure.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(figure)


def recall(trajectories):
    """Greedy recall per epoch by ontology and split; the band spans the seeds."""
    per_seed = trajectories.groupby(["ontology", "split", "seed", "epoch"])["correct"].mean().reset_index()
    figure, axis = plt.subplots(figsize=(6, 4))
    for (ontology, split), rows in per_seed.groupby(["ontology", "split"], sort=True):
        by_epoch = rows.groupby("epoch")["correct"]
        line = axis.plot(by_epoch.mean().index, by_epoch.mean(), marker=".", label=f"{ontology} {split}")[0]
        axis.fill_between(by_epoch.min().index, by_epoch.min(), by_epoch.max(), color=line.get_color(), alpha=0.2)
    axis.set(xlabel="epoch (0 = base model)", ylabel="greedy recall", ylim=(-0.02, 1.02), title="Recall per epoch")
    axis.legend(frameon=False)
    return figure


def kaplan_meier(curves):
    """One panel per endpoint: the event-free fraction by knowledge class with 95% bands."""
    endpoints = list(dict.fromkeys(curves["endpoint"]))
    figure, axes = plt.subplots(1, len(endpoints), figsize=(4 * len(endpoints), 3.6), squeeze=False)
    for axis, endpoint in zip(axes[0], endpoints):
        rows = curves[(curves["endpoint"] == endpoint) & (curves["knowledge"] != "all")]
        for knowledge, curve in rows.groupby("knowledge", sort=True):
            color = CLASS_COLORS.get(knowledge)
            label = f"{knowledge} (n={curve['at_risk'].iloc[0]})"
            axis.step(curve["epoch"], curve["survival"], where="post", color=color, label=label)
            axis.fill_between(curve["epoch"], curve["ci_lower"], curve["ci_upper"], step="post", color=color, alpha=0.2)
        if rows.empty:
            axis.text(0.5, 0.5, "no facts at risk", ha="center", transform=axis.transAxes)
        else:
            axis.legend(frameon=False, fontsize="small")
        axis.set(title=endpoint, xlabel="epoch", ylim=(-0.02, 1.02))
    axes[0][0].set_ylabel("fraction without the event")
    return figure


def hazard_ratios(table):
    """Forest plot: HR with 95% CI per covariate, Cox beside discrete-time, one panel per endpoint."""
    endpoints = list(dict.fromkeys(table["endpoint"]))
    figure, axes = plt.subplots(1, len(endpoints), figsize=(4 * len(endpoints), 3.6), squeeze=False)
    for axis, endpoint in zip(axes[0], endpoints):
        rows = table[table["endpoint"] == endpoint]
        covariates = list(dict.fromkeys(rows["covariate"]))
        positions = {name: i for i, name in enumerate(covariates)}
        for offset, (model, (marker, color, label)) in zip([-0.15, 0.15], MODEL_STYLES.items()):
            fit = rows[rows["model"] == model]
            y = np.array([positions[c] for c in fit["covariate"]]) + offset
            error = [fit["hr"] - fit["hr_lower"], fit["hr_upper"] - fit["hr"]]
            axis.errorbar(fit["hr"], y, xerr=error, fmt=marker, color=color, label=label, capsize=2)
        axis.axvline(1.0, color="grey", linewidth=0.8)
        axis.set(title=endpoint, xlabel="hazard ratio (log scale)", xscale="log")
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_yticks(range(len(covariates)), covariates)
        axis.invert_yaxis()
        if not covariates:
            axis.text(0.5, 0.5, "no model (see models table)", ha="center", transform=axis.transAxes)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.08))
    figure.tight_layout()
    return figure


def dynamics(curves):
    """Acquisition rate per epoch and cumulative acquisition by knowledge class (seeds pooled)."""
    pooled = curves[curves["seed"] == "pooled"]
    figure, (rate_axis, cumulative_axis) = plt.subplots(1, 2, figsize=(9, 3.6))
    for knowledge, curve in pooled.groupby("knowledge", sort=True):
        style = {"color": CLASS_COLORS.get(knowledge), "label": knowledge, "marker": "."}
        rate_axis.plot(curve["epoch"], curve["rate"], **style)
        cumulative_axis.plot(curve["epoch"], curve["cumulative"], **style)
    rate_axis.set(xlabel="epoch", ylabel="acquired / at risk", title="Acquisition rate")
    cumulative_axis.set(xlabel="epoch", ylabel="fraction acquired", title="Cumulative acquisition", ylim=(-0.02, 1.02))
    rate_axis.legend(frameon=False)
    return figure
