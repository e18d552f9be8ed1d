"""Send a rule's diagnostics (logging, warnings, tqdm progress) to its Snakemake log file."""

import contextlib
import logging
import sys
import warnings


@contextlib.contextmanager
def log_to(path):
    """Within the block, stderr, stdout, `logging` and warnings all go to `path`."""
    with open(path, "w", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
