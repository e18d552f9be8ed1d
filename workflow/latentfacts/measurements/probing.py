"""Linear probing (after Allen-Zhu & Li): can one digit of the identifier be read linearly
from the model's hidden state at the term's last token?

Per layer: an L2 logistic regression trained on half the facts, tested on the other half; its accuracy
against the majority-class baseline, both with Wilson intervals.
"""

import numpy as np

from latentfacts.model.prompts import render_prompt


def probe_epochs(every, epochs):
    """Epochs 0, every, 2*every, ... and always the last one."""
    return sorted(set(range(0, epochs + 1, every)) | {epochs})


def identifier_digit(identifier, position):
    """The digit at `position` (Python indexing, -1 = last) of the identifier's local part (after ':')."""
    local = identifier.split(":", 1)[-1]
    digits = [c for c in local if c.isdigit()]
    if not -len(digits) <= position < len(digits):
        raise ValueError(f"identifier {identifier!r} has no digit at position {position} ({len(digits)} digits)")
    return int(digits[position])


def wilson_interval(hits, n, confidence=0.95):
    """Wilson score interval for a binomial proportion hits/n."""
    from scipy.stats import norm

    if n == 0:
        return float("nan"), float("nan")
    z = norm.ppf(0.5 + confidence / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def half_split(n, seed):
    """A seeded boolean mask choosing floor(n/2) of n items for training (the rest are the test half)."""
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[: n // 2]] = True
    return mask


def probe_accuracy(features, labels, train_mask, C, seed, confidence=0.95):
    """Fit a standardized L2 logistic regression on the training half, score the test half.

    The baseline always answers the training half's most common label. Returns a dict of accuracy,
    baseline, their Wilson intervals and sizes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels)
    train_x, train_y = features[train_mask], labels[train_mask]
    test_x, test_y = features[~train_mask], labels[~train_mask]
    values, counts = np.unique(train_y, return_counts=True)
    majority = values[np.argmax(counts)]
    if len(values) > 1:
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))
        predicted = probe.fit(train_x, train_y).predict(test_x)
    else:  # one class in training: the probe can only say that class
        predicted = np.full(len(test_y), majority)
    hits = int((predicted == test_y).sum())
    baseline_hits = int((test_y == majority).sum())
    n = len(test_y)
    low, high = wilson_interval(hits, n, confidence)
    base_low, base_high = wilson_interval(baseline_hits, n, confidence)
    return {
        "accuracy": hits / n,
        "ci_low": low,
        "ci_high": high,
        "baseline": baseline_hits / n,
        "baseline_ci_low": base_low,
        "baseline_ci_high": base_high,
        "n_train": int(train_mask.sum()),
        "n_test": n,
        "n_classes": int(len(values)),
    }


def probe_prompts(tokenizer, facts, system_message, template):
    """The evaluation prompt of each fact (rows with label, ontology) as text, and the character span
    (start, end) of its term in that text."""
    texts, spans = [], []
    for row in facts.itertuples():
        text = render_prompt(tokenizer, system_message, template, row.label, row.ontology)
        question = template.replace("{label}", row.label).replace("{ontology}", row.ontology)
        prefix = template.split("{label}")[0].replace("{ontology}", row.ontology)
        start = text.rindex(question) + len(prefix)
        texts.append(text)
        spans.append((start, start + len(row.label)))
    return texts, spans


def term_end_positions(tokenizer, texts, spans):
    """Index of the last token that overlaps each term's character span (start, end) in its text."""
    positions = []
    for text, (start, end) in zip(texts, spans):
        offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        inside = [i for i, (a, b) in enumerate(offsets) if a < end and b > start]
        if not inside:
            raise ValueError(f"no token covers characters {start}..{end} ({text[start:end]!r}) of a probe prompt")
        positions.append(inside[-1])
    return positions


def hidden_states_at(model, tokenizer, texts, positions, batch_size):
    """Hidden states at one token per text, every layer: array [layers + 1, texts, hidden]
    (index 0 = the embeddings). Attention is causal, so a token's states depend only on the tokens up
    to it: each text is cut after its position, texts of similar length are batched (right padding, so
    positions count from each text's start) and the tokens every text starts with run once per batch."""
    import torch

    from latentfacts.model.scoring import causal_lm_parts, decode_after_prefix, length_batches, shared_prefix_length

    device = next(model.parameters()).device
    decoder = causal_lm_parts(model)[0]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    cut = [tokenizer(t, add_special_tokens=False)["input_ids"][: p + 1] for t, p in zip(texts, positions)]
    shared = shared_prefix_length(cut)
    states = [None] * len(cut)
    with torch.no_grad():
        for batch in length_batches([len(ids) for ids in cut], batch_size):
            # the decoder stack alone: the output head's logits at every position would go unread
            out, _ = decode_after_prefix(
                decoder, [cut[i][shared:] for i in batch], cut[0][:shared], pad, "right", device, output_hidden_states=True
            )
            rows = torch.arange(len(batch), device=device)
            last = torch.tensor([len(cut[i]) - shared - 1 for i in batch], device=device)
            layers = torch.stack([h[rows, last].float().cpu() for h in out.hidden_states])
            for column, i in enumerate(batch):
                states[i] = layers[:, column]
    return torch.stack(states, dim=1).numpy()


def probe_layers(states, labels, train_mask, C, seed):
    """probe_accuracy for every layer of `states` [layers, facts, hidden]; a list of dicts with `layer`."""
    return [
        {"layer": layer, **probe_accuracy(states[layer], labels, train_mask, C, seed)} for layer in range(len(states))
    ]
