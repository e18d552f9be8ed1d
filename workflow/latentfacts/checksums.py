"""Checksums that a checkpoint directory carries: written last when it is saved (so their presence
also says the save finished) and verified before it is loaded, so a damaged adapter is named before
it is used (the loaders themselves say only `header too large` or fail later on NaN scores)."""

import hashlib
import json
import os

from latentfacts.tables import InputError

CHECKSUMS = "checksums.json"
CHUNK = 1 << 20


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksums(directory):
    """Record the sha256 of every file in `directory` in its checksums.json."""
    names = sorted(name for name in os.listdir(directory) if name != CHECKSUMS and os.path.isfile(os.path.join(directory, name)))
    sums = {name: sha256_of(os.path.join(directory, name)) for name in names}
    partial = os.path.join(directory, f".{CHECKSUMS}.part")
    with open(partial, "w") as stream:
        json.dump(sums, stream, indent=1, sort_keys=True)
    os.replace(partial, os.path.join(directory, CHECKSUMS))


def verify_checksums(directory):
    """Raise InputError naming the file when a file of `directory` is missing or differs from its
    recorded checksum, or when the directory has no (readable) checksums.json."""
    listing = os.path.join(directory, CHECKSUMS)
    if not os.path.isfile(listing):
        raise InputError(f"{listing}: missing; a checkpoint directory without it was not saved completely; {remake(directory)}")
    try:
        with open(listing) as stream:
            sums = json.load(stream)
        if not isinstance(sums, dict):
            raise ValueError("expected a JSON object {file name: sha256}")
    except ValueError as error:
        raise InputError(f"{listing}: not readable as JSON ({error}); {remake(directory)}") from error
    for name, expected in sorted(sums.items()):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            raise InputError(f"{path}: missing from the checkpoint (listed in {CHECKSUMS}); {remake(directory)}")
        actual = sha256_of(path)
        if actual != expected:
            raise InputError(f"{path}: damaged: sha256 {actual}, saved as {expected}; {remake(directory)}")


def remake(directory):
    return f"delete {directory} so that the training run which writes it runs again"
