"""The study's figures (matplotlib, Agg): each function takes result tables and returns a Figure.

Every figure ends with a caption line naming the run (model, seeds, epochs) and its n; curves and
rates are drawn only over epochs with at least `min_at_risk` facts at risk, with 95% bands; a panel
with nothing to draw says why.
"""

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.transforms  # noqa: E402
import numpy as np  # noqa: E402

# Fixed SVG ids and no timestamps, so the same tables give the same files.
plt.rcParams["svg.hashsalt"] = "latentfacts"
CLASS_COLORS = {"known": "tab:green", "latent": "tab:orange", "unknown": "tab:blue", "all": "black",
                "trained": "tab:purple", "withheld": "tab:gray"}  # fmt: skip
MODEL_STYLES = {"cox": ("o", "tab:purple", "Cox (Efron)"), "discrete": ("s", "tab:cyan", "discrete-time cloglog")}
# The questions of the study and the survival endpoints that answer each.
QUESTIONS = {
    "acquisition": ["acquisition", "acquisition_stable"],
    "generalization": ["generalization"],
    "degradation": ["degradation", "degradation_persistent"],
}
# The covariate whose hazard ratio per epoch band each endpoint's figure shows.
BAND_COVARIATE = {
    "acquisition": "latent",
    "acquisition_stable": "latent",
    "generalization": "latent",
    "degradation": "seen",
    "degradation_persistent": "seen",
}
COVARIATE_LABELS = {
    "latent": "latent at baseline",
    "log1p_id_frequency": "log(1 + identifier frequency)",
    "log1p_label_frequency": "log(1 + label frequency)",
    "log1p_n_annotations": "log(1 + annotations)",
    "depth": "depth in the ontology",
    "ontology_GO": "GO (vs HPO)",
    "seen": "trained (vs withheld)",
}
EVENT_WORDS = {
    "acquisition": "not yet correct",
    "acquisition_stable": "not yet stably correct",
    "generalization": "not yet correct",
    "degradation": "still correct",
    "degradation_persistent": "not yet persistently wrong",
}


def save(figure, png, svg):
    figure.savefig(png, dpi=150, bbox_inches="tight", metadata={"Software": None})
    figure.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(figure)


def endpoint_title(endpoint, stable_k):
    return {
        "acquisition": "Acquisition (first correct)",
        "acquisition_stable": f"Acquisition (stable: {stable_k} correct in a row)",
        "generalization": "Generalization (withheld facts)",
        "degradation": "Degradation (facts correct at baseline)",
        "degradation_persistent": f"Degradation (persistent: {stable_k} wrong in a row)",
    }.get(endpoint, endpoint)


def caption(figure, run, n):
    """The run's line under the figure: model, seeds, epochs and the figure's n."""
    seeds = ", ".join(map(str, run["seeds"]))
    text = f"Model: {run['model']}. Seeds: {seeds}; {run['epochs']} epochs. {n}"
    width = int(figure.get_figwidth() * 16)  # characters of the small font across the figure
    figure.text(0.0, 0.0, textwrap.fill(text, width), ha="left", va="top", fontsize="small", color="dimgrey")


def counts_axis(axis, values):
    """A log x-axis of counts labelled 1, 2, 5, 10, 20, 50, ... over `values` (not 10^0, 10^1)."""
    high = max(values)
    ticks = [m * 10**k for k in range(int(math.log10(max(high, 1))) + 1) for m in (1, 2, 5) if m * 10**k <= high * 1.05]
    axis.set_xscale("log")
    axis.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def why_not_drawn(axis, reason):
    axis.text(0.5, 0.5, textwrap.fill(reason, 40), ha="center", va="center", transform=axis.transAxes, color="dimgrey")


def wilson(hits, total, z=1.959963984540054):
    """95% Wilson score interval of hits/total, elementwise (NaN where total is 0). Written out, not
    statsmodels', so the model rules' environment draws the measurement figures too."""
    hits, total = np.asarray(hits, float), np.asarray(total, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = hits / total
        centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    # the interval holds p; min/max only undo rounding at p = 0 or 1
    return np.clip(np.fmin(centre - half, p), 0, 1), np.clip(np.fmax(centre + half, p), 0, 1)


def recall(trajectories, run):
    """Greedy recall per epoch by ontology and split (seeds pooled), with 95% Wilson bands."""
    counts = trajectories.groupby(["ontology", "split", "epoch"])["correct"].agg(["sum", "size"]).reset_index()
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for (ontology, split), rows in counts.groupby(["ontology", "split"], sort=True):
        low, high = wilson(rows["sum"], rows["size"])
        line = axis.plot(rows["epoch"], rows["sum"] / rows["size"], marker=".", label=f"{ontology} {split}")[0]
        axis.fill_between(rows["epoch"], low, high, color=line.get_color(), alpha=0.2)
    axis.set(xlabel="epoch (0 = base model)", ylabel="greedy recall (fraction correct)", ylim=(-0.02, 1.02))
    axis.set_title("Recall per epoch, by ontology and split")
    axis.legend(frameon=False)
    caption(figure, run, f"{recall_n(trajectories)} Bands: 95% Wilson intervals, seeds pooled.")
    return figure


def recall_n(trajectories):
    facts = trajectories.groupby(["ontology", "split"])["fact_id"].nunique()
    return "Facts: " + ", ".join(f"{ontology} {split} {n}" for (ontology, split), n in facts.items()) + "."


def km_panel(axis, rows, endpoint, min_at_risk):
    """Kaplan-Meier step curves by group over the epochs with at least `min_at_risk` facts at risk."""
    group = "group" if "group" in rows else "knowledge"
    rows = rows[rows[group] != "all"]
    skipped = []
    for name, curve in rows.groupby(group, sort=True):
        n = int(curve["at_risk"].iloc[0])
        curve = curve[curve["at_risk"] >= min_at_risk]
        if curve.empty:
            skipped.append(f"{name} (n={n})")
            continue
        color = CLASS_COLORS.get(name)
        line = axis.step(curve["epoch"], curve["survival"], where="post", color=color, label=f"{name} (n={n})")[0]
        axis.fill_between(
            curve["epoch"], curve["ci_lower"], curve["ci_upper"], step="post", color=line.get_color(), alpha=0.2
        )
    if rows.empty:
        why_not_drawn(axis, "no facts at risk for this endpoint")
    elif skipped and len(skipped) == rows[group].nunique():
        why_not_drawn(axis, f"fewer than {min_at_risk} facts at risk in every group: {', '.join(skipped)}")
    else:
        axis.legend(frameon=False, fontsize="small", title=f"fraction {EVENT_WORDS.get(endpoint, '')}")
        if skipped:
            axis.text(0.02, 0.02, f"not drawn (< {min_at_risk} at risk): {', '.join(skipped)}",
                      transform=axis.transAxes, fontsize="x-small", color="dimgrey")  # fmt: skip
    axis.set_ylim(-0.02, 1.02)


MAX_HR_TICKS = 9


def hr_ticks(values):
    """Powers of two spanning `values` and at least 0.25..4, for a log hazard-ratio axis; over a wide
    span (a sparse band's CI) every second, third, ... power, 1 always among them, so labels stay apart."""
    values = [v for v in values if np.isfinite(v) and v > 0]
    low = math.floor(math.log2(min([0.25, *values])))
    high = math.ceil(math.log2(max([4.0, *values])))
    step = math.ceil((high - low + 1) / MAX_HR_TICKS)
    return [2.0**k for k in range(step * math.floor(low / step), high + step, step)]


def hr_label(value):
    return f"{value:.3g}" if value >= 0.01 else f"{value:.0e}"


def hr_text(value):
    """An estimate or CI bound as printed beside its marker: two decimals, or two digits when tiny."""
    return f"{value:.2f}" if value >= 0.01 or value == 0 else f"{value:.1e}"


def hr_scale(axis, values):
    """A log hazard-ratio scale on `axis` (an x- or y-axis) labelled at readable values."""
    ticks = hr_ticks(values)
    name = axis.axis_name  # "x" or "y"
    getattr(axis.axes, f"set_{name}scale")("log")
    axis.set_ticks(ticks, [hr_label(t) for t in ticks])
    axis.set_minor_locator(matplotlib.ticker.NullLocator())
    getattr(axis.axes, f"set_{name}lim")(ticks[0] / 1.2, ticks[-1] * 1.2)


def band_panel(axis, effects, endpoint):
    """The hazard ratio of the endpoint's main covariate per epoch band (seeds pooled), estimate printed."""
    covariate = BAND_COVARIATE.get(endpoint)
    rows = effects[(effects["endpoint"] == endpoint) & (effects["model"] == "cox_band")
                   & (effects["seed"].astype(str) == "pooled") & (effects["covariate"] == covariate)]  # fmt: skip
    axis.set_title(f"{COVARIATE_LABELS.get(covariate, covariate)}: HR per epoch band", fontsize="medium")
    estimated = rows.dropna(subset=["hr"])
    if estimated.empty:
        notes = "; ".join(dict.fromkeys(rows["note"].dropna().astype(str))) or "no band model for this endpoint"
        why_not_drawn(axis, f"no hazard ratio per band: {textwrap.shorten(notes, 120)}")
        axis.set_xticks([])
        axis.set_yticks([])
        return
    x = np.arange(len(rows))
    position = dict(zip(rows["band"], x))
    hr, lower, upper = (estimated[c].to_numpy(float) for c in ["hr", "hr_lower", "hr_upper"])
    at = np.array([position[b] for b in estimated["band"]])
    axis.errorbar(at, hr, yerr=[hr - lower, upper - hr], fmt="o", color="tab:purple", capsize=3)
    for xi, value, low, high in zip(at, hr, lower, upper):
        axis.annotate(f"{hr_text(value)}\n({hr_text(low)}-{hr_text(high)})", (xi, high), textcoords="offset points", xytext=(0, 3),
                      ha="center", fontsize="x-small")  # fmt: skip
    axis.axhline(1.0, color="grey", linewidth=0.8)
    hr_scale(axis.yaxis, [*lower, *upper, upper.max() * 2])
    labels = [f"epochs {band}" + ("" if band in set(estimated["band"]) else "\n(not estimable)") for band in rows["band"]]
    axis.set_xticks(x, labels)
    axis.set_xlim(-0.5, len(rows) - 0.5)
    axis.set_ylabel("hazard ratio (log)")


def forest_panel(axis, rows, model_facts):
    """HR with 95% CI per covariate, Cox beside discrete-time; the estimates printed right of each row."""
    covariates = list(dict.fromkeys(rows["covariate"]))
    positions = {name: i for i, name in enumerate(covariates)}
    text_at = matplotlib.transforms.blended_transform_factory(axis.transAxes, axis.transData)
    missing = []
    for offset, (model, (marker, color, label)) in zip([-0.17, 0.17], MODEL_STYLES.items()):
        fit = rows[rows["model"] == model]
        if fit.empty:
            reason = model_facts.get(model) or "no estimates"
            missing.append(f"{label}: {textwrap.shorten(reason, 90)}")
            continue
        y = np.array([positions[c] for c in fit["covariate"]]) + offset
        hr, lower, upper = (fit[column].to_numpy(float) for column in ["hr", "hr_lower", "hr_upper"])
        axis.errorbar(hr, y, xerr=[hr - lower, upper - hr], fmt=marker, color=color, label=label, capsize=2)
        for row, at in zip(fit.itertuples(), y):
            axis.text(1.03, at, f"{hr_text(row.hr)} ({hr_text(row.hr_lower)}-{hr_text(row.hr_upper)})", transform=text_at,
                      va="center", fontsize="x-small", color=color)  # fmt: skip
    if not covariates:
        why_not_drawn(axis, "no hazard ratio: " + "; ".join(missing))
        axis.set_yticks([])
        return
    axis.axvline(1.0, color="grey", linewidth=0.8)
    hr_scale(axis.xaxis, [*rows["hr_lower"], *rows["hr_upper"]])
    axis.set_yticks(range(len(covariates)), [COVARIATE_LABELS.get(c, c) for c in covariates])
    axis.set_ylim(len(covariates) - 0.5, -0.5)
    if missing:
        axis.set_title("; ".join(missing), fontsize="x-small", color="dimgrey", loc="left", wrap=True)


def endpoint_n(curves, endpoint):
    """Facts at risk at the start: the groups' first at-risk counts added up."""
    rows = curves[curves["endpoint"] == endpoint]
    group = "group" if "group" in rows else "knowledge"
    first = rows[(rows[group] != "all") & (rows["epoch"] == rows["epoch"].min())]
    return int(first["at_risk"].sum())


def question_n(curves, question, stable_k):
    endpoints = [e for e in QUESTIONS[question] if e in set(curves["endpoint"])]
    counts = "; ".join(f"{endpoint_title(e, stable_k)}: {endpoint_n(curves, e)}" for e in endpoints)
    return f"Facts at risk (seed x fact): {counts}."


def question(question, curves, hazard_ratios, models, run, stable_k, min_at_risk, effects=None):
    """One question's figure per endpoint: Kaplan-Meier curves (top), the hazard-ratio forest, and with
    `effects` the main covariate's hazard ratio per epoch band. `curves` may hold a `group` column (e.g.
    degradation's trained vs withheld curves) in place of the knowledge classes."""
    # the models table has a row for every endpoint fitted or not; curves and hazard ratios may have none
    endpoints = [e for e in QUESTIONS[question] if e in set(models["endpoint"])]
    rows = 2 if effects is None else 3
    figure, axes = plt.subplots(
        rows, len(endpoints), figsize=(6.2 * len(endpoints), 3.8 * rows), squeeze=False,
        gridspec_kw={"height_ratios": [1, 1.1, 0.9][:rows], "wspace": 0.95, "hspace": 0.5},
    )  # fmt: skip
    for column, endpoint in zip(axes.T, endpoints):
        km_axis, forest_axis = column[:2]
        km_axis.set_title(endpoint_title(endpoint, stable_k))
        km_panel(km_axis, curves[curves["endpoint"] == endpoint], endpoint, min_at_risk)
        if effects is not None:
            band_panel(column[2], effects, endpoint)
        km_axis.set(xlabel="epoch", ylabel="fraction of facts without the event")
        facts = models[models["endpoint"] == endpoint].set_index("model")["reason"].dropna().to_dict()
        forest_panel(forest_axis, hazard_ratios[hazard_ratios["endpoint"] == endpoint], facts)
        forest_axis.set_xlabel("hazard ratio, 95% CI (log scale; > 1: the event comes sooner)")
    handles = {label: handle for axis in axes[1] for handle, label in zip(*axis.get_legend_handles_labels())}
    handles = {label: handle for label, handle in handles.items() if label in {s[2] for s in MODEL_STYLES.values()}}
    if handles:
        figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=2, frameon=False,
                      bbox_to_anchor=(0.5, 0.95), title="hazard ratios")  # fmt: skip
    caption(figure, run, f"{question_n(curves, question, stable_k)} Curves stop where fewer than {min_at_risk} facts are at risk.")
    return figure


def dynamics_n(curves):
    first = curves[(curves["seed"] == "pooled") & (curves["knowledge"] != "all") & (curves["epoch"] == 1)]
    counts = ", ".join(f"{row.knowledge} {row.at_risk}" for row in first.itertuples())
    return f"Facts at risk of acquisition (seed x fact, seeds pooled): {counts}."


def dynamics(curves, run, min_at_risk):
    """Acquisition rate per epoch and cumulative acquisition by knowledge class (seeds pooled), with
    95% Wilson intervals, drawn where at least `min_at_risk` facts are at risk."""
    pooled = curves[(curves["seed"] == "pooled") & (curves["knowledge"] != "all")]
    figure, (rate_axis, cumulative_axis) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for knowledge, curve in pooled.groupby("knowledge", sort=True):
        n = int(curve["at_risk"].iloc[0])
        style = {"color": CLASS_COLORS.get(knowledge), "label": f"{knowledge} (n={n})", "marker": "."}
        enough = curve[curve["at_risk"] >= min_at_risk]
        low, high = wilson(enough["acquired"], enough["at_risk"])
        rate_axis.plot(enough["epoch"], enough["rate"], **style)
        rate_axis.fill_between(enough["epoch"], low, high, color=style["color"], alpha=0.2)
        acquired = np.round(curve["cumulative"] * n)
        low, high = wilson(acquired, np.full(len(curve), n))
        cumulative_axis.plot(curve["epoch"], curve["cumulative"], **style)
        cumulative_axis.fill_between(curve["epoch"], low, high, color=style["color"], alpha=0.2)
    if pooled.empty:
        why_not_drawn(rate_axis, "no facts at risk of acquisition")
    rate_axis.set(ylabel="acquired at the epoch / at risk", title="Acquisition rate per epoch")
    cumulative_axis.set(ylabel="fraction of the class acquired", title="Cumulative acquisition", ylim=(-0.02, 1.02))
    figure.supxlabel("epoch")
    rate_axis.legend(frameon=False, loc="upper center")
    caption(
        figure, run,
        f"{dynamics_n(curves)} Rates drawn where at least {min_at_risk} facts are at risk; bands: 95% Wilson "
        "intervals.",
    )  # fmt: skip
    return figure


def figure_notes(trajectories, km_curves, dynamics_curves, stable_k, min_at_risk):
    """name -> {title, n, read}: what summary.md says of each figure."""
    stops = f"Curves stop where fewer than {min_at_risk} facts are at risk."
    questions = {
        name: {
            "title": f"{name.capitalize()}: Kaplan-Meier curves and hazard ratios",
            "n": question_n(km_curves, name, stable_k),
            "read": "Top: the fraction of facts still without the event per epoch, by group, with 95% bands; "
            "bottom: hazard ratios with 95% CIs on a log axis (> 1: the event comes sooner). " + stops,
        }
        for name in QUESTIONS
    }
    return {
        "recall": {
            "title": "Recall per epoch",
            "n": recall_n(trajectories),
            "read": "Fraction of facts correct per epoch by ontology and split, epoch 0 = base model; 95% bands.",
        },
        **questions,
        "dynamics": {
            "title": "Learning dynamics",
            "n": dynamics_n(dynamics_curves),
            "read": "Left: share of the unlearned facts first correct at each epoch; right: cumulative share "
            f"acquired; 95% bands. Rates drawn where at least {min_at_risk} facts are at risk.",
        },
    }
