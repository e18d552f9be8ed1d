"""Fetch an input file (local path or URL) into resources/downloads, with its provenance.

A file is kept as fetched (gzipped or plain); readers open it with `open_text` or read it with
`numbered_lines`, which sniff the gzip magic bytes and name the file (and line) of a read failure. Downloads retry with exponential backoff, check the announced length and an
optional pinned sha256, and are written to a temporary file that is renamed only when complete.
They use https (also after redirects) unless the source allows plain http, and stop at a size cap:
a wrong URL that serves a whole database must not fill the disk.
"""

import datetime
import gzip
import io
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path

from latentfacts.checksums import sha256_of

log = logging.getLogger(__name__)
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class InputFileError(ValueError):
    """An input file is missing or malformed; the message names the file (and line)."""

    def __init__(self, path, message, line=None):
        self.path, self.message, self.line = path, message, line
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")


@contextmanager
def named_source(path, name, spec):
    """Name the configured source `name` (its URL or path) in an InputFileError about `path`, its
    downloaded copy: the user edits the config, not resources/downloads/."""
    try:
        yield
    except InputFileError as error:
        if str(error.path) != str(path):
            raise
        origin = spec.get("url") or spec.get("path")
        raise InputFileError(f"source {name!r} ({origin}) fetched to {error.path}", error.message, error.line) from error


class FetchError(RuntimeError):
    """A download failed for good (after retries) or its bytes are not the pinned ones."""


class DownloadRefused(FetchError):
    """A download that no retry can make acceptable: too large, or not over https."""


def require_https(url, allow_http):
    """Refuse a URL that is not https unless its source allows plain transfers (http, ftp)."""
    if not allow_http and urllib.parse.urlsplit(url).scheme != "https":
        raise DownloadRefused(f"{url}: not https; set allow_http: true on the source to allow a plain download")


class HttpsRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, refusing one that leaves https when the source does not allow it."""

    def __init__(self, allow_http):
        self.allow_http = allow_http

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        require_https(newurl, self.allow_http)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def open_binary(path):
    """Open a file for reading its bytes, gunzipped if it is gzipped (by its magic bytes)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    with open(path, "rb") as stream:
        magic = stream.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def open_text(path):
    """Open a UTF-8 text file for reading whether it is gzipped or plain; a leading byte-order mark
    is skipped (editors on Windows write one)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig")


def numbered_lines(path):
    """Yield (line number, line) of a UTF-8 text file read with `open_text`. A read failure
    (truncated gzip, bytes that are not UTF-8) raises InputFileError naming the file and the line."""
    line_number = 0
    try:
        with open_text(path) as stream:
            for line_number, line in enumerate(stream, 1):
                yield line_number, line
    except UnicodeDecodeError as error:
        # the decoder works on blocks, so the line is found again in the raw bytes
        raise InputFileError(path, f"not UTF-8 text ({error})", first_undecodable_line(path)) from error
    except (EOFError, OSError, zlib.error) as error:
        raise InputFileError(path, f"unreadable after line {line_number} ({type(error).__name__}: {error}); truncated?") from error


def first_undecodable_line(path):
    with open_binary(path) as stream:
        for line_number, raw in enumerate(stream, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line_number
    return None


def obo_data_version(path):
    """The `data-version:` of an OBO header, or None (not OBO, or no such line)."""
    try:
        for _, line in numbered_lines(path):
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip()
            if line.startswith("["):  # header over
                return None
    except InputFileError:
        return None
    return None


def download(url, dest, max_bytes, allow_http=False, timeout=60.0, retries=4, backoff=1.0):
    """Download `url` to `dest` atomically; retry transient failures (HTTP 5xx/429, network
    errors, timeouts, short bodies) with exponential backoff. Returns (final URL after redirects,
    response headers)."""
    dest = Path(dest)
    require_https(url, allow_http)
    opener = urllib.request.build_opener(HttpsRedirects(allow_http))
    for attempt in range(retries + 1):
        try:
            return _download_once(opener, url, dest, max_bytes, timeout)
        except DownloadRefused:
            raise
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


def _download_once(opener, url, dest, max_bytes, timeout):
    request = urllib.request.Request(url, headers={"User-Agent": "latentfacts"})
    descriptor, temp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as out, opener.open(request, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            if expected is not None and int(expected) > max_bytes:
                raise DownloadRefused(f"{url}: Content-Length {expected} bytes exceeds the cap of {max_bytes} bytes (fetch.max_megabytes)")
            received = 0
            while True:
                try:
                    chunk = response.read(CHUNK)
                except Exception as error:  # http.client.IncompleteRead and friends: a short body
                    raise FetchError(f"body cut off after {received} bytes ({error!r})") from error
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise DownloadRefused(f"{url}: more than the cap of {max_bytes} bytes (fetch.max_megabytes); stopped")
                out.write(chunk)
            if expected is not None and received != int(expected):
                raise FetchError(f"body cut off: Content-Length {expected}, received {received} bytes")
            final_url, headers = response.geturl(), dict(response.headers)
        os.replace(temp, dest)
        return final_url, headers
    finally:
        remove_if_present(temp)


def remove_if_present(path):
    if os.path.exists(path):
        os.remove(path)


def copy_local(source, dest):
    """Copy `source` to `dest` through a temporary file that a failed copy does not leave behind."""
    temp = dest.with_name(f".{dest.name}.part")
    try:
        shutil.copyfile(source, temp)
        os.replace(temp, dest)
    finally:
        remove_if_present(temp)


def fetch_source(spec, dest, max_bytes, timeout=60.0, retries=4, backoff=1.0):
    """Fetch one configured source ({path} or {url, sha256?, allow_http?}) to `dest`; returns its
    provenance. Downloads larger than `max_bytes` are refused."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    headers, final_url = {}, None
    if "path" in spec:
        source = Path(spec["path"])
        if not source.is_file():
            raise InputFileError(source, "file not found (config sources: path)")
        copy_local(source, dest)
    else:
        final_url, headers = download(
            spec["url"], dest, max_bytes, spec.get("allow_http", False), timeout=timeout, retries=retries, backoff=backoff
        )
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
    if final_url is not None:
        provenance["final_url"] = final_url
    for header in ("Last-Modified", "ETag"):
        if header in headers:
            provenance[header.lower().replace("-", "_")] = headers[header]
    return provenance


def write_provenance(provenance, path):
    Path(path).write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
