"""The figures as a reader sees them: their words (matplotlib's own text objects, not pixels), the
run's caption line, readable hazard-ratio ticks, curves only where enough facts are at risk, and
file sizes a browser opens quickly."""

import matplotlib.image
import matplotlib.text
import numpy as np
import pandas as pd
import pytest

from latentfacts.analysis import figures
from latentfacts.analysis.dynamics import dynamics
from latentfacts.analysis.kaplan_meier import curves as km_curves, fitted_groups
from latentfacts.measurements.figures import exposure_forgetting, reverse_probe

RUN = {"model": "embedded Llama pretrained by the workflow, 123,456 parameters", "seeds": [0, 1], "epochs": 6}
HR_COLUMNS = ["endpoint", "model", "covariate", "coef", "se", "hr", "hr_lower", "hr_upper", "p"]


def texts(figure):
    return [text.get_text() for text in figure.findobj(matplotlib.text.Text) if text.get_text()]


def survival(rng, n, horizon=6):
    """A survival table: latent facts (few) have their event sooner than unknown ones."""
    latent = np.arange(n) < 12
    event_at = np.where(latent, rng.integers(1, 3, n), rng.integers(1, 12, n))
    return pd.DataFrame({"seed": rng.integers(0, 2, n), "fact_id": np.arange(n), "latent": latent.astype(int),
                         "knowledge": np.where(latent, "latent", "unknown"),
                         "duration": np.minimum(event_at, horizon), "event": (event_at <= horizon).astype(int),
                         "reverted": 0})  # fmt: skip


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(0)
    curves = []
    for endpoint in ["acquisition", "acquisition_stable", "generalization", "degradation"]:
        table = survival(rng, 200)
        curve = km_curves(table, fitted_groups(table, 6))
        curves.append(curve.assign(endpoint=endpoint))
    hazard_ratios = pd.DataFrame(
        [(e, m, c, 0.0, 0.1, hr, hr / 1.5, hr * 1.5, 0.01)
         for e in ["acquisition", "acquisition_stable", "degradation"] for m in ["cox", "discrete"]
         for c, hr in [("latent", 3.0), ("depth", 0.8)]]
        + [("generalization", "discrete", "latent", 0.0, 0.1, 2.0, 0.9, 4.4, 0.08)],
        columns=HR_COLUMNS,
    )  # fmt: skip
    models = pd.DataFrame(
        [(e, m, "") for e in ["acquisition", "acquisition_stable", "degradation"] for m in ["cox", "discrete"]]
        + [("generalization", "cox", "Cox fit did not converge: singular matrix"), ("generalization", "discrete", "")],
        columns=["endpoint", "model", "reason"],
    ).replace("", np.nan)  # fmt: skip
    acquisition = survival(rng, 200)
    return pd.concat(curves, ignore_index=True), hazard_ratios, models, acquisition


def test_question_figure_reads_in_words_with_readable_ticks_and_estimates(tables, tmp_path):
    curves, hazard_ratios, models, _ = tables
    figure = figures.question("acquisition", curves, hazard_ratios, models, RUN, stable_k=3, min_at_risk=5)
    words = texts(figure)
    assert "Acquisition (first correct)" in words and "Acquisition (stable: 3 correct in a row)" in words
    assert {"0.25", "0.5", "1", "2", "4"} <= set(words)  # tick labels at readable hazard ratios
    assert "3.00 (2.00-4.50)" in words and "latent at baseline" in words
    caption = next(w for w in words if w.startswith("Model: "))
    assert "123,456 parameters" in caption and "Seeds: 0, 1" in caption and "Facts at risk" in caption
    png, svg = tmp_path / "acquisition.png", tmp_path / "acquisition.svg"
    figures.save(figure, png, svg)
    height, width = matplotlib.image.imread(png).shape[:2]
    assert 800 < width < 3000 and 600 < height < 2500 and svg.stat().st_size < 1_000_000


def test_a_model_that_could_not_be_fitted_says_why_on_its_panel(tables):
    curves, hazard_ratios, models, _ = tables
    figure = figures.question("generalization", curves, hazard_ratios, models, RUN, stable_k=3, min_at_risk=5)
    words = " ".join(texts(figure))
    assert "Generalization (withheld facts)" in words
    assert "Cox (Efron): Cox fit did not converge: singular matrix" in words


def test_a_short_run_without_curves_or_estimates_still_draws_its_panels(tables):
    curves, hazard_ratios, models, _ = tables
    figure = figures.question("degradation", curves.iloc[:0], hazard_ratios.iloc[:0], models, RUN, stable_k=3, min_at_risk=5)
    words = " ".join(texts(figure))
    assert "Degradation (facts correct at baseline)" in words


def test_curves_stop_where_too_few_facts_are_at_risk(tables):
    curves, hazard_ratios, models, _ = tables
    figure = figures.question("degradation", curves, hazard_ratios, models, RUN, stable_k=3, min_at_risk=20)
    axis = figure.axes[0]
    latent = curves[(curves["endpoint"] == "degradation") & (curves["knowledge"] == "latent")]
    assert latent["at_risk"].iloc[0] < 20  # 12 latent facts: fewer than min_at_risk from the start
    labels = [line.get_label() for line in axis.get_lines()]
    assert "unknown (n=188)" in labels and not any(label.startswith("latent") for label in labels)
    assert any(w.startswith("not drawn (< 20 at risk): latent (n=12)") for w in texts(figure))


def test_dynamics_rates_only_where_enough_facts_are_at_risk(tables):
    *_, acquisition = tables
    curves, _ = dynamics(acquisition, horizon=6, convergence_fraction=0.95, min_at_risk=10, replicates=100, seed=0)
    figure = figures.dynamics(curves, RUN, min_at_risk=10)
    rate_axis = figure.axes[0]
    pooled = curves[(curves["seed"] == "pooled") & (curves["knowledge"] == "latent")]
    drawn = next(line for line in rate_axis.get_lines() if line.get_label().startswith("latent"))
    assert list(drawn.get_xdata()) == list(pooled.loc[pooled["at_risk"] >= 10, "epoch"])
    assert "epoch" in texts(figure) and any("Rates drawn where at least 10" in w for w in texts(figure))


def test_reverse_probe_shows_every_split_and_its_zero_bars():
    recall = pd.DataFrame(
        [(0, e, o, s, d, c, 100) for e in [0, 6] for o, s in [("GO", "train"), ("GO", "withheld"), ("HPO", "train")]
         for d, c in [("forward", 90 if (e and s == "train") else 5), ("reverse", 0)]],
        columns=["seed", "epoch", "ontology", "split", "direction", "correct", "n"],
    )  # fmt: skip
    figure = reverse_probe(recall.assign(recall=recall["correct"] / recall["n"]), RUN)
    words = texts(figure)
    assert {"GO\ntrain", "GO\nwithheld", "HPO\ntrain"} <= set(words)
    assert words.count("0.00") == 6 and words.count("0.90") == 2  # zero bars carry their value


def test_a_large_scatter_stays_a_small_svg(tmp_path):
    rng = np.random.default_rng(1)
    n = 24_000
    steps = rng.integers(1, 80, n)
    table = pd.DataFrame({"seed": 0, "epoch": rng.integers(1, 21, n), "steps_since": steps,
                          "log_steps": np.log(steps), "delta": rng.normal(size=n)})  # fmt: skip
    fit = {"slope": -0.1, "ci_low": -0.2, "ci_high": 0.0, "n": n, "n_facts": 1200}
    figure = exposure_forgetting(table, fit, RUN)
    assert {"1", "2", "5", "10", "20", "50"} <= set(texts(figure))
    png, svg = tmp_path / "scatter.png", tmp_path / "scatter.svg"
    figures.save(figure, png, svg)
    assert svg.stat().st_size < 1_000_000 and png.stat().st_size < 1_000_000


def test_degradation_draws_trained_vs_withheld_and_the_hazard_ratio_per_epoch_band(tables):
    curves, hazard_ratios, models, _ = tables
    rng = np.random.default_rng(2)
    table = survival(rng, 120).assign(knowledge=lambda t: np.where(t["latent"] == 1, "trained", "withheld"))
    exposure = km_curves(table, fitted_groups(table, 6))
    exposure = exposure[exposure["knowledge"] != "all"].rename(columns={"knowledge": "group"}).assign(endpoint="degradation")
    effects = pd.DataFrame(
        [("degradation", "pooled", "cox_band", "1-3", "seen", 0.5, 0.3, 0.8, ""),
         ("degradation", "pooled", "cox_band", "4-6", "seen", np.nan, np.nan, np.nan, "no events in this band")],
        columns=["endpoint", "seed", "model", "band", "covariate", "hr", "hr_lower", "hr_upper", "note"],
    )  # fmt: skip
    figure = figures.question("degradation", exposure, hazard_ratios, models, RUN, stable_k=3, min_at_risk=5,
                              effects=effects)  # fmt: skip
    words = texts(figure)
    assert "Degradation (facts correct at baseline)" in words
    assert "trained (n=12)" in words and "withheld (n=108)" in words
    assert "trained (vs withheld): HR per epoch band" in words
    assert "0.50\n(0.30-0.80)" in words and "epochs 4-6\n(not estimable)" in words
    assert any("Facts at risk (seed x fact): Degradation (facts correct at baseline): 120" in " ".join(w.split()) for w in words)


def test_wilson_interval_agrees_with_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    hits, total = np.array([0, 3, 50, 100]), np.array([10, 40, 100, 100])
    low, high = figures.wilson(hits, total)
    expected = proportion_confint(hits, total, alpha=0.05, method="wilson")
    assert np.allclose(low, expected[0]) and np.allclose(high, expected[1])
    assert np.isnan(figures.wilson([0], [0])).all()


def test_a_wide_hazard_ratio_axis_keeps_few_ticks_with_one_among_them():
    assert figures.hr_ticks([0.5, 2.0]) == [0.25, 0.5, 1.0, 2.0, 4.0]
    wide = figures.hr_ticks([2e-6, 3.0])  # a sparse band's CI spans twenty powers of two
    assert len(wide) <= figures.MAX_HR_TICKS + 1 and 1.0 in wide and wide[0] <= 2e-6 and wide[-1] >= 3.0
    assert figures.hr_text(0.0012) == "1.2e-03" and figures.hr_text(0.31) == "0.31"
