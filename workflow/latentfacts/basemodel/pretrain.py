"""Pretrain the embedded study's base model from scratch: a byte-level BPE tokenizer with a chat
template and a tiny LlamaForCausalLM, trained on the synthetic corpus (see corpus.py).

The result is saved with `save_pretrained`, so it loads through the same code path as any hub model.
"""

import json
import math
import os
import shutil
import time

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from latentfacts.basemodel.chat import BOS, CHAT_TEMPLATE, EOS, PAD, ROLE_TOKENS, SPECIAL_TOKENS
from latentfacts.progress import tracked
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


def train_tokenizer(lines, vocab_size):
    """Byte-level BPE trained on `lines`; digits are always single tokens, so an identifier is
    spelled digit by digit and every identifier is representable whatever the merges learned."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(lines, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        extra_special_tokens=ROLE_TOKENS,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def new_tiny_llama(tokenizer, hidden_size, intermediate_size, num_layers, num_heads, max_seq_len, seed):
    """A randomly initialised LlamaForCausalLM sized for `tokenizer` (tied input/output embeddings)."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_seq_len,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    return model


def encode_documents(tokenizer, documents, max_seq_len):
    """Token ids of each document framed as `<|begin|> ... <|end|>` (chat-rendered documents carry
    the frame already), cut to `max_seq_len`."""
    encoded = []
    for text in documents:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids or ids[0] != tokenizer.bos_token_id:
            ids = [tokenizer.bos_token_id, *ids]
        if ids[-1] != tokenizer.eos_token_id:
            ids = [*ids, tokenizer.eos_token_id]
        encoded.append(ids[:max_seq_len])
    return encoded


def padded_batch(encoded, pad_id):
    """input_ids, attention_mask and labels (-100 at padding) for a list of id lists, right-padded."""
    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    return input_ids, attention_mask, labels


def epoch_batches(lengths, batch_size, generator):
    """One epoch of batches (lists of document indices): a seeded shuffle, sorted by length within
    windows of 64 batches so that a batch needs little padding, the batches then in seeded order."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    window = 64 * batch_size
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def learning_rate_at(step, steps, warmup_steps, peak):
    """Linear warmup to `peak`, then cosine decay to a tenth of it at the last step."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(model, tokenizer, lines, steps, batch_size, learning_rate, warmup_steps, seed, max_seq_len):
    """Train `model` in place on the documents `lines`, each one padded sequence (so every document
    starts at position 0, as a prompt does). Returns statistics of the run."""
    if not lines:
        raise ValueError("pretraining corpus has no documents (every planted count is zero?)")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    encoded = encode_documents(tokenizer, lines, max_seq_len)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.95), weight_decay=0.0)
    model.train()
    lengths = [len(ids) for ids in encoded]
    batches, losses, tokens_seen = [], [], 0
    started = time.perf_counter()
    for step in tracked(range(steps), "pretrain", "steps", every=0.05):
        if not batches:
            batches = epoch_batches(lengths, batch_size, generator)
        input_ids, attention_mask, labels = padded_batch([encoded[i] for i in batches.pop()], tokenizer.pad_token_id)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, steps, warmup_steps, learning_rate)
        # Right padding under a causal mask: real tokens never see padding, so no attention mask is
        # needed (and the unmasked causal path is faster); padding is kept out of the loss by labels.
        loss = model(input_ids=input_ids, labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        tokens_seen += int(attention_mask.sum())
    model.eval()
    window = max(1, min(50, steps // 10))
    return {
        "steps": steps,
        "documents": len(encoded),
        "tokens_seen": tokens_seen,
        "parameters": sum(p.numel() for p in model.parameters()),
        "initial_loss": sum(losses[:window]) / window,
        "final_loss": sum(losses[-window:]) / window,
        # mean loss in each tenth of the run: the loss curve in ten numbers
        "loss_curve": [
            sum(chunk) / len(chunk) for chunk in (losses[i * steps // 10 : (i + 1) * steps // 10] for i in range(10)) if chunk
        ],
        "wall_seconds": time.perf_counter() - started,
    }


def save_base_model(model, tokenizer, stats, out):
    """Model, tokenizer and `stats` (as pretrain_stats.json) into directory `out`, whole or not at all: they
    are written to a sibling directory that then takes `out`'s place, so a save that fails part-way leaves
    the previous `out` (or none) and no partial directory."""
    partial = f"{out}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        with open(os.path.join(partial, "pretrain_stats.json"), "w") as handle:
            json.dump(stats, handle, indent=1)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    os.replace(partial, out)
