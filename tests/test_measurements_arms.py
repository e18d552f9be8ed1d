"""Arms: run directories, the withdrawn sample, training sets per epoch and config checks."""

import copy

import pytest
import yaml

from latentfacts.measurements.arms import (
    arm_of,
    arm_prompts,
    check_measurements,
    checkpoint_path,
    eval_path,
    extra_arms,
    run_dir,
    run_root,
    training_facts,
    withdrawn_facts,
)
from latentfacts.configcheck import ConfigError

from conftest import ROOT


def test_run_dirs_round_trip_and_main_keeps_its_path():
    assert run_dir("main") == "runs"
    for arm in ("main", "withdrawal", "single_template"):
        assert arm_of(run_dir(arm)) == arm
    with pytest.raises(ValueError, match="arms/bogus"):
        arm_of("arms/bogus")


def test_arms_share_the_main_runs_epochs_they_equal():
    assert run_root("m", "main", 0, 7, after_epoch=3) == "results/models/m/runs/seed0"
    assert run_root("m", "withdrawal", 1, 3, after_epoch=3) == "results/models/m/runs/seed1"
    assert run_root("m", "withdrawal", 1, 4, after_epoch=3) == "results/models/m/arms/withdrawal/seed1"
    assert run_root("m", "single_template", 0, 0, after_epoch=3) == "results/models/m/runs/seed0"  # the base model
    assert run_root("m", "single_template", 0, 1, after_epoch=3) == "results/models/m/arms/single_template/seed0"


def test_paths_of_an_arms_epochs():
    assert eval_path("m", "withdrawal", 0, 3, after_epoch=3) == "results/models/m/runs/seed0/eval/epoch_03.parquet"
    assert eval_path("m", "withdrawal", 0, 4, after_epoch=3) == "results/models/m/arms/withdrawal/seed0/eval/epoch_04.parquet"
    assert checkpoint_path("m", "single_template", 2, 0, after_epoch=3) is None
    assert (
        checkpoint_path("m", "single_template", 2, 1, after_epoch=3)
        == "results/models/m/arms/single_template/seed2/finetune/epoch_01"
    )


def test_withdrawn_sample_is_seeded_and_order_free():
    ids = [f"HP:{i:07d}" for i in range(200)]
    chosen = withdrawn_facts(ids, 0.25, seed=0, replicate=0)
    assert len(chosen) == 50 and set(chosen) <= set(ids)
    assert chosen == withdrawn_facts(list(reversed(ids)), 0.25, seed=0, replicate=0)
    assert chosen != withdrawn_facts(ids, 0.25, seed=0, replicate=1)


def test_withdrawn_facts_are_absent_after_epoch_k_only():
    ids = [f"GO:{i:07d}" for i in range(40)]
    gone = withdrawn_facts(ids, 0.5, seed=1, replicate=0)
    for epoch in range(1, 4):
        assert training_facts(ids, epoch, gone, after_epoch=3) == ids
    for epoch in range(4, 8):
        trained = training_facts(ids, epoch, gone, after_epoch=3)
        assert not set(trained) & set(gone) and len(trained) == 20
    assert training_facts(ids, 9) == ids


def test_augmentation_arm_trains_with_the_other_template_mode():
    config = default_config()
    config["measurements"]["augmentation"]["enabled"] = True
    for main_mode, arm, arm_mode in [("first", "paraphrases", "all"), ("all", "single_template", "first")]:
        config["prompts"]["train_templates"] = main_mode
        assert extra_arms(config) == [arm]
        assert arm_prompts(arm, config["prompts"]) == {**config["prompts"], "train_templates": arm_mode}
        for same in ("main", "withdrawal"):
            assert arm_prompts(same, config["prompts"]) == config["prompts"]


def default_config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_default_config_has_no_extra_arms_and_passes_checks():
    config = default_config()
    assert extra_arms(config) == []
    check_measurements(config)


def test_bad_measurement_configs_name_the_key():
    config = default_config()
    late = copy.deepcopy(config)
    late["measurements"]["withdrawal"].update(enabled=True, after_epoch=config["finetune"]["epochs"] - 1)
    with pytest.raises(ConfigError, match="measurements.withdrawal.after_epoch"):
        check_measurements(late)
    trained = copy.deepcopy(config)
    trained["measurements"]["augmentation"]["heldout_templates"] = [config["prompts"]["templates"][2]]
    with pytest.raises(ConfigError, match=r"heldout_templates\[0\]"):
        check_measurements(trained)
