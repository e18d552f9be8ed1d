"""Send a rule's diagnostics (logging, warnings, progress) to its Snakemake log file, and progress
lines to the console as well."""

import contextlib
import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_name(path):
    """The log's path below the logs folder, without suffix: 'train/runs/seed0' for results/logs/train/runs/seed0.log."""
    parts = Path(path).with_suffix("").parts
    return "/".join(parts[parts.index("logs") + 1 :] if "logs" in parts else parts[-1:])


@contextlib.contextmanager
def log_to(path):
    """Within the block, stderr, stdout, `logging` and warnings all go to `path`; the
    `latentfacts.progress` logger also goes to the console, each line prefixed with the log's name."""
    with open(path, "w", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(FORMAT))
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter(f"[{log_name(path)}] %(message)s"))
        progress = logging.getLogger("latentfacts.progress")
        progress.addHandler(console)
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(stream):
                yield
        except BaseException:
            logging.getLogger("latentfacts").exception("rule failed")
            raise
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            progress.removeHandler(console)
