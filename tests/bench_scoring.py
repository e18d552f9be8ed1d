"""Benchmark of the model layer (a script, not a test): teacher-forced scoring vs greedy `generate`,
one epoch's evaluation under each answer rule (`evaluate.answer: exact`: scoring + the generate
cross-check; `extract`: scoring + a greedy reply of every fact, at most `max_new_tokens` tokens, its
identifier extracted), exact sampling probability vs Monte Carlo (K=10, K=100), one fine-tuning epoch,
and the fixed cost of a job (process start + imports, model load) against the work of a seed's
training run, and a projection of the paper-scale study's time on this device from those parts.

    python tests/bench_scoring.py                       # CPU, embedded base model (tiny model if results/ is absent)
    python tests/bench_scoring.py --device cuda --model llama-3.1-8b-random --out bench.json

`llama-3.1-8b-random` is a randomly initialised model with the Llama-3.1-8B architecture (bf16, built on
the meta device and materialised on the GPU; no download) fed synthetic token sequences as long as the
real prompts (its replies are random tokens, so under extract it always generates `max_new_tokens` tokens,
the worst case, and nothing is extracted); on a GPU the table adds tokens/s, the fraction of the FLOP floor (2 x params x tokens
forward, 6 x for training) against a bf16 matmul rate measured on the same GPU and peak memory, and the
projection uses the GPU's own rates. Prints a table and writes JSON (`--out`).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# Llama-3.1 chat rendering of our prompts: the header block (begin_of_text, system header with the
# knowledge-cutoff lines, user and assistant headers) adds ~25 tokens to the system message and question.
LLAMA_HEADER_TOKENS = 25
LLAMA_EOT, LLAMA_PAD = 128009, 128004
PAPER = {"facts": 1600, "train_facts": 1200, "epochs": 20, "mc_samples": 100, "crosscheck": 64}


def now(device):
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def import_overhead():
    """Seconds a fresh rule process spends starting Python and importing what the model rules import."""
    code = "import torch, transformers, peft, pandas; from latentfacts.model import lm, scoring, finetune, evaluation"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def random_llama_8b(device):
    """Llama-3.1-8B architecture, random bf16 weights, built on the meta device then materialised."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=131072,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=128000, eos_token_id=LLAMA_EOT, pad_token_id=LLAMA_PAD,
    )
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device=device).to(torch.bfloat16)
    generator = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight"):
                param.fill_(1.0)
            else:
                param.normal_(0.0, 0.02, generator=generator)
    # non-persistent buffers (rotary frequencies) are empty after to_empty: rebuild them on the device
    model.model.rotary_emb = LlamaRotaryEmbedding(config).to(device)
    model.eval()
    return model


def synthetic_examples(n_facts, prompt_lengths, shared, target_length, vocab, seed):
    """Examples of random tokens with the real prompts' lengths (cycled), the first `shared` tokens the
    same in every prompt (as the chat header and system message are), and identifier-sized targets."""
    import random

    from latentfacts.model.prompts import Example

    rng = random.Random(seed)
    start = tuple(rng.randrange(1000, vocab) for _ in range(shared))
    return [
        Example(
            f"F{i:05d}", 0,
            start + tuple(rng.randrange(1000, vocab) for _ in range(prompt_lengths[i % len(prompt_lengths)] - shared)),
            (*(rng.randrange(1000, vocab) for _ in range(target_length)), LLAMA_EOT),
        )
        for i in range(n_facts)
    ]


def llama_prompt_lengths(results_dir):
    """(token counts of our prompts, tokens every prompt starts with) under Llama-3.1's chat format,
    estimated from the configured templates (about 4 characters per token for English text) plus the
    header block; the shared start is the header and the system message."""
    import pandas as pd

    from latentfacts.configfiles import layered

    config = layered(ROOT / "config" / "config.yaml", ROOT / "config" / "paper.yaml")
    prompts = config["prompts"]
    labels = ["Seizure", "Abnormality of the cardiovascular system", "mitochondrial inner membrane", "Global developmental delay"]
    pairs = results_dir / "data" / "pairs.parquet"
    if pairs.exists():
        labels = pd.read_parquet(pairs)["label"].tolist()
    template = prompts["templates"][prompts["evaluation_template"]]
    lengths = [
        LLAMA_HEADER_TOKENS + round(len(prompts["system_message"] + template.format(label=label, ontology="HPO")) / 4)
        for label in labels
    ]
    return lengths, LLAMA_HEADER_TOKENS + round(len(prompts["system_message"]) / 4)


def tiny_or_embedded(results_dir):
    """(model directory, facts, system message, template, label): the embedded study's base model,
    pairs and evaluation prompt, else the tests' tiny model with its own."""
    import pandas as pd
    import yaml

    base, pairs = results_dir / "models" / "default" / "base_model", results_dir / "data" / "pairs.parquet"
    if (base / "config.json").exists() and pairs.exists():
        prompts = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["prompts"]
        template = prompts["templates"][prompts["evaluation_template"]]
        return str(base), pd.read_parquet(pairs), prompts["system_message"], template, "embedded base model"
    from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir

    return tiny_lm_dir(), tiny_facts(), SYSTEM, TEMPLATES[0], "tiny test model"


def matmul_tflops(device):
    """Measured dense bf16 matmul rate (TFLOP/s) on this device: the roofline for the FLOP-floor column."""
    import torch

    size = 8192 if device == "cuda" else 1024
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    reps, started = 20 if device == "cuda" else 5, now(device)
    for _ in range(reps):
        a @ b
    return 2 * size**3 * reps / (now(device) - started) / 1e12


def run(args):
    import numpy as np
    import torch

    from latentfacts.model.finetune import TrainConfig, resume, train_epoch
    from latentfacts.model.evaluation import example_targets
    from latentfacts.model.lm import load_model, load_tokenizer
    from latentfacts.model.prompts import end_of_turn_id, encode_facts
    from latentfacts.model.sampling import generate_answers, matches_target, monte_carlo_hits
    from latentfacts.model.scoring import Sampling, score_examples

    device, results = args.device, {"device": args.device}
    torch.manual_seed(0)
    results["import_s"] = import_overhead()
    started = now(device)
    if args.model == "llama-3.1-8b-random":
        model = random_llama_8b(device)
        results["model"] = "Llama-3.1-8B architecture, random bf16 weights"
        prompt_lengths, shared = llama_prompt_lengths(args.results)
        examples = synthetic_examples(args.facts, prompt_lengths, shared, 8, 128256, seed=0)
        train = synthetic_examples(args.train_facts, prompt_lengths, shared, 8, 128256, seed=1)
        pad_id, end_id = LLAMA_PAD, LLAMA_EOT
        judge = None  # random tokens: no text to extract from
    else:
        directory, facts, system_message, template, label = tiny_or_embedded(args.results)
        if args.model:  # another local model, asked the embedded (or tiny) facts
            directory, label = args.model, args.model
        model, tokenizer = load_model(directory, device=device), load_tokenizer(directory)
        results["model"] = label
        examples = encode_facts(tokenizer, facts.head(args.facts), system_message, [template], [0])
        train = examples[: args.train_facts]
        pad_id, end_id = tokenizer.pad_token_id, end_of_turn_id(tokenizer)
        judge = (tokenizer, example_targets(facts, examples))
    results["load_s"] = now(device) - started
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    params = sum(p.numel() for p in model.parameters())
    results |= {"parameters": params, "facts": len(examples), "train_facts": len(train)}
    scored_tokens = sum(len(ex.prompt_ids) + len(ex.target_ids) - 1 for ex in examples)

    started = now(device)
    scores = score_examples(model, examples, pad_id, Sampling(), args.batch_size, progress=False)
    results["score_s"] = now(device) - started
    started = now(device)
    answers = generate_answers(model, examples, pad_id, end_id, args.batch_size, progress=False)
    results["greedy_generate_s"] = now(device) - started
    greedy = [matches_target(a[0], ex.target_ids) for a, ex in zip(answers, examples)]
    results["greedy_disagreements"] = int(sum(g != c for g, c in zip(greedy, scores["correct"])))

    results |= evaluation_epochs(model, examples, pad_id, end_id, args, judge)

    mc_examples = examples[: args.mc_facts]
    p = scores["p_sample"].to_numpy()[: args.mc_facts]
    for k in (10, 100):
        started = now(device)
        hits = monte_carlo_hits(model, mc_examples, pad_id, end_id, Sampling(), k, 0, max(1, args.batch_size // 4), progress=False)
        results[f"mc{k}_s"] = now(device) - started
        results[f"mc{k}_mean_abs_error"] = float(np.mean(np.abs(hits / k - p)))
        # how often K samples miss a fact whose exact probability is > 0 (latent facts MC cannot see)
        results[f"mc{k}_missed_share_of_p_gt_0.01"] = float(np.mean(hits[p > 0.01] == 0)) if (p > 0.01).any() else None
    results["mc_facts"] = len(mc_examples)

    cfg = TrainConfig(seed=0, epochs=1, batch_size=16, learning_rate=2e-4, weight_decay=0.0, schedule="linear",
                      warmup_ratio=0.05, lora_r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear",
                      train_templates="first")
    trainable, optimizer, scheduler = resume(model, None, cfg, len(train))
    started = now(device)
    train_epoch(trainable, optimizer, scheduler, {(ex.fact_id, 0): ex for ex in train}, cfg, 1, pad_id, progress=False)
    results["finetune_epoch_s"] = now(device) - started
    trained_tokens = sum(len(ex.prompt_ids) + len(ex.target_ids) - 1 for ex in train)

    results["score_tokens_per_s"] = scored_tokens / results["score_s"]
    results["finetune_tokens_per_s"] = trained_tokens / results["finetune_epoch_s"]
    results["job_overhead_s"] = overhead = results["import_s"] + results["load_s"]
    # a seed's 20 fine-tuning epochs and 21 evaluations, as 41 jobs or as two (finetune_main, evaluate_main)
    work = PAPER["epochs"] * results["finetune_epoch_s"] + (PAPER["epochs"] + 1) * results["score_s"]
    results["overhead_share_job_per_epoch"] = 41 * overhead / (41 * overhead + work)
    results["overhead_share_job_per_run"] = 2 * overhead / (2 * overhead + work)
    results["paper_projection_min"] = paper_projection(results)
    if device == "cuda":
        peak = matmul_tflops(device)
        results["matmul_tflops"] = peak
        results["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
        results["score_flop_floor_fraction"] = 2 * params * scored_tokens / results["score_s"] / (peak * 1e12)
        results["finetune_flop_floor_fraction"] = 6 * params * trained_tokens / results["finetune_epoch_s"] / (peak * 1e12)
    return results


def evaluation_epochs(model, examples, pad_id, end_id, args, judge):
    """Seconds of one epoch's evaluation of `examples` under each answer rule, as `epoch_table` runs it:
    exact = teacher-forced scoring + greedy `generate` of `args.crosscheck` facts; extract = scoring + a
    greedy reply (at most `args.max_new_tokens` tokens) of every fact, which also serves the cross-check.
    With `judge` (tokenizer, each example's (ontology, identifier)) the replies are extracted and the
    recall under both rules reported; None (random weights) times the generation alone."""
    from latentfacts.model.answers import AnswerRule
    from latentfacts.model.evaluation import judged_replies
    from latentfacts.model.sampling import crosscheck_sample, generate_answers
    from latentfacts.model.scoring import Sampling, score_examples

    device, out = args.device, {"max_new_tokens": args.max_new_tokens, "crosscheck_facts": args.crosscheck}
    started = now(device)
    scores = score_examples(model, examples, pad_id, Sampling(), args.batch_size, progress=False)
    chosen = crosscheck_sample(len(examples), args.crosscheck, [0, 1])
    generate_answers(model, [examples[i] for i in chosen], pad_id, end_id, args.batch_size, progress=False)
    out["eval_exact_s"] = now(device) - started
    started = now(device)
    score_examples(model, examples, pad_id, Sampling(), args.batch_size, progress=False)
    replies = generate_answers(model, examples, pad_id, end_id, args.batch_size, progress=False, max_new_tokens=args.max_new_tokens)
    if judge is not None:
        rule = AnswerRule.from_settings({"answer": "extract", **args.extract})
        right = [own[0][2] for own in judged_replies(judge[0], rule, judge[1], replies)]
    out["eval_extract_s"] = now(device) - started
    out["extract_generated_tokens"] = sum(len(own[0]) for own in replies)
    out["recall_exact"] = float(scores["correct"].mean())
    if judge is not None:
        out["recall_extract"] = float(sum(right) / len(right))
        out["rules_disagree"] = int(sum(r != c for r, c in zip(right, scores["correct"])))
    return out


def paper_projection(r):
    """Minutes of GPU time of the paper-scale study from the measured parts, run as the workflow runs it:
    the baseline job (scoring + 100 Monte Carlo samples per fact), a fine-tuning job (20 epochs) and an
    evaluation job (21 evaluations with their generate cross-check) per seed, the probes of the default
    measurements (reverse probe at 2 epochs, linear probe at 5: one scoring pass each), and one model
    load per job. `per_epoch_jobs_min` is the same study with one job (one load) per epoch."""
    per_fact = lambda key, n: r[key] / n  # noqa: E731
    score = per_fact("score_s", r["facts"]) * PAPER["facts"]
    parts = {
        "baseline": score + per_fact("mc100_s", r["mc_facts"]) * PAPER["facts"] * PAPER["mc_samples"] / 100,
        "fine-tuning": per_fact("finetune_epoch_s", r["train_facts"]) * PAPER["train_facts"] * PAPER["epochs"],
        "evaluation": (PAPER["epochs"] + 1) * (score + per_fact("greedy_generate_s", r["facts"]) * PAPER["crosscheck"]),
        "probes": (2 + 5) * score,
        "model loads": 5 * r["job_overhead_s"],  # baseline, fine-tuning, evaluation, reverse probe, linear probe
    }
    minutes = {name: seconds / 60 for name, seconds in parts.items()}
    minutes["total"] = sum(minutes.values())
    minutes["per_epoch_jobs_total"] = minutes["total"] + (2 * PAPER["epochs"] - 1) * r["job_overhead_s"] / 60
    return minutes


def share(value):
    return "n/a" if value is None else f"{value:.0%}"


def table(results):
    rows = [
        ("model", results["model"]), ("device", results["device"]), ("parameters", f"{results['parameters']:,}"),
        ("facts scored / trained / MC", f"{results['facts']} / {results['train_facts']} / {results['mc_facts']}"),
        ("process start + imports (s)", f"{results['import_s']:.2f}"), ("model load (s)", f"{results['load_s']:.2f}"),
        ("teacher-forced scoring (s)", f"{results['score_s']:.2f}"), ("greedy generate, same facts (s)", f"{results['greedy_generate_s']:.2f}"),
        ("greedy decisions that differ", str(results["greedy_disagreements"])),
        (f"one epoch's evaluation, exact: scoring + {results['crosscheck_facts']} cross-checked (s)", f"{results['eval_exact_s']:.2f}"),
        (f"one epoch's evaluation, extract: scoring + replies <= {results['max_new_tokens']} tokens (s)", f"{results['eval_extract_s']:.2f}"),
        ("tokens generated under extract", str(results["extract_generated_tokens"])),
        ("recall, exact / extract", f"{results['recall_exact']:.1%} / " + (f"{results['recall_extract']:.1%}" if "recall_extract" in results else "n/a")),
        ("facts the two rules judge differently", str(results.get("rules_disagree", "n/a"))),
        ("exact p_sample (part of scoring)", "1 pass"),
        ("Monte Carlo K=10 (s)", f"{results['mc10_s']:.2f}"), ("Monte Carlo K=100 (s)", f"{results['mc100_s']:.2f}"),
        ("mean |MC K=10 - exact p|", f"{results['mc10_mean_abs_error']:.4f}"), ("mean |MC K=100 - exact p|", f"{results['mc100_mean_abs_error']:.4f}"),
        ("K=10: facts with p>0.01 never hit", share(results["mc10_missed_share_of_p_gt_0.01"])),
        ("K=100: facts with p>0.01 never hit", share(results["mc100_missed_share_of_p_gt_0.01"])),
        ("one fine-tuning epoch (s)", f"{results['finetune_epoch_s']:.2f}"),
        ("scoring tokens/s", f"{results['score_tokens_per_s']:.0f}"), ("training tokens/s", f"{results['finetune_tokens_per_s']:.0f}"),
        ("imports + load share of a seed's run, 41 jobs", f"{results['overhead_share_job_per_epoch']:.0%}"),
        ("imports + load share of a seed's run, 1 job", f"{results['overhead_share_job_per_run']:.0%}"),
    ]
    for key, name, fmt in [("matmul_tflops", "bf16 matmul (TFLOP/s)", "{:.0f}"), ("peak_memory_gib", "peak GPU memory (GiB)", "{:.1f}"),
                           ("score_flop_floor_fraction", "scoring: fraction of FLOP floor", "{:.0%}"),
                           ("finetune_flop_floor_fraction", "training: fraction of FLOP floor", "{:.0%}")]:
        if key in results:
            rows.append((name, fmt.format(results[key])))
    for part, minutes in results.get("paper_projection_min", {}).items():
        rows.append((f"paper-scale study on this device: {part} (min)", f"{minutes:.1f}"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main():
    from latentfacts.configfiles import layered
    from latentfacts.model.answers import EXTRACT_KEYS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--model", default=None, help="model directory, or llama-3.1-8b-random (default: embedded base model, else tiny test model)")
    parser.add_argument("--facts", type=int, default=None, help="facts to score (default 1600 on cuda, 400 on cpu)")
    parser.add_argument("--train-facts", type=int, default=None, help="facts in the fine-tuning epoch (default 1200 on cuda, 400 on cpu)")
    parser.add_argument("--mc-facts", type=int, default=None, help="facts sampled K=10 and K=100 times (default 200 on cuda, 48 on cpu)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=None, help="longest reply under extract (default evaluate.max_new_tokens: config.yaml's on cpu, paper.yaml's for the 8B model)")
    parser.add_argument("--crosscheck", type=int, default=None, help="facts cross-checked under exact (default evaluate.crosscheck_facts, as --max-new-tokens)")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="the workflow's results/ (embedded base model and pairs)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    gpu = args.device == "cuda"
    args.facts = args.facts or (PAPER["facts"] if gpu else 400)
    args.train_facts = args.train_facts or (PAPER["train_facts"] if gpu else 400)
    args.mc_facts = args.mc_facts or (200 if gpu else 48)
    files = ["config.yaml", "paper.yaml"] if args.model == "llama-3.1-8b-random" else ["config.yaml"]
    config = layered(*(ROOT / "config" / name for name in files))
    args.extract = {key: config["evaluate"][key] for key in EXTRACT_KEYS}
    args.max_new_tokens = args.extract["max_new_tokens"] = args.max_new_tokens or config["evaluate"]["max_new_tokens"]
    args.crosscheck = config["evaluate"]["crosscheck_facts"] if args.crosscheck is None else args.crosscheck
    results = run(args)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
