"""Progress of long loops (pretraining steps, scoring batches, training epochs) for the person at the
console: a line every few percent, with elapsed time and an estimate of the time left.

Lines go to the `latentfacts.progress` logger; `latentfacts.rulelog.log_to` sends that logger to the
console as well as to the rule's log file, so a rule that runs for minutes is not silent.
"""

import logging
import time

log = logging.getLogger("latentfacts.progress")


def duration(seconds):
    """'42 s', '3 min 5 s', '1 h 02 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Counts `total` units of `what`; `advance` logs a line each time another `every` of the total
    is done (every=0: each unit), and at the end."""

    def __init__(self, what, total, unit, every=0.1, enabled=True):
        self.what, self.total, self.unit, self.every, self.enabled = what, total, unit, every, enabled
        self.done, self.reported, self.started = 0, 0.0, time.monotonic()

    def advance(self, units=1, note=""):
        self.done += units
        fraction = self.done / self.total if self.total else 1.0
        if not self.enabled or (fraction < 1.0 and fraction - self.reported < self.every):
            return
        self.reported = fraction
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        line = f"{self.what}: {self.done}/{self.total} {self.unit} ({fraction:.0%}), {duration(elapsed)} elapsed"
        line += f", about {duration(left)} left" if self.done < self.total else ", done"
        log.info(line + (f"; {note}" if note else ""))


def tracked(items, what, unit, every=0.1, enabled=True):
    """Iterate over the sized `items`, reporting progress after each one is processed."""
    progress = Progress(what, len(items), unit, every, enabled)
    for item in items:
        yield item
        progress.advance()
