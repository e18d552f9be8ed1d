"""Figures of the measurements beside the survival analysis; each function takes result tables
and returns a Figure (saved with latentfacts.analysis.figures.save, so files are reproducible)."""

import numpy as np

from latentfacts.analysis.figures import plt


def logprob_dynamics(by_epoch, effect, summary):
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
    return figure


def exposure_forgetting(table, fit):
    """Per-epoch change in logprob (epoch mean removed) against steps since the last exposure."""
    centred = table["delta"] - table.groupby(["seed", "epoch"])["delta"].transform("mean")
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter(table["steps_since"], centred, s=3, alpha=0.15, color="tab:blue")
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
    axis.set(
        xscale="log",
        xlabel="optimizer steps since last exposure",
        ylabel="change in logprob (epoch mean removed)",
        title="Forgetting between exposures",
    )
    axis.legend(frameon=False)
    return figure


def retainability(curve, fit):
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
    axis.set(
        xscale="log",
        xlabel="epochs since withdrawal (t)",
        ylabel="retainability R(t)",
        title="Forgetting after withdrawal",
    )
    axis.legend(frameon=False)
    return figure


def reverse_probe(recall):
    """Forward vs reverse recall at the probed epochs, by ontology."""
    figure, axis = plt.subplots(figsize=(6, 4))
    labels = []
    for i, ((direction, ontology), rows) in enumerate(recall.groupby(["direction", "ontology"], sort=True)):
        mean = rows.groupby("epoch")["recall"].mean()
        axis.bar(np.arange(len(mean)) + i * 0.2, mean.to_numpy(), width=0.2, label=f"{direction} {ontology}")
        labels = [f"epoch {e}" for e in mean.index]
    axis.set_xticks(np.arange(len(labels)) + 0.3, labels)
    axis.set(ylabel="greedy recall", ylim=(0, 1.02), title="Forward (label -> id) vs reverse (id -> label)")
    axis.legend(frameon=False)
    return figure


def linear_probe(results):
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
    return figure


def augmentation(gaps):
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
    return figure
