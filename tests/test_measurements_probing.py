"""Linear probing: a planted linear digit code is read back; noise stays at chance; Wilson intervals."""

import numpy as np
import pytest

from latentfacts.measurements.probing import half_split, identifier_digit, probe_accuracy, probe_layers, wilson_interval


def test_identifier_digit():
    assert identifier_digit("HP:0001250", -1) == 0
    assert identifier_digit("HP:0001250", -2) == 5
    assert identifier_digit("GO:0005634", 0) == 0
    with pytest.raises(ValueError, match="HP:12"):
        identifier_digit("HP:12", 5)


def test_wilson_interval_matches_a_known_value():
    # Wilson 95% interval for 81/263 (Newcombe 1998, example): 0.2553 .. 0.3662
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


def test_half_split_is_seeded():
    a, b = half_split(101, seed=3), half_split(101, seed=3)
    assert (a == b).all() and a.sum() == 50
    assert (a != half_split(101, seed=4)).any()


def planted_states(n=600, hidden=64, noise=1.0, seed=0):
    """Layer 0: pure noise; layer 1: the digit written along 10 random directions plus noise."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 10, n)
    directions = rng.normal(size=(10, hidden))
    encoded = 2.0 * directions[digits] + noise * rng.normal(size=(n, hidden))
    return np.stack([rng.normal(size=(n, hidden)), encoded]), digits


def test_probe_reads_a_linear_code_and_not_noise():
    states, digits = planted_states()
    mask = half_split(len(digits), seed=0)
    noise, encoded = probe_layers(states, digits, mask, C=1.0, seed=0)
    assert encoded["layer"] == 1 and encoded["accuracy"] > 0.9
    assert encoded["ci_low"] > encoded["baseline_ci_high"]
    # chance: 10 balanced classes -> about 0.1; the interval reaches the majority baseline's
    assert noise["accuracy"] < 0.2
    assert noise["ci_low"] <= noise["baseline_ci_high"]
    assert noise["n_test"] == 300 and noise["n_classes"] == 10


def test_probe_with_one_class_answers_that_class():
    states, _ = planted_states(n=40)
    result = probe_accuracy(states[1], np.full(40, 7), half_split(40, seed=0), C=1.0, seed=0)
    assert result["accuracy"] == result["baseline"] == 1.0
