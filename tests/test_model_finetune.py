"""LoRA fine-tuning epoch by epoch on the tiny model: it learns, greedy generation still agrees with
teacher forcing after training, and a run resumed from disk equals an uninterrupted one bit for bit."""

import json
import os
import shutil

import pandas as pd
import pytest
import torch

from latentfacts.checksums import write_checksums
from latentfacts.model.finetune import TrainConfig, dropout_free, resume, save_epoch, train_epoch, training_examples
from latentfacts.model.lm import ModelInputError, load_model, load_tokenizer, with_each_adapter
from latentfacts.model.prompts import encode_facts, end_of_turn_id
from latentfacts.model.sampling import crosscheck_greedy
from latentfacts.model.scoring import score_examples, shared_prefix_length, target_logits
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir

PROMPTS = {"system_message": SYSTEM, "templates": TEMPLATES, "evaluation_template": 0, "train_templates": "all"}
FINETUNE = {
    "epochs": 10,
    "batch_size": 8,
    "learning_rate": 5e-3,
    "weight_decay": 0.01,
    "schedule": "linear",
    "warmup_ratio": 0.1,
    "lora": {"r": 16, "alpha": 32, "dropout": 0.1, "target_modules": "all-linear"},
}
CFG = TrainConfig.from_config(FINETUNE, PROMPTS, seed=3)


@pytest.fixture(scope="module")
def setting():
    tokenizer = load_tokenizer(tiny_lm_dir())
    facts = tiny_facts()
    train = facts[facts["split"] == "train"]
    return tokenizer, facts, train, training_examples(tokenizer, train, PROMPTS)


def adapter_tensors(model):
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items() if "lora_" in name}


@pytest.fixture(scope="module")
def trained(setting, tmp_path_factory):
    """All epochs in one process; epoch 1's state also saved to disk. Returns recall/loss per epoch,
    the final model, its adapter tensors and the epoch-1 directory."""
    tokenizer, facts, train, examples = setting
    evaluation = encode_facts(tokenizer, facts, SYSTEM, TEMPLATES, [0])
    model, optimizer, scheduler = resume(load_model(tiny_lm_dir()), None, CFG, len(train))
    is_train = (facts["split"] == "train").to_numpy()
    history = [score_examples(model, evaluation, tokenizer.pad_token_id, progress=False)["correct"][is_train].mean()]
    losses, epoch_one = [], tmp_path_factory.mktemp("run") / "epoch_01"
    for epoch in range(1, CFG.epochs + 1):
        seen, log = train_epoch(model, optimizer, scheduler, examples, CFG, epoch, tokenizer.pad_token_id, progress=False)
        if epoch == 1:
            save_epoch(epoch_one, model, optimizer, scheduler, seen, log)
        losses.append(log["mean_loss"])
        history.append(score_examples(model, evaluation, tokenizer.pad_token_id, progress=False)["correct"][is_train].mean())
    return {"recall": history, "loss": losses, "model": model, "adapter": adapter_tensors(model), "epoch_one": epoch_one, "evaluation": evaluation}


def test_training_loss_falls_and_train_recall_rises(trained):
    assert trained["loss"][-1] < 0.5 * trained["loss"][0]
    # the tiny model memorises random 7-digit identifiers slowly; the embedded study's model does better
    assert trained["recall"][-1] >= trained["recall"][0] + 0.2


def test_greedy_generate_agrees_with_teacher_forcing_after_training(setting, trained):
    tokenizer = setting[0]
    model, evaluation = trained["model"], trained["evaluation"]
    scores = score_examples(model, evaluation, tokenizer.pad_token_id, progress=False)
    checked = crosscheck_greedy(model, evaluation, scores, tokenizer.pad_token_id, end_of_turn_id(tokenizer), len(evaluation), 0, 16)
    assert checked == len(evaluation)


def test_resuming_from_disk_gives_bit_identical_adapter(setting, trained):
    tokenizer, _, train, examples = setting
    model, optimizer, scheduler = resume(load_model(tiny_lm_dir()), str(trained["epoch_one"]), CFG, len(train))
    for epoch in range(2, CFG.epochs + 1):
        train_epoch(model, optimizer, scheduler, examples, CFG, epoch, tokenizer.pad_token_id, progress=False)
    resumed = adapter_tensors(model)
    assert resumed.keys() == trained["adapter"].keys() and len(resumed) > 0
    for name, tensor in resumed.items():
        assert torch.equal(tensor, trained["adapter"][name]), name


def test_shared_prompt_start_gives_the_gradients_of_the_full_pass(setting):
    """Training runs the prompt start every fact shares once per batch: the loss and every adapter
    gradient are those of feeding each fact whole. Only without dropout, which would share one mask."""
    tokenizer, _, train, examples = setting
    no_dropout = TrainConfig.from_config({**FINETUNE, "lora": {**FINETUNE["lora"], "dropout": 0.0}}, PROMPTS, seed=3)
    model, _, _ = resume(load_model(tiny_lm_dir()), None, no_dropout, len(train))
    with torch.no_grad():  # fresh adapters have B = 0, through which no gradient reaches A
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 0.1)
    batch = list(examples.values())[:8]
    shared = shared_prefix_length([ex.prompt_ids for ex in batch])
    assert shared > 0 and dropout_free(model)

    def loss_and_gradients(shared):
        model.zero_grad(set_to_none=True)
        logits, targets = target_logits(model, batch, tokenizer.pad_token_id, "right", shared)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        loss.backward()
        return loss.item(), {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}

    loss_once, once = loss_and_gradients(shared)
    loss_whole, whole = loss_and_gradients(0)
    assert loss_once == pytest.approx(loss_whole, rel=1e-6)
    assert once.keys() == whole.keys() and all(g.abs().sum() > 0 for g in whole.values())
    for name in whole:
        torch.testing.assert_close(once[name], whole[name], atol=1e-6, rtol=1e-4, msg=name)
    assert not dropout_free(resume(load_model(tiny_lm_dir()), None, CFG, len(train))[0])


class Planted:
    """An object whose unpickling runs a shell command (what a planted state file could carry)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_planted_training_state_cannot_run_code(setting, trained, tmp_path):
    _, _, train, _ = setting
    planted = tmp_path / "epoch_01"
    shutil.copytree(trained["epoch_one"], planted)
    marker = tmp_path / "code_ran"
    torch.save({"optimizer": Planted(marker)}, planted / "training_state.pt")
    write_checksums(planted)  # a planter can rewrite the checksums too: loading must still run no code
    with pytest.raises(ValueError, match=r"epoch_01/training_state.pt: not a training state of tensors and plain values"):
        resume(load_model(tiny_lm_dir()), str(planted), CFG, len(train))
    assert not marker.exists()


def test_epoch_directory_holds_adapter_state_order_and_log(setting, trained):
    _, _, train, _ = setting
    directory = trained["epoch_one"]
    for name in ("adapter_model.safetensors", "adapter_config.json", "training_state.pt"):
        assert (directory / name).is_file(), name
    seen = pd.read_parquet(directory / "seen_order.parquet")
    assert sorted(seen["fact_id"]) == sorted(train["fact_id"])
    assert seen["position"].tolist() == list(range(len(train)))
    assert seen["step"].max() == (len(train) - 1) // CFG.batch_size
    log = json.loads((directory / "train_log.json").read_text())
    assert len(log["loss"]) == len(log["lr"]) == seen["step"].nunique()
    # warmup over all epochs' steps: still rising through epoch 1 when warmup_ratio covers more
    assert log["lr"][0] < log["lr"][-1]


def test_templates_rotate_so_every_fact_sees_each_template_equally():
    from latentfacts.model.finetune import epoch_plan

    fact_ids = [f"F{i}" for i in range(10)]
    cfg = TrainConfig.from_config({**FINETUNE, "epochs": 6}, {**PROMPTS, "templates": TEMPLATES}, seed=0)
    plans = pd.concat([epoch_plan(fact_ids, cfg, epoch, n_templates=3) for epoch in range(1, 7)])
    counts = plans.groupby(["fact_id", "template"]).size()
    assert (counts == 2).all() and len(counts) == 30
    first = epoch_plan(fact_ids, cfg, 1, 3)
    assert first.equals(epoch_plan(fact_ids, cfg, 1, 3))
    assert first["fact_id"].tolist() != epoch_plan(fact_ids, cfg, 2, 3)["fact_id"].tolist()
    fixed = TrainConfig.from_config(FINETUNE, {**PROMPTS, "train_templates": "first"}, seed=0)
    assert set(epoch_plan(fact_ids, fixed, 4, 3)["template"]) == {0}


def test_adapters_swapped_on_one_base_model_score_as_freshly_loaded_ones(setting, trained, tmp_path):
    tokenizer, evaluation = setting[0], trained["evaluation"]
    trained["model"].save_pretrained(tmp_path / "last")
    write_checksums(tmp_path / "last")
    adapters = [str(trained["epoch_one"]), None, str(tmp_path / "last"), str(trained["epoch_one"])]
    model_config = {"name_or_path": tiny_lm_dir(), "dtype": "float32", "device": "cpu", "trust_remote_code": False}

    def logprobs(model):
        return score_examples(model, evaluation, tokenizer.pad_token_id, progress=False)["logprob"].tolist()

    swapped = [logprobs(model) for model in with_each_adapter(model_config, adapters)]
    fresh = [logprobs(load_model(tiny_lm_dir(), adapter=adapter)) for adapter in adapters]
    assert swapped == fresh
    assert swapped[0] == swapped[3] and swapped[0] != swapped[1] != swapped[2]
    with pytest.raises(ModelInputError, match="has no adapter_config.json"):
        next(with_each_adapter(model_config, [None, str(tmp_path)]))
