"""fetch against a real HTTP server on 127.0.0.1 serving the embedded files, with faults."""

import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake

from latentfacts.data.fetch import FetchError, InputFileError, fetch_source, open_text

EMBEDDED = Path(__file__).resolve().parents[1] / "resources" / "embedded"
FAST = {"timeout": 0.5, "retries": 2, "backoff": 0.01}


class FaultyHandler(http.server.BaseHTTPRequestHandler):
    """Serves resources/embedded/<name> under /<fault>/<name>; a fault hits the first `failures`
    requests of a path (server.failures), later ones are served normally."""

    def do_GET(self):
        _, fault, name = self.path.split("/")
        body = (EMBEDDED / name).read_bytes()
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        faulty = self.server.hits[self.path] <= self.server.failures
        if faulty and fault == "error500":
            self.send_error(500, "try again")
            return
        if faulty and fault == "slow":
            time.sleep(1)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + (1000 if faulty and fault == "truncated" else 0)))
        self.send_header("Last-Modified", "Thu, 16 Jan 2025 00:00:00 GMT")
        self.send_header("ETag", '"embedded-1"')
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    httpd.daemon_threads = True
    httpd.hits, httpd.failures = {}, 1
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server, fault, name="hp.obo.gz"):
    return f"http://127.0.0.1:{server.server_address[1]}/{fault}/{name}"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_download_records_provenance(server, tmp_path):
    dest = tmp_path / "hp_obo"
    provenance = fetch_source({"url": url(server, "ok"), "sha256": sha256(EMBEDDED / "hp.obo.gz")}, dest, **FAST)
    assert dest.read_bytes() == (EMBEDDED / "hp.obo.gz").read_bytes()  # kept as fetched (gzipped)
    assert provenance["data_version"] == "hp/releases/2025-01-16"
    assert provenance["bytes"] == dest.stat().st_size and provenance["sha256"] == sha256(dest)
    assert provenance["last_modified"] == "Thu, 16 Jan 2025 00:00:00 GMT" and provenance["etag"] == '"embedded-1"'
    with open_text(dest) as stream:
        assert stream.readline() == "format-version: 1.2\n"


@pytest.mark.parametrize("fault", ["error500", "truncated", "slow"])
def test_one_fault_then_success_is_retried(server, tmp_path, fault):
    dest = tmp_path / "go_annotations"
    fetch_source({"url": url(server, fault, "goa_human.gaf.gz")}, dest, **FAST)
    assert sha256(dest) == sha256(EMBEDDED / "goa_human.gaf.gz")
    assert server.hits[f"/{fault}/goa_human.gaf.gz"] == 2


@pytest.mark.parametrize(("fault", "message"), [("error500", "HTTP 500"), ("truncated", "body cut off"), ("slow", "timed out")])
def test_persistent_fault_fails_and_leaves_no_file(server, tmp_path, fault, message):
    server.failures = 99
    dest = tmp_path / "hp_obo"
    with pytest.raises(FetchError, match=rf"giving up after 3 attempts; last error: .*{message}"):
        fetch_source({"url": url(server, fault)}, dest, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_wrong_checksum_names_both_digests_and_leaves_no_file(server, tmp_path):
    dest = tmp_path / "hp_obo"
    with pytest.raises(FetchError, match=rf"sha256 mismatch: expected {'0' * 64}, got {sha256(EMBEDDED / 'hp.obo.gz')}"):
        fetch_source({"url": url(server, "ok"), "sha256": "0" * 64}, dest, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_local_path_is_copied(tmp_path):
    provenance = fetch_source({"path": str(EMBEDDED / "go-basic.obo.gz")}, tmp_path / "go_obo")
    assert provenance["data_version"] == "releases/2026-05-19"
    assert provenance["source"] == str(EMBEDDED / "go-basic.obo.gz") and "last_modified" not in provenance


def test_missing_local_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match=r"nowhere/hp\.obo: file not found"):
        fetch_source({"path": str(tmp_path / "nowhere" / "hp.obo")}, tmp_path / "hp_obo")
    assert not (tmp_path / "hp_obo").exists()


@pytest.mark.workflow
def test_fetch_rule_downloads_a_url_source(server, project):
    path = project / "config/config.yaml"
    config = yaml.safe_load(path.read_text())
    config["sources"]["hp_obo"] = {"url": url(server, "error500"), "sha256": sha256(EMBEDDED / "hp.obo.gz")}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    run_snakemake(project, "resources/downloads/hp_obo")
    provenance = json.loads((project / "resources/downloads/hp_obo.provenance.json").read_text())
    assert provenance["source"] == url(server, "error500") and provenance["data_version"] == "hp/releases/2025-01-16"
    assert "attempt 1 failed (HTTP 500" in (project / "results/logs/fetch/hp_obo.log").read_text()
