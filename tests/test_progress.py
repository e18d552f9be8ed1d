"""Progress lines reach the console and the rule's log; a known third-party warning is silenced at its
source while the project's own warnings still show."""

import subprocess
import sys

from latentfacts.progress import Progress, tracked
from latentfacts.rulelog import log_to


def test_progress_lines_reach_the_console_and_the_log(tmp_path, capsys):
    log = tmp_path / "results/logs/train/runs/seed0.log"
    log.parent.mkdir(parents=True)
    with log_to(log):
        for _ in tracked(range(20), "pretrain", "steps", every=0.25):
            pass
        print("a detail for the log only")
    console = capsys.readouterr().err
    lines = [line for line in console.splitlines() if line.startswith("[train/runs/seed0] pretrain:")]
    assert [line.split(": ")[1].split(" (")[0] for line in lines] == ["5/20 steps", "10/20 steps", "15/20 steps", "20/20 steps"]
    assert "about" in lines[0] and "left" in lines[0] and lines[-1].endswith(", done")
    assert "a detail for the log only" not in console
    written = log.read_text()
    assert "pretrain: 20/20 steps (100%)" in written and "a detail for the log only" in written


def test_every_epoch_gets_a_line_with_its_note(tmp_path, capsys):
    with log_to(tmp_path / "train.log"):
        progress = Progress("training runs/seed0", 3, "epochs", every=0)
        for epoch in range(1, 4):
            progress.advance(note=f"epoch {epoch}: recall over all facts 50.0% (5/10)")
    lines = [line for line in capsys.readouterr().err.splitlines() if "training runs/seed0" in line]
    assert len(lines) == 3 and lines[1].startswith("[train] training runs/seed0: 2/3 epochs (67%)")
    assert lines[2].endswith("; epoch 3: recall over all facts 50.0% (5/10)")


SCRIPT = """
import sys, warnings
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

def adapt():
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2))
    get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"]))

adapt()
print("--- latentfacts.model imported ---", file=sys.stderr, flush=True)
import latentfacts.model
adapt()
warnings.warn("a warning of the project's own", FutureWarning)
"""


def test_peft_deprecation_warning_is_silenced_and_own_warnings_are_not():
    proc = subprocess.run([sys.executable, "-W", "default", "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    before, after = proc.stderr.split("--- latentfacts.model imported ---")
    assert "is_gradient_checkpointing" in before  # the warning exists without the filter
    assert "is_gradient_checkpointing" not in after
    assert "a warning of the project's own" in after
