"""Score facts in one teacher-forced pass: greedy exact match, log-probability, the exact probability
that one sample equals the target, and the rank of the first target token.

Prompt + target are fed once; the output head runs only at the positions that predict target tokens
(hidden states are gathered first), so a 128k vocabulary costs batch x target-length logits, not
batch x sequence-length. The tokens every prompt starts with (chat header, system message) are run
once per batch, not once per fact. Examples are sorted by length and padded (left or right; position ids follow
the attention mask), so the answers do not depend on batch size or padding side.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from latentfacts.progress import tracked


@dataclass(frozen=True)
class Sampling:
    """Decoding settings of one sample, as `generate(do_sample=True, ...)` takes them."""

    temperature: float = 1.0
    top_k: int = 0  # 0 = no top-k truncation
    top_p: float = 1.0  # 1.0 = no nucleus truncation


def sampling_warpers(sampling):
    """transformers' own logits warpers, in the order `generate` applies them (transformers 5:
    temperature, then top-k, then top-p keeping at least one token), so truncation ties and the
    keep-one rule are exactly those of real sampling."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = []
    if sampling.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(sampling.temperature))
    if sampling.top_k != 0:
        warpers.append(TopKLogitsWarper(top_k=sampling.top_k, min_tokens_to_keep=1))
    if sampling.top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p=sampling.top_p, min_tokens_to_keep=1))
    return warpers


def sampled_log_probs(logits, warpers):
    """Log-probabilities (float32) of the distribution a sampler draws from (-inf where truncated)."""
    scores = logits.float()
    for warp in warpers:
        scores = warp(None, scores)
    return torch.log_softmax(scores, dim=-1)


def pad_batch(sequences, pad_id, side):
    """input_ids, attention_mask, position_ids and each sequence's offset for a list of id lists."""
    width = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    offsets = []
    for row, seq in enumerate(sequences):
        start = width - len(seq) if side == "left" else 0
        input_ids[row, start : start + len(seq)] = torch.tensor(seq)
        attention_mask[row, start : start + len(seq)] = 1
        offsets.append(start)
    # Positions count real tokens only, so a left-padded sequence sees the same positions as unpadded.
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, attention_mask, position_ids, offsets


def causal_lm_parts(model):
    """(decoder stack, output head, final logit softcap or None) of a causal LM, PEFT-wrapped or not."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    softcap = getattr(base.config, "final_logit_softcapping", None)
    return base.get_decoder(), base.get_output_embeddings(), softcap


def repeated_cache(decoder, input_ids, attention_mask, position_ids, copies):
    """The KV cache of `input_ids` run once through the decoder stack, each row repeated `copies`
    times, for a forward pass or `generate` that continues after those tokens."""
    cache = decoder(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=True
    ).past_key_values
    cache.batch_repeat_interleave(copies)
    return cache


def shared_prefix_length(sequences):
    """How many leading tokens all `sequences` (token id lists) share (the chat header, system message
    and the template's first words), leaving at least each one's last token, which predicts the target."""
    first = sequences[0]
    length = min(len(seq) for seq in sequences) - 1
    for seq in sequences:
        while length and seq[:length] != first[:length]:
            length -= 1
    return max(length, 0)


def decode_after_prefix(decoder, sequences, prefix, pad_id, side, device, **options):
    """The decoder stack run over `sequences` (id lists, padded on `side`, sent to `device`), each the
    continuation of the id list `prefix` that they all share, which runs once for the batch (not at all
    when empty). Returns the decoder's output and each sequence's offset in the padded batch."""
    input_ids, attention_mask, position_ids, offsets = pad_batch(sequences, pad_id, side)
    cache = None
    if prefix:
        cache = repeated_cache(decoder, torch.tensor([prefix], device=device), None, None, len(sequences))
        attention_mask = torch.cat([torch.ones(len(sequences), len(prefix), dtype=torch.long), attention_mask], dim=1)
        position_ids = position_ids + len(prefix)
    output = decoder(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        position_ids=position_ids.to(device),
        past_key_values=cache,
        use_cache=cache is not None,
        **options,
    )
    return output, offsets


def target_logits(model, examples, pad_id, side, shared=0):
    """Logits (float32) at every position that predicts a target token, stacked in example order,
    plus the target token ids in the same order. One forward pass over prompt + target[:-1]; with
    `shared` > 0 the first `shared` tokens, which every example has, are run once for the batch and
    only the rest of each sequence is fed after their cache."""
    decoder, head, softcap = causal_lm_parts(model)
    device = head.weight.device
    sequences = [(ex.prompt_ids + ex.target_ids[:-1])[shared:] for ex in examples]
    prefix = examples[0].prompt_ids[:shared]
    output, offsets = decode_after_prefix(decoder, sequences, prefix, pad_id, side, device)
    hidden = output.last_hidden_state
    rows, cols = [], []
    for row, (ex, offset) in enumerate(zip(examples, offsets)):
        first = offset + len(ex.prompt_ids) - shared - 1  # the last prompt token predicts the first target token
        rows += [row] * len(ex.target_ids)
        cols += range(first, first + len(ex.target_ids))
    logits = head(hidden[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    targets = torch.tensor([t for ex in examples for t in ex.target_ids], device=device)
    return logits, targets


def length_batches(lengths, batch_size):
    """Index lists of items grouped by similar `lengths` (longest first, stable order)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@torch.inference_mode()
def score_examples(model, examples, pad_id, sampling=Sampling(), batch_size=64, side="left", progress=True):
    """One row per example: fact_id, correct, logprob, p_sample, first_token_rank.

    correct: every target token (end token included) is `argmax` of the logits, with torch's
    first-index tie rule, which is what greedy `generate` picks. logprob: summed log-probability of
    the target at temperature 1 without truncation. p_sample: probability that one sample under
    `sampling` produces exactly the target tokens. first_token_rank: 1 + number of tokens with a
    strictly higher logit than the first target token (1 = greedy choice)."""
    warpers = sampling_warpers(sampling)
    logprob, log_p_sample = np.zeros(len(examples)), np.zeros(len(examples))
    correct = np.zeros(len(examples), dtype=bool)
    rank = np.zeros(len(examples), dtype=np.int64)
    batches = length_batches([len(ex.prompt_ids) + len(ex.target_ids) for ex in examples], batch_size)
    shared = shared_prefix_length([ex.prompt_ids for ex in examples]) if examples else 0
    for batch in tracked(batches, "score", "batches", enabled=progress):
        logits, targets = target_logits(model, [examples[i] for i in batch], pad_id, side, shared)
        token_logprob = torch.log_softmax(logits, -1).gather(1, targets[:, None])[:, 0].double().cpu()
        token_sampled = sampled_log_probs(logits, warpers).gather(1, targets[:, None])[:, 0].double().cpu()
        token_hit = (logits.argmax(-1) == targets).cpu()
        token_rank = (logits > logits.gather(1, targets[:, None])).sum(-1).cpu() + 1
        start = 0
        for i in batch:
            span = slice(start, start + len(examples[i].target_ids))
            logprob[i] = token_logprob[span].sum().item()
            log_p_sample[i] = token_sampled[span].sum().item()
            correct[i] = bool(token_hit[span].all())
            rank[i] = int(token_rank[start])
            start = span.stop
    return pd.DataFrame(
        {
            "fact_id": [ex.fact_id for ex in examples],
            "correct": correct,
            "logprob": logprob,
            "p_sample": np.exp(log_p_sample),
            "first_token_rank": rank,
        }
    )
