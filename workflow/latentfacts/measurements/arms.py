"""Training arms: variants of the fine-tuning run that the extra measurements compare.

- `main`: the study's own run (`results/models/{model}/runs/seed{s}/...`), with config `prompts.train_templates`.
- `withdrawal`: like main, but a seeded fraction of the trained facts is no longer trained after epoch k.
- `single_template` / `paraphrases`: the augmentation arm, like main but with the other template mode:
  template 0 only when main rotates through all paraphrases, and vice versa (one exposure per fact and
  epoch either way).

An arm's runs live under `results/models/{model}/{run_dir}/seed{s}/...` with run_dir `runs` (main) or
`arms/{arm}`; one pair of rule definitions, instantiated per arm (`finetune_{arm}`, `evaluate_{arm}`),
trains and evaluates every arm's runs of every model.
"""

import numpy as np

from latentfacts.configcheck import ConfigError
from latentfacts.model.names import model_root

ARMS = ("main", "withdrawal", "single_template", "paraphrases")
TEMPLATE_MODES = {"single_template": "first", "paraphrases": "all"}
MAIN_RUN_DIR = "runs"


def run_dir(arm):
    """Directory under a model's results/models/{model}/ holding an arm's seed{s}/ runs."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r} (known: {', '.join(ARMS)})")
    return MAIN_RUN_DIR if arm == "main" else f"arms/{arm}"


def arm_of(directory):
    """Inverse of run_dir."""
    if directory == MAIN_RUN_DIR:
        return "main"
    arm = directory.removeprefix("arms/")
    if directory == arm or arm not in ARMS[1:]:
        raise ValueError(f"{directory!r} is not a run directory (expected 'runs' or 'arms/<arm>')")
    return arm


def augmentation_arm(train_templates):
    """The arm that trains with the template mode the main run does not use."""
    return "paraphrases" if train_templates == "first" else "single_template"


def extra_arms(config):
    """The arms beside main that the config switches on (each needs its own training runs)."""
    measurements = config["measurements"]
    arms = []
    if measurements["withdrawal"]["enabled"]:
        arms.append("withdrawal")
    if measurements["augmentation"]["enabled"]:
        arms.append(augmentation_arm(config["prompts"]["train_templates"]))
    return arms


def template_mode(arm, train_templates):
    """`prompts.train_templates` as `arm` trains with it (`train_templates` is the main run's)."""
    return TEMPLATE_MODES.get(arm, train_templates)


def shares_main_run(arm, epoch, after_epoch):
    """Whether an arm's state at `epoch` is the main run's own: the base model (epoch 0) is the same for
    every arm, and the withdrawal arm trains exactly like main up to its withdrawal epoch."""
    return arm == "main" or epoch == 0 or (arm == "withdrawal" and epoch <= after_epoch)


def own_epochs(arm, epochs, after_epoch):
    """(trained, evaluated): the epochs whose fine-tuning state and evaluation table `arm`'s own run
    computes; the other epochs it reads from the main run (shares_main_run). Only main evaluates
    epoch 0, the base model."""
    trained = [e for e in range(1, epochs + 1) if arm == "main" or not shares_main_run(arm, e, after_epoch)]
    return trained, ([0] if arm == "main" else []) + trained


def run_root(model, arm, seed, epoch, after_epoch):
    """results/models/<model>/<run dir>/seed{seed} of the run that holds `model`'s `arm` state at `epoch`."""
    owner = "main" if shares_main_run(arm, epoch, after_epoch) else arm
    return f"{model_root(model)}/{run_dir(owner)}/seed{seed}"


def eval_path(model, arm, seed, epoch, after_epoch):
    """The evaluation table of `model`'s `arm` at `epoch` (the main run's where the arm shares it)."""
    return f"{run_root(model, arm, seed, epoch, after_epoch)}/eval/epoch_{epoch:02d}.parquet"


def checkpoint_path(model, arm, seed, epoch, after_epoch):
    """The fine-tuning epoch's directory, which holds its PEFT adapter; None for epoch 0 (the base model)."""
    return None if epoch == 0 else f"{run_root(model, arm, seed, epoch, after_epoch)}/finetune/epoch_{epoch:02d}"


def withdrawn_facts(train_ids, fraction, seed, replicate):
    """A seeded sample of round(fraction * n) trained facts, sorted; the same for a (seed, replicate)
    whatever order the ids come in."""
    ids = np.array(sorted(train_ids))
    rng = np.random.default_rng([seed, replicate])
    chosen = rng.choice(len(ids), size=int(round(fraction * len(ids))), replace=False)
    return sorted(ids[chosen].tolist())


def training_facts(train_ids, epoch, withdrawn=(), after_epoch=None):
    """The facts trained in `epoch` (1-based): all of `train_ids`, minus `withdrawn` once epoch > after_epoch."""
    if after_epoch is None or epoch <= after_epoch:
        return list(train_ids)
    gone = set(withdrawn)
    return [fact for fact in train_ids if fact not in gone]


def arm_prompts(arm, prompts):
    """Config section `prompts` as `arm` trains with it (see template_mode)."""
    return {**prompts, "train_templates": template_mode(arm, prompts["train_templates"])}


def check_measurements(config):
    """Cross-key checks of the `measurements` section (run at DAG build time)."""
    measurements = config["measurements"]
    epochs = config["finetune"]["epochs"]
    withdrawal = measurements["withdrawal"]
    if withdrawal["enabled"] and not 1 <= withdrawal["after_epoch"] <= epochs - 2:
        raise ConfigError(
            f"config key measurements.withdrawal.after_epoch: {withdrawal['after_epoch']} must lie in "
            f"1..{epochs - 2} (finetune.epochs is {epochs}): the power-law fit needs two epochs after the withdrawal"
        )
    if "{label}" in measurements["reverse_probe"]["template"]:
        raise ConfigError(
            "config key measurements.reverse_probe.template: must not contain {label}, the answer it asks for"
        )
    trained = set(config["prompts"]["templates"])
    for i, template in enumerate(measurements["augmentation"]["heldout_templates"]):
        if template in trained:
            raise ConfigError(
                f"config key measurements.augmentation.heldout_templates[{i}]: {template!r} is one of "
                f"prompts.templates, which the arms train on; a held-out template must be new"
            )
