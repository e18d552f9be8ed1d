"""fetch against a real HTTP server on 127.0.0.1 serving the embedded files, with faults."""

import hashlib
import http.server
import json
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake

from latentfacts.data.fetch import DownloadRefused, FetchError, InputFileError, fetch_source, open_text

EMBEDDED = Path(__file__).resolve().parents[1] / "resources" / "embedded"
FAST = {"max_bytes": 10**8, "timeout": 0.5, "retries": 2, "backoff": 0.01}


class FaultyHandler(http.server.BaseHTTPRequestHandler):
    """Serves resources/embedded/<name> under /<fault>/<name>; a fault hits the first `failures`
    requests of a path (server.failures), later ones are served normally."""

    def do_GET(self):
        _, fault, name = self.path.split("/")
        body = (EMBEDDED / name).read_bytes()
        self.server.hits[self.path] = self.server.hits.get(self.path, 0) + 1
        faulty = self.server.hits[self.path] <= self.server.failures
        if fault == "moved":  # to the same file on server.redirect_to (this server by default)
            self.send_response(302)
            self.send_header("Location", f"{getattr(self.server, 'redirect_to', '')}/ok/{name}")
            self.end_headers()
            return
        if fault == "unsized":  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
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


def plain(server, fault, name="hp.obo.gz", **spec):
    """A source on the test server, which speaks plain http."""
    return {"url": url(server, fault, name), "allow_http": True, **spec}


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_download_records_provenance(server, tmp_path):
    dest = tmp_path / "hp_obo"
    provenance = fetch_source(plain(server, "ok", sha256=sha256(EMBEDDED / "hp.obo.gz")), dest, **FAST)
    assert dest.read_bytes() == (EMBEDDED / "hp.obo.gz").read_bytes()  # kept as fetched (gzipped)
    assert provenance["data_version"] == "hp/releases/2025-01-16"
    assert provenance["bytes"] == dest.stat().st_size and provenance["sha256"] == sha256(dest)
    assert provenance["last_modified"] == "Thu, 16 Jan 2025 00:00:00 GMT" and provenance["etag"] == '"embedded-1"'
    with open_text(dest) as stream:
        assert stream.readline() == "format-version: 1.2\n"


@pytest.mark.parametrize("fault", ["error500", "truncated", "slow"])
def test_one_fault_then_success_is_retried(server, tmp_path, fault):
    dest = tmp_path / "go_annotations"
    fetch_source(plain(server, fault, "goa_human.gaf.gz"), dest, **FAST)
    assert sha256(dest) == sha256(EMBEDDED / "goa_human.gaf.gz")
    assert server.hits[f"/{fault}/goa_human.gaf.gz"] == 2


@pytest.mark.parametrize(("fault", "message"), [("error500", "HTTP 500"), ("truncated", "body cut off"), ("slow", "timed out")])
def test_persistent_fault_fails_and_leaves_no_file(server, tmp_path, fault, message):
    server.failures = 99
    dest = tmp_path / "hp_obo"
    with pytest.raises(FetchError, match=rf"giving up after 3 attempts; last error: .*{message}"):
        fetch_source(plain(server, fault), dest, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_wrong_checksum_names_both_digests_and_leaves_no_file(server, tmp_path):
    dest = tmp_path / "hp_obo"
    with pytest.raises(FetchError, match=rf"sha256 mismatch: expected {'0' * 64}, got {sha256(EMBEDDED / 'hp.obo.gz')}"):
        fetch_source(plain(server, "ok", sha256="0" * 64), dest, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_local_path_is_copied(tmp_path):
    provenance = fetch_source({"path": str(EMBEDDED / "go-basic.obo.gz")}, tmp_path / "go_obo", max_bytes=10**8)
    assert provenance["data_version"] == "releases/2026-05-19"
    assert provenance["source"] == str(EMBEDDED / "go-basic.obo.gz") and "last_modified" not in provenance


def test_missing_local_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match=r"nowhere/hp\.obo: file not found"):
        fetch_source({"path": str(tmp_path / "nowhere" / "hp.obo")}, tmp_path / "hp_obo", max_bytes=10**8)
    assert not (tmp_path / "hp_obo").exists()


@pytest.mark.workflow
def test_fetch_rule_downloads_a_url_source(server, project):
    path = project / "config/config.yaml"
    config = yaml.safe_load(path.read_text())
    config["sources"]["hp_obo"] = plain(server, "error500", sha256=sha256(EMBEDDED / "hp.obo.gz"))
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    run_snakemake(project, "resources/downloads/hp_obo")
    provenance = json.loads((project / "resources/downloads/hp_obo.provenance.json").read_text())
    assert provenance["source"] == url(server, "error500") and provenance["data_version"] == "hp/releases/2025-01-16"
    assert "attempt 1 failed (HTTP 500" in (project / "results/logs/fetch/hp_obo.log").read_text()


def test_final_url_after_redirects_is_recorded(server, tmp_path):
    provenance = fetch_source(plain(server, "moved"), tmp_path / "hp_obo", **FAST)
    assert provenance["source"] == url(server, "moved") and provenance["final_url"] == url(server, "ok")
    assert sha256(tmp_path / "hp_obo") == sha256(EMBEDDED / "hp.obo.gz")


def test_http_needs_the_source_to_allow_it(server, tmp_path):
    with pytest.raises(DownloadRefused, match=rf"{url(server, 'ok')}: not https; set allow_http: true"):
        fetch_source({"url": url(server, "ok")}, tmp_path / "hp_obo", **FAST)
    assert server.hits == {} and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fault", ["ok", "unsized"])
def test_download_over_the_cap_stops_at_once_and_leaves_nothing(server, tmp_path, fault):
    cap = (EMBEDDED / "goa_human.gaf.gz").stat().st_size - 1
    with pytest.raises(DownloadRefused, match=rf"cap of {cap} bytes \(fetch.max_megabytes\)"):
        fetch_source(plain(server, fault, "goa_human.gaf.gz"), tmp_path / "go_annotations", **{**FAST, "max_bytes": cap})
    assert server.hits == {f"/{fault}/goa_human.gaf.gz": 1}  # refused, not retried
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .part


@pytest.fixture
def https_server(tmp_path_factory, monkeypatch):
    """The same handler over TLS with a self-signed certificate for 127.0.0.1, trusted via SSL_CERT_FILE."""
    tls = tmp_path_factory.mktemp("tls")
    key, cert = tls / "key.pem", tls / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    httpd.hits, httpd.failures = {}, 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_https_redirect_to_http_is_refused_unless_allowed(https_server, server, tmp_path):
    secure = f"https://127.0.0.1:{https_server.server_address[1]}"
    provenance = fetch_source({"url": f"{secure}/moved/hp.obo.gz"}, tmp_path / "hp_obo", **FAST)
    assert provenance["final_url"] == f"{secure}/ok/hp.obo.gz"
    (tmp_path / "hp_obo").unlink()
    https_server.redirect_to = f"http://127.0.0.1:{server.server_address[1]}"
    with pytest.raises(DownloadRefused, match=rf"{https_server.redirect_to}/ok/hp.obo.gz: not https"):
        fetch_source({"url": f"{secure}/moved/hp.obo.gz"}, tmp_path / "hp_obo", **FAST)
    assert server.hits == {} and list(tmp_path.iterdir()) == []
    provenance = fetch_source({"url": f"{secure}/moved/hp.obo.gz", "allow_http": True}, tmp_path / "hp_obo", **FAST)
    assert provenance["final_url"] == url(server, "ok")


@pytest.mark.workflow
def test_http_source_without_allow_http_stops_the_dag(project):
    path = project / "config/config.yaml"
    config = yaml.safe_load(path.read_text())
    config["sources"]["hp_obo"] = {"url": "http://purl.obolibrary.org/obo/hp.obo"}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    proc = run_snakemake(project, "-n", check=False)
    assert proc.returncode != 0
    assert "config key sources.hp_obo.url: 'http://purl.obolibrary.org/obo/hp.obo' is not https" in proc.stderr + proc.stdout
