"""LoRA fine-tuning one epoch at a time. Epoch e loads epoch e-1's adapter, optimizer, scheduler and
RNG state from disk, trains one pass over the training facts (order shuffled by (seed, epoch),
template rotating per epoch), and saves its own state, so a run resumed after any epoch ends
bit-identical (on CPU) to an uninterrupted one.

Loss: mean cross-entropy over answer tokens only (identifier + end-of-turn token); the output head
runs only at those positions, and the prompt start every fact shares (chat header, system message) runs
once per batch (see scoring.target_logits).
"""

import json
import math
import os
import pickle
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from latentfacts.progress import tracked

from latentfacts.checksums import verify_checksums, write_checksums
from latentfacts.model.prompts import encode_facts, train_template
from latentfacts.model.scoring import shared_prefix_length, target_logits

STATE_FILE = "training_state.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Config section `finetune` plus the replicate seed and template mode, as one value."""

    seed: int
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    schedule: str
    warmup_ratio: float
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    target_modules: object  # "all-linear" or a list of module names
    train_templates: str  # "all" | "first"

    @classmethod
    def from_config(cls, finetune, prompts, seed):
        lora = finetune["lora"]
        return cls(
            seed=seed,
            epochs=finetune["epochs"],
            batch_size=finetune["batch_size"],
            learning_rate=finetune["learning_rate"],
            weight_decay=finetune.get("weight_decay", 0.0),
            schedule=finetune.get("schedule", "linear"),
            warmup_ratio=finetune.get("warmup_ratio", 0.0),
            lora_r=lora["r"],
            lora_alpha=lora["alpha"],
            lora_dropout=lora["dropout"],
            target_modules=lora["target_modules"],
            train_templates=prompts["train_templates"],
        )


def steps_per_epoch(n_facts, batch_size):
    return math.ceil(n_facts / batch_size)


def attach_lora(base_model, cfg):
    """The base model with freshly initialised LoRA adapters (init seeded by the replicate seed)."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    lora = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=cfg.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(base_model, lora)


def optimizer_and_scheduler(model, cfg, n_facts):
    """AdamW over the adapter weights and a schedule whose warmup and decay span ALL epochs' steps."""
    from transformers import get_scheduler

    total = cfg.epochs * steps_per_epoch(n_facts, cfg.batch_size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(
        cfg.schedule, optimizer, num_warmup_steps=round(cfg.warmup_ratio * total), num_training_steps=total
    )
    return optimizer, scheduler


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state():
    """Every RNG's state as tensors and plain values, so that it is saved without pickle."""
    _, key, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": random.getstate(),  # (version, tuple of ints, None or float)
        "numpy": (torch.from_numpy(key.astype(np.int64)), pos, has_gauss, gauss),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state):
    random.setstate(state["python"])
    key, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state(("MT19937", key.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def epoch_plan(fact_ids, cfg, epoch, n_templates):
    """Which fact is seen when in `epoch`: a shuffle seeded by (seed, epoch), each fact with its
    template for this epoch. Columns fact_id, template, position (in epoch), step (global optimizer step)."""
    order = np.random.default_rng([cfg.seed, epoch]).permutation(len(fact_ids))
    first_step = (epoch - 1) * steps_per_epoch(len(fact_ids), cfg.batch_size)
    return pd.DataFrame(
        {
            "fact_id": [fact_ids[i] for i in order],
            "template": [train_template(cfg.train_templates, n_templates, int(i), epoch) for i in order],
            "position": np.arange(len(order)),
            "step": first_step + np.arange(len(order)) // cfg.batch_size,
        }
    )


def dropout_free(model):
    """Whether training draws no dropout mask: only then is the shared prompt start the same for every
    fact of a batch (one pass would give them all one mask)."""
    attention = getattr(model.config, "attention_dropout", 0.0) or 0.0
    return attention == 0 and all(module.p == 0 for module in model.modules() if isinstance(module, torch.nn.Dropout))


def train_epoch(model, optimizer, scheduler, examples, cfg, epoch, pad_id, progress=True):
    """One pass over the training facts. `examples` maps (fact_id, template) -> Example; the fact order
    is that of their first appearance in `examples`. Returns (seen_order, train_log)."""
    fact_ids = list(dict.fromkeys(fact_id for fact_id, _ in examples))
    n_templates = 1 + max(template for _, template in examples)
    plan = epoch_plan(fact_ids, cfg, epoch, n_templates)
    # The shared prompt start's gradient is the sum over the batch either way; one pass saves ~40% of
    # the tokens (21 of ~48 here, ~40 of ~80 with Llama-3.1's chat header and system message).
    shared = shared_prefix_length([ex.prompt_ids for ex in examples.values()]) if dropout_free(model) else 0
    model.train()
    losses, rates = [], []
    for start in tracked(range(0, len(plan), cfg.batch_size), f"epoch {epoch}", "batches", enabled=progress):
        rows = plan.iloc[start : start + cfg.batch_size]
        batch = [examples[(f, t)] for f, t in zip(rows.fact_id, rows.template)]
        logits, targets = target_logits(model, batch, pad_id, "right", shared)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    log = {"epoch": epoch, "loss": losses, "lr": rates, "mean_loss": float(np.mean(losses))}
    return plan, log


def save_epoch(directory, model, optimizer, scheduler, seen_order, log):
    """Adapter (safetensors), training state and logs of one epoch, written into `directory`, and
    last the checksums of them all."""
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory)
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng_state()},
        os.path.join(directory, STATE_FILE),
    )
    seen_order.to_parquet(os.path.join(directory, "seen_order.parquet"), index=False)
    with open(os.path.join(directory, "train_log.json"), "w") as stream:
        json.dump(log, stream, indent=1)
    write_checksums(directory)


def load_state(directory):
    """The optimizer, scheduler and RNG state save_epoch wrote into `directory`. Tensors and plain values
    only (weights_only): a planted file cannot run code when it is read."""
    path = os.path.join(directory, STATE_FILE)
    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(f"{path}: not a training state of tensors and plain values ({error})") from None


def check_trainable(base_model):
    """A sharded model trains only where every module is in memory: accelerate's disk offload keeps
    weights on the meta device, through which no gradient flows."""
    offloaded = [name for name, where in (getattr(base_model, "hf_device_map", None) or {}).items() if where == "disk"]
    if offloaded:
        raise ValueError(
            f"config key device_map: the model's modules {', '.join(offloaded)} are offloaded to disk, where LoRA "
            "training cannot reach them; give max_memory room for the whole model on the GPUs (and CPU)"
        )


def resume(base_model, previous, cfg, n_facts):
    """(model, optimizer, scheduler) ready for the next epoch: fresh (seeded) when `previous` is None,
    else restored from the epoch directory `previous`, RNG state included."""
    check_trainable(base_model)
    if previous is None:
        model = attach_lora(base_model, cfg)
        optimizer, scheduler = optimizer_and_scheduler(model, cfg, n_facts)
        seed_everything(cfg.seed)
        return model, optimizer, scheduler
    from peft import PeftModel

    verify_checksums(previous)
    model = PeftModel.from_pretrained(base_model, previous, is_trainable=True)
    optimizer, scheduler = optimizer_and_scheduler(model, cfg, n_facts)
    state = load_state(previous)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    return model, optimizer, scheduler


def training_examples(tokenizer, train_facts, prompts):
    """(fact_id, template) -> Example for every training fact under every template it can be trained with."""
    used = range(len(prompts["templates"])) if prompts["train_templates"] == "all" else [0]
    examples = encode_facts(tokenizer, train_facts, prompts["system_message"], prompts["templates"], used)
    return {(ex.fact_id, ex.template): ex for ex in examples}
