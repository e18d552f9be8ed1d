"""Fetch an input file (local path or URL) into resources/downloads, with its provenance.

A file is kept as fetched (gzipped or plain); readers open it with `open_text`, which sniffs
the gzip magic bytes. Downloads retry with exponential backoff, check the announced length and an
optional pinned sha256, and are written to a temporary file that is renamed only when complete.
"""

import datetime
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class InputFileError(ValueError):
    """An input file is missing or malformed; the message names the file (and line)."""

    def __init__(self, path, message, line=None):
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")


class FetchError(RuntimeError):
    """A download failed for good (after retries) or its bytes are not the pinned ones."""


def open_text(path):
    """Open a text file for reading whether it is gzipped or plain (by its magic bytes)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    with open(path, "rb") as stream:
        magic = stream.read(2)
    if magic == GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def obo_data_version(path):
    """The `data-version:` of an OBO header, or None (not OBO, or no such line)."""
    try:
        with open_text(path) as stream:
            for line in stream:
                if line.startswith("data-version:"):
                    return line.split(":", 1)[1].strip()
                if line.startswith("["):  # header over
                    return None
    except (UnicodeDecodeError, EOFError, OSError, gzip.BadGzipFile):
        return None
    return None


def download(url, dest, timeout=60.0, retries=4, backoff=1.0):
    """Download `url` to `dest` atomically; retry transient failures (HTTP 5xx/429, network
    errors, timeouts, short bodies) with exponential backoff. Returns the response headers."""
    dest = Path(dest)
    for attempt in range(retries + 1):
        try:
            return _download_once(url, dest, timeout)
        except urllib.error.HTTPError as error:
            if error.code < 500 and error.code != 429:
                raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from error
            failure = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, OSError, FetchError) as error:
            failure = f"{type(error).__name__}: {error}"
        if attempt == retries:
            raise FetchError(f"{url}: giving up after {retries + 1} attempts; last error: {failure}")
        wait = backoff * 2**attempt
        log.warning("%s: attempt %d failed (%s); retrying in %.1f s", url, attempt + 1, failure, wait)
        time.sleep(wait)


def _download_once(url, dest, timeout):
    request = urllib.request.Request(url, headers={"User-Agent": "latentfacts"})
    descriptor, temp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            received = 0
            while True:
                try:
                    chunk = response.read(CHUNK)
                except Exception as error:  # http.client.IncompleteRead and friends: a short body
                    raise FetchError(f"body cut off after {received} bytes ({error!r})") from error
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
            if expected is not None and received != int(expected):
                raise FetchError(f"body cut off: Content-Length {expected}, received {received} bytes")
            headers = dict(response.headers)
        os.replace(temp, dest)
        return headers
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def fetch_source(spec, dest, timeout=60.0, retries=4, backoff=1.0):
    """Fetch one configured source ({path} or {url, sha256?}) to `dest`; returns its provenance."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    headers = {}
    if "path" in spec:
        source = Path(spec["path"])
        if not source.is_file():
            raise InputFileError(source, "file not found (config sources: path)")
        temp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(source, temp)
        os.replace(temp, dest)
    else:
        headers = download(spec["url"], dest, timeout=timeout, retries=retries, backoff=backoff)
    digest = sha256_of(dest)
    pinned = spec.get("sha256")
    if pinned and pinned != digest:
        dest.unlink()
        raise FetchError(f"{spec.get('url', spec.get('path'))}: sha256 mismatch: expected {pinned}, got {digest}")
    provenance = {
        "source": spec.get("url") or spec["path"],
        "sha256": digest,
        "bytes": dest.stat().st_size,
        "data_version": obo_data_version(dest),
        "fetched": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    for header in ("Last-Modified", "ETag"):
        if header in headers:
            provenance[header.lower().replace("-", "_")] = headers[header]
    return provenance


def write_provenance(provenance, path):
    Path(path).write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
