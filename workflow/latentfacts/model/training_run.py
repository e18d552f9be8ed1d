"""One training run (the main run or an arm, one replicate seed): every epoch fine-tuned in one process
with the base model loaded once, resumable after the process is killed.

Snakemake deletes a job's declared outputs before it runs the job again, so the epochs are written into
a resume directory outside them and moved into the outputs only once the last epoch is done. The
resume directory carries a fingerprint of everything the run depends on (its settings and its inputs'
identity): a run whose settings or inputs changed starts from epoch 1, never from stale state. Every
epoch's state holds the RNG states, so a resumed run ends bit-identical (on CPU) to an uninterrupted one.
"""

import hashlib
import json
import os
import shutil

from latentfacts.measurements.arms import training_facts
from latentfacts.model.finetune import resume, save_epoch, train_epoch, training_examples
from latentfacts.progress import Progress

FINGERPRINT_FILE = "fingerprint.json"


def file_identity(paths):
    """(path, size, mtime_ns) of every file under `paths` (files or directories), in a stable order."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [os.path.join(root, name) for name in sorted(files)]
        else:
            found.append(path)
    return [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) for path in found]


def fingerprint(settings, inputs):
    """A digest of a run's settings (plain values) and its input files' identity."""
    text = json.dumps({"settings": settings, "inputs": file_identity(inputs)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ResumeState:
    """The finished epochs of an interrupted run, under `directory`, valid for one fingerprint."""

    def __init__(self, directory, digest):
        self.directory = directory
        stamp = os.path.join(directory, FINGERPRINT_FILE)
        if os.path.isdir(directory) and not self._stamped(stamp, digest):
            print(f"resume state {directory} was made with other settings or inputs: starting from the first epoch")
            shutil.rmtree(directory)
        os.makedirs(directory, exist_ok=True)
        with open(stamp, "w") as stream:
            json.dump({"fingerprint": digest}, stream)

    @staticmethod
    def _stamped(stamp, digest):
        try:
            with open(stamp) as stream:
                return json.load(stream)["fingerprint"] == digest
        except (OSError, ValueError, KeyError):
            return False

    def epoch_dir(self, epoch):
        return os.path.join(self.directory, f"epoch_{epoch:02d}")

    def finished(self, epochs):
        """The leading epochs of `epochs` whose state is complete (written whole, see `save`)."""
        done = []
        for epoch in epochs:
            if not os.path.isdir(self.epoch_dir(epoch)):
                break
            done.append(epoch)
        return done

    def save(self, epoch, write):
        """`write(directory)` into a partial directory, renamed into place: an epoch is whole or absent."""
        partial = self.epoch_dir(epoch) + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        write(partial)
        os.replace(partial, self.epoch_dir(epoch))

    def deliver(self, epochs, destinations):
        """Link every epoch's files into its output directory, then remove the resume state."""
        for epoch, destination in zip(epochs, destinations):
            shutil.copytree(self.epoch_dir(epoch), destination, copy_function=link_or_copy, dirs_exist_ok=True)
        shutil.rmtree(self.directory)


def link_or_copy(src, dst):
    """A hard link (no second copy of an adapter on disk), or a copy across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def train_run(base, tokenizer, train, prompts, cfg, epochs, checkpoints, state, start=None, withdrawn=(), withdraw_after=None):
    """Fine-tune `base` through `epochs`, from the saved epoch directory `start` (None: fresh adapters),
    on the `train` facts (minus `withdrawn` after epoch `withdraw_after`), and leave each epoch's adapter
    and training state in `checkpoints`. `state` (a ResumeState) holds the epochs already done."""
    trainable = training_examples(tokenizer, train, prompts)
    done = state.finished(epochs)
    if done:
        print(f"resuming after epoch {done[-1]}: epochs {done[0]}..{done[-1]} were trained before", flush=True)
        start = state.epoch_dir(done[-1])
    # len(train), not the kept facts: every arm keeps the learning-rate schedule planned for the full set
    model, optimizer, scheduler = resume(base, start, cfg, len(train))
    progress = Progress("training", len(epochs) - len(done), "epochs", every=0)
    for epoch in epochs[len(done) :]:
        kept = set(training_facts(train["fact_id"], epoch, withdrawn, withdraw_after))
        examples = {key: example for key, example in trainable.items() if key[0] in kept}
        seen_order, log = train_epoch(model, optimizer, scheduler, examples, cfg, epoch, tokenizer.pad_token_id, False)
        state.save(epoch, lambda directory: save_epoch(directory, model, optimizer, scheduler, seen_order, log))
        progress.advance(note=f"epoch {epoch}: mean training loss {log['mean_loss']:.4f}")
    state.deliver(epochs, checkpoints)
