"""Damaged workflow files are named with what was expected: parquet tables, JSON files and
checkpoint directories (real files written by pandas and by a real LoRA fine-tuning epoch)."""

import json

import pandas as pd
import pytest

from latentfacts.checksums import CHECKSUMS, verify_checksums
from latentfacts.model.finetune import TrainConfig, resume, save_epoch
from latentfacts.model.lm import load_model, with_each_adapter
from latentfacts.tables import EVAL_COLUMNS, InputError, read_json, read_table
from tiny_lm import tiny_lm_dir

FINETUNE = {
    "epochs": 1,
    "batch_size": 4,
    "learning_rate": 1e-3,
    "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"},
}
CFG = TrainConfig.from_config(FINETUNE, {"train_templates": "first"}, seed=0)
MODEL = {"name_or_path": tiny_lm_dir(), "dtype": "float32", "device": "cpu", "trust_remote_code": False}


@pytest.fixture
def eval_table(tmp_path):
    path = tmp_path / "epoch_01.parquet"
    table = pd.DataFrame({"fact_id": ["F1", "F2"], "epoch": 1, "correct": [True, False], "logprob": [-0.1, -3.0], "p_sample": [0.9, 0.0], "first_token_rank": [0, 4]})
    table.to_parquet(path, index=False)
    return path


def test_a_good_table_reads_with_its_columns(eval_table):
    assert list(read_table(eval_table, EVAL_COLUMNS).columns) == EVAL_COLUMNS


def test_truncated_parquet_is_named(eval_table):
    data = eval_table.read_bytes()
    eval_table.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rf"{eval_table}: not a readable parquet table .*truncated or overwritten"):
        read_table(eval_table, EVAL_COLUMNS)


def test_foreign_file_and_missing_file_are_named(tmp_path):
    foreign = tmp_path / "baseline.parquet"
    foreign.write_text("fact_id,correct\nF1,1\n")
    with pytest.raises(InputError, match=rf"{foreign}: not a readable parquet table"):
        read_table(foreign)
    with pytest.raises(InputError, match=rf"{tmp_path / 'absent.parquet'}: file not found; expected a parquet table"):
        read_table(tmp_path / "absent.parquet")


def test_missing_columns_are_named(eval_table):
    with pytest.raises(InputError, match=rf"{eval_table}: missing column\(s\) \['knowledge'\]"):
        read_table(eval_table, ["fact_id", "knowledge"])


def test_bad_json_is_named(tmp_path):
    path = tmp_path / "cox_model.json"
    path.write_text('{"n": 10, "events": ')
    with pytest.raises(InputError, match=rf"{path}: not readable as JSON \(JSONDecodeError"):
        read_json(path)
    path.write_text(json.dumps({"n": 10}))
    assert read_json(path) == {"n": 10}


@pytest.fixture
def checkpoint(tmp_path):
    """A real epoch directory: a LoRA adapter on the tiny model, its optimizer state and logs."""
    model, optimizer, scheduler = resume(load_model(tiny_lm_dir()), None, CFG, n_facts=4)
    seen = pd.DataFrame({"fact_id": ["F1"], "template": [0], "position": [0], "step": [0]})
    directory = tmp_path / "epoch_01"
    save_epoch(directory, model, optimizer, scheduler, seen, {"epoch": 1, "loss": [], "lr": [], "mean_loss": 0.0})
    return directory


def test_saved_checkpoint_lists_every_file_and_verifies(checkpoint):
    sums = json.loads((checkpoint / CHECKSUMS).read_text())
    assert {"adapter_model.safetensors", "adapter_config.json", "training_state.pt", "seen_order.parquet", "train_log.json"} <= set(sums)
    verify_checksums(checkpoint)
    assert len(list(with_each_adapter(MODEL, [None, str(checkpoint)]))) == 2


def test_corrupt_adapter_is_named_before_any_model_is_loaded(checkpoint):
    weights = checkpoint / "adapter_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[:8] = (1 << 40).to_bytes(8, "little")  # the header length safetensors reports as "header too large"
    weights.write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"{weights}: damaged: sha256 [0-9a-f]{{64}}, saved as [0-9a-f]{{64}}"):
        next(with_each_adapter(MODEL, [None, str(checkpoint)]))
    with pytest.raises(InputError, match=rf"{weights}: damaged"):
        resume(load_model(tiny_lm_dir()), str(checkpoint), CFG, n_facts=4)


def test_flipped_bit_in_training_state_is_named(checkpoint):
    state = checkpoint / "training_state.pt"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 1
    state.write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"{state}: damaged.*delete {checkpoint} so that the training run"):
        resume(load_model(tiny_lm_dir()), str(checkpoint), CFG, n_facts=4)


def test_incomplete_checkpoint_is_named(checkpoint):
    (checkpoint / "adapter_model.safetensors").unlink()
    with pytest.raises(InputError, match=r"adapter_model.safetensors: missing from the checkpoint"):
        verify_checksums(checkpoint)
    (checkpoint / CHECKSUMS).unlink()  # a save killed before its last step
    with pytest.raises(InputError, match=rf"{checkpoint / CHECKSUMS}: missing; .*not saved completely"):
        verify_checksums(checkpoint)
    (checkpoint / CHECKSUMS).write_text("[1, 2")
    with pytest.raises(InputError, match=rf"{checkpoint / CHECKSUMS}: not readable as JSON"):
        verify_checksums(checkpoint)
