"""Figures of the measurements beside the survival analysis; each function takes result tables and the
run's facts (run.json) and returns a Figure (saved with latentfacts.analysis.figures.save, so files are
reproducible) that ends with the run's caption line."""

import numpy as np

from latentfacts.analysis.figures import caption, counts_axis, plt, wilson


def logprob_dynamics(by_epoch, effect, summary, run):
    """Left: mean gain per epoch (quartile band) by split. Right: logprob at the first correct epoch."""
    figure, (gain_axis, threshold_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    for split, rows in by_epoch.groupby("split", sort=True):
        mean = rows.groupby("epoch")[["mean_gain", "q25", "q75"]].mean()
        line = gain_axis.plot(mean.index, mean["mean_gain"], marker=".", label=split)[0]
        gain_axis.fill_between(mean.index, mean["q25"], mean["q75"], color=line.get_color(), alpha=0.2)
    gain_axis.axhline(0, color="grey", lw=0.8)
    gain_axis.set(xlabel="epoch", ylabel="gain in summed logprob (nats)", title="Per-epoch gain")
    gain_axis.legend(frameon=False)
    acquired = effect.loc[effect["first_correct_epoch"] > 0, "logprob_at_first_correct"]
    before = effect.loc[effect["first_correct_epoch"] > 0, "logprob_before"]
    bins = np.linspace(min(acquired.min(), before.min(), -1), 0, 30) if len(acquired) else 10
    threshold_axis.hist(before, bins=bins, alpha=0.5, label="epoch before")
    threshold_axis.hist(acquired, bins=bins, alpha=0.5, label="first correct epoch")
    threshold_axis.axvline(summary["best_threshold"], color="black", ls="--", label="best single cut")
    threshold_axis.set(xlabel="summed logprob of the target", ylabel="facts", title="Logprob when a fact turns correct")
    threshold_axis.legend(frameon=False)
    facts = by_epoch[by_epoch["epoch"] == by_epoch["epoch"].min()].groupby("split")["n"].sum()
    sizes = ", ".join(f"{split} {n}" for split, n in facts.items())
    caption(figure, run, f"Facts (seed x fact): {sizes}; right: the {len(acquired)} facts that became correct in training.")
    return figure


def exposure_forgetting(table, fit, run):
    """Per-epoch change in logprob (epoch mean removed) against steps since the last exposure."""
    centred = table["delta"] - table.groupby(["seed", "epoch"])["delta"].transform("mean")
    figure, axis = plt.subplots(figsize=(6, 4))
    # one point per fact and epoch: tens of thousands, drawn as one image in the SVG, not as paths
    axis.scatter(table["steps_since"], centred, s=3, alpha=0.15, color="tab:blue", rasterized=True)
    binned = centred.groupby(np.round(table["log_steps"] * 4) / 4).mean()
    axis.plot(np.exp(binned.index), binned, color="black", marker="o", label="binned mean")
    x = np.linspace(table["log_steps"].min(), table["log_steps"].max(), 50)
    offset = -fit["slope"] * table["log_steps"].mean()
    axis.plot(
        np.exp(x),
        offset + fit["slope"] * x,
        color="tab:red",
        label=f"slope {fit['slope']:.3f} [{fit['ci_low']:.3f}, {fit['ci_high']:.3f}]",
    )
    counts_axis(axis, table["steps_since"])
    axis.set(
        xlabel="optimizer steps since last exposure",
        ylabel="change in logprob (epoch mean removed)",
        title="Forgetting between exposures",
    )
    axis.legend(frameon=False)
    n = f"n = {fit['n']} fact-epochs of {fit['n_facts']} trained facts (seed x fact); 95% CI clustered by fact."
    caption(figure, run, n)
    return figure


def retainability(curve, fit, run):
    """Mean retainability per epoch since withdrawal (SE bars) and the power-law fit."""
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.errorbar(curve["t"], curve["mean_R"], yerr=curve["se"], fmt="o", color="tab:blue", label="mean R(t)")
    t = np.linspace(1, curve["t"].max(), 50)
    axis.plot(
        t,
        fit["intercept"] - fit["decay"] * np.log(t),
        color="tab:red",
        label=f"decay {fit['decay']:.3f} [{fit['decay_ci_low']:.3f}, {fit['decay_ci_high']:.3f}]",
    )
    axis.axhline(0, color="grey", lw=0.8)
    counts_axis(axis, curve["t"])
    axis.set(
        xlabel="epochs since withdrawal (t)",
        ylabel="retainability R(t)",
        title="Forgetting after withdrawal",
    )
    axis.legend(frameon=False)
    n = f"n = {fit['n_facts']} withdrawn facts (seed x fact); bars: standard errors; fit CI clustered by fact."
    caption(figure, run, n)
    return figure


def reverse_probe(recall, run):
    """Forward vs reverse recall per ontology and split, one panel per probed epoch, with 95% Wilson
    intervals and each bar's value printed (a zero bar shows as its value)."""
    epochs = sorted(recall["epoch"].unique())
    figure, axes = plt.subplots(1, len(epochs), figsize=(5 * len(epochs), 4), sharey=True, squeeze=False)
    pooled = recall.groupby(["epoch", "direction", "ontology", "split"])[["correct", "n"]].sum().reset_index()
    groups = sorted(pooled[["ontology", "split"]].drop_duplicates().itertuples(index=False, name=None))
    directions = {"forward": ("label -> identifier (trained)", "tab:blue"), "reverse": ("identifier -> label", "tab:red")}
    for axis, epoch in zip(axes[0], epochs):
        for offset, (direction, (label, color)) in zip([-0.2, 0.2], directions.items()):
            rows = pooled[(pooled["epoch"] == epoch) & (pooled["direction"] == direction)]
            rows = rows.set_index(["ontology", "split"]).reindex(groups)
            value = (rows["correct"] / rows["n"]).to_numpy(float)
            low, high = wilson(rows["correct"].fillna(0), rows["n"].fillna(0))
            x = np.arange(len(groups)) + offset
            axis.bar(x, value, width=0.4, color=color, label=f"{direction}: {label}")
            axis.errorbar(x, value, yerr=[value - low, high - value], fmt="none", color="black", capsize=3)
            for xi, v in zip(x, value):
                text = "n/a" if np.isnan(v) else f"{v:.2f}"
                axis.text(xi, np.nan_to_num(v) + 0.04, text, ha="center", fontsize="small", color=color)
        axis.set_xticks(range(len(groups)), [f"{ontology}\n{split}" for ontology, split in groups])
        axis.set_title(f"epoch {epoch}" + (" (base model)" if epoch == 0 else ""))
        axis.set_ylim(0, 1.12)
    axes[0][0].set_ylabel("greedy recall")
    axes[0][0].legend(frameon=False, loc="upper left")
    figure.suptitle("Reverse probe: forward vs reverse recall by ontology and split")
    first = pooled[(pooled["epoch"] == epochs[0]) & (pooled["direction"] == "reverse")]
    sizes = ", ".join(f"{r.ontology} {r.split} {r.n}" for r in first.itertuples())
    caption(figure, run, f"Facts (seed x fact): {sizes}. Bars: 95% Wilson intervals.")
    return figure


def linear_probe(results, run):
    """Probe accuracy (Wilson 95%) per epoch, one line per layer, against the majority baseline."""
    figure, axis = plt.subplots(figsize=(6, 4))
    mean = results.groupby(["layer", "epoch"])[["accuracy", "ci_low", "ci_high", "baseline"]].mean().reset_index()
    for layer, rows in mean.groupby("layer"):
        axis.errorbar(
            rows["epoch"],
            rows["accuracy"],
            yerr=[rows["accuracy"] - rows["ci_low"], rows["ci_high"] - rows["accuracy"]],
            marker="o",
            capsize=3,
            label=f"layer {layer}" + (" (embeddings)" if layer == 0 else ""),
        )
    baseline = mean.groupby("epoch")["baseline"].mean()
    axis.plot(baseline.index, baseline, color="black", ls="--", label="majority baseline")
    axis.set(
        xlabel="epoch", ylabel="test accuracy", ylim=(0, 1.02), title="Identifier digit from the term's hidden state"
    )
    axis.legend(frameon=False)
    sizes = results[["n_train", "n_test"]].iloc[0]
    n = f"Per seed and epoch: {sizes['n_train']} training and {sizes['n_test']} test facts; 95% Wilson bars."
    caption(figure, run, n)
    return figure


def augmentation(gaps, run):
    """Memorization (trained template) and semantic (held-out templates) recall per epoch and arm."""
    figure, axis = plt.subplots(figsize=(6, 4))
    for (arm, mode), rows in gaps.groupby(["arm", "train_templates"], sort=True):
        mean = rows.groupby("epoch")[["memorization_recall", "semantic_recall"]].mean()
        arm = f"{arm} ({'template 0' if mode == 'first' else 'all paraphrases'})"
        line = axis.plot(mean.index, mean["memorization_recall"], marker=".", label=f"{arm}: trained template")[0]
        axis.plot(
            mean.index,
            mean["semantic_recall"],
            ls="--",
            marker=".",
            color=line.get_color(),
            label=f"{arm}: held-out templates",
        )
    axis.set(
        xlabel="epoch",
        ylabel="greedy recall (trained facts)",
        ylim=(-0.02, 1.02),
        title="Memorization vs semantic probe",
    )
    axis.legend(frameon=False)
    facts = ", ".join(f"{arm} {n}" for arm, n in gaps.groupby("arm")["n_facts"].max().items())
    caption(figure, run, f"Trained facts per arm, seed and epoch: {facts}.")
    return figure
