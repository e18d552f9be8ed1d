"""Real decoding with `generate`: Monte Carlo samples per fact, the greedy cross-check of the
teacher-forced scores, and the known / latent / unknown classification of the baseline.
"""

import numpy as np
import pandas as pd
import torch
from latentfacts.progress import tracked

from latentfacts.model.scoring import causal_lm_parts, length_batches, pad_batch, repeated_cache


class CrosscheckError(AssertionError):
    """Teacher-forced greedy correctness disagrees with real greedy generation."""


def generate_answers(model, examples, pad_id, end_id, batch_size, sampling=None, samples=1, progress=True, max_new_tokens=None):
    """For each example, `samples` generated answers (token id tuples, at most `max_new_tokens`
    tokens, by default target length + 1, stopping at the end-of-turn token). `sampling=None` decodes greedily. Every decoding
    setting is passed explicitly; prompts are left-padded, and with several samples each prompt is
    prefilled once (all but its last token, whose logits generate computes from the cache): generate's
    own `num_return_sequences` repeats the prompts before its prefill, running each `samples` times."""
    answers = [None] * len(examples)
    settings = {"do_sample": False}
    if sampling is not None:
        settings = {"do_sample": True, "temperature": sampling.temperature, "top_k": sampling.top_k, "top_p": sampling.top_p}
    device = model.device
    lengths = [len(ex.prompt_ids) + len(ex.target_ids) for ex in examples]
    for batch in tracked(length_batches(lengths, batch_size), "generate", "batches", enabled=progress):
        padded = pad_batch([examples[i].prompt_ids for i in batch], pad_id, "left")
        input_ids, attention_mask, position_ids = (tensor.to(device) for tensor in padded[:3])
        if samples > 1:
            with torch.inference_mode():
                settings["past_key_values"] = repeated_cache(
                    causal_lm_parts(model)[0], input_ids[:, :-1], attention_mask[:, :-1], position_ids[:, :-1], samples
                )
        output = model.generate(
            input_ids=input_ids.repeat_interleave(samples, dim=0),
            attention_mask=attention_mask.repeat_interleave(samples, dim=0),
            max_new_tokens=max_new_tokens or max(len(examples[i].target_ids) for i in batch) + 1,
            eos_token_id=end_id,
            pad_token_id=pad_id,
            **settings,
        )[:, input_ids.shape[1] :].cpu()
        for k, i in enumerate(batch):
            answers[i] = [tuple(seq.tolist()) for seq in output[k * samples : (k + 1) * samples]]
    return answers


def matches_target(answer, target_ids):
    """The generated tokens start with the whole target, end token included."""
    return answer[: len(target_ids)] == tuple(target_ids)


def sampled_answers(model, examples, pad_id, end_id, sampling, samples, seed, batch_size, progress=True, max_new_tokens=None):
    """`samples` answers per example drawn with real `generate`, seeded by `seed` (an integer)."""
    torch.manual_seed(seed)
    return generate_answers(model, examples, pad_id, end_id, batch_size, sampling, samples, progress, max_new_tokens)


def exact_hits(examples, answers):
    """Number of each example's `answers` that start with its whole target, end token included."""
    return np.array([sum(matches_target(a, ex.target_ids) for a in own) for own, ex in zip(answers, examples)])


def monte_carlo_hits(model, examples, pad_id, end_id, sampling, samples, seed, batch_size, progress=True):
    """Number of `samples` seeded samples per example that equal its target (drawn with real `generate`)."""
    return exact_hits(examples, sampled_answers(model, examples, pad_id, end_id, sampling, samples, seed, batch_size, progress))


def binomial_hits(p_sample, samples, seed):
    """Hits of `samples` samples per fact drawn from their exact law: a real sample equals the target
    with probability p_sample, independently of the others, so Binomial(samples, p_sample) has the
    distribution of monte_carlo_hits, with nothing decoded."""
    return np.random.default_rng(seed).binomial(samples, np.clip(np.asarray(p_sample, dtype=float), 0.0, 1.0))


def crosscheck_sample(n_examples, n_facts, seed):
    """Sorted indices of the seeded random sample of `n_facts` examples the cross-check compares."""
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(n_examples, size=min(n_facts, n_examples), replace=False).tolist())


def crosscheck_greedy(model, examples, scores, pad_id, end_id, n_facts, seed, batch_size):
    """Greedy-generate a seeded random sample of `n_facts` examples and compare with the teacher-forced
    `correct` in `scores` (aligned with `examples`). Raises CrosscheckError naming every disagreement.
    Returns the number of facts checked."""
    chosen = crosscheck_sample(len(examples), n_facts, seed)
    if not chosen:
        return 0
    answers = generate_answers(model, [examples[i] for i in chosen], pad_id, end_id, batch_size, progress=False)
    return check_greedy_answers(examples, scores["correct"], chosen, answers)


def check_greedy_answers(examples, correct_exact, chosen, answers):
    """Compare greedy `answers` of the examples at indices `chosen` with their teacher-forced exact
    correctness (`correct_exact`, aligned with `examples`); raise CrosscheckError naming every
    disagreement, else return the number compared."""
    disagreements = [
        f"{examples[i].fact_id} (teacher-forced correct={bool(correct_exact.iloc[i])}, generated {answer[0]})"
        for i, answer in zip(chosen, answers)
        if matches_target(answer[0], examples[i].target_ids) != bool(correct_exact.iloc[i])
    ]
    if disagreements:
        raise CrosscheckError(
            f"greedy generate disagrees with teacher-forced scoring on {len(disagreements)} of {len(chosen)} "
            f"facts: {'; '.join(disagreements)}"
        )
    return len(chosen)


def knowledge_classes(correct, p_sample, mc_hits, samples, rule, threshold):
    """`known` if greedy-correct; else `latent` if sampling finds it (rule `monte_carlo`: any MC hit;
    rule `exact`: 1-(1-p_sample)^samples > threshold, the chance that `samples` samples find it);
    else `unknown`."""
    correct, p_sample, mc_hits = map(np.asarray, (correct, p_sample, mc_hits))
    if rule == "monte_carlo":
        found = mc_hits > 0
    else:
        found = 1 - (1 - p_sample) ** samples > threshold
    return pd.Series(np.where(correct, "known", np.where(found, "latent", "unknown")))

