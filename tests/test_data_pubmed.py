"""PubMed Central counts against a real HTTP server on 127.0.0.1 that records every request."""

import importlib.util
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import ROOT

from latentfacts.data.pubmed import PubMedError, pubmed_counts

PAIRS = pd.DataFrame(
    {
        "id": ["HP:0001250", "HP:0002069", "GO:0005634"],
        "label": ["Seizure", "Bilateral tonic-clonic seizure", "nucleus"],
    }
)
# What the fake E-utilities answer for each exact phrase.
HITS = {
    '"HP:0001250"': 412,
    '"HP:0002069"': 37,
    '"GO:0005634"': 9051,
    '"Seizure"': 120000,
    '"Bilateral tonic-clonic seizure"': 880,
    '"nucleus"': 2500000,
}


class EutilsServer:
    """esearch.fcgi on a loopback port; `failures` is a list of HTTP statuses to send before answering."""

    def __init__(self, failures=(), body=None):
        self.requests = []  # (monotonic time, query parameters)
        self.failures = list(failures)
        self.body = body
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                params = dict(urllib.parse.parse_qsl(url.query))
                server.requests.append((time.monotonic(), url.path, params))
                if server.failures:
                    self.send_error(server.failures.pop(0))
                    return
                payload = server.body or json.dumps(
                    {"header": {}, "esearchresult": {"count": str(HITS[params["term"]])}}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/entrez/eutils/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def test_counts_rate_and_cache(tmp_path):
    cache = tmp_path / "pmc.jsonl"
    with EutilsServer() as server:
        table = pubmed_counts(PAIRS, cache, base_url=server.base_url, email="a@b.org", backoff=0.01)
        first_run = list(server.requests)
        again = pubmed_counts(PAIRS, cache, base_url=server.base_url, backoff=0.01)

    assert list(table.columns) == ["id", "label", "id_frequency", "label_frequency", "source", "taken"]
    assert table["id_frequency"].tolist() == [412, 37, 9051]
    assert table["label_frequency"].tolist() == [120000, 880, 2500000]
    assert table["taken"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # One request per distinct query, the documented esearch parameters, no key without one.
    assert len(first_run) == 6
    _, path, params = first_run[0]
    assert path == "/entrez/eutils/esearch.fcgi"
    assert {k: params[k] for k in ("db", "rettype", "retmode", "tool", "email")} == {
        "db": "pmc",
        "rettype": "count",
        "retmode": "json",
        "tool": "latentfacts",
        "email": "a@b.org",
    }
    assert "api_key" not in params
    # At most 3 requests per second without an API key.
    gaps = [later[0] - earlier[0] for earlier, later in zip(first_run, first_run[1:])]
    assert min(gaps) >= 1 / 3 - 0.01
    # The second run is answered from the cache alone, with the same table.
    assert len(server.requests) == 6
    pd.testing.assert_frame_equal(again, table)
    assert len(cache.read_text().splitlines()) == 6


def test_api_key_is_sent_and_allows_ten_per_second(tmp_path):
    with EutilsServer() as server:
        pubmed_counts(PAIRS, tmp_path / "c.jsonl", base_url=server.base_url, api_key="SECRET", requests_per_second=50)
    stamps = [t for t, _, _ in server.requests]
    assert all(params["api_key"] == "SECRET" for _, _, params in server.requests)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= 1 / 10 - 0.01  # configured 50/s is capped at NCBI's 10/s
    assert stamps[-1] - stamps[0] < 5 * (1 / 3)  # and faster than the keyless limit


def test_transient_server_errors_are_retried(tmp_path):
    with EutilsServer(failures=[503, 500]) as server:
        table = pubmed_counts(PAIRS, tmp_path / "c.jsonl", base_url=server.base_url, retries=2, backoff=0.01)
    assert len(server.requests) == 6 + 2
    assert table["id_frequency"].tolist() == [412, 37, 9051]


def test_persistent_server_error_names_query_and_status(tmp_path):
    cache = tmp_path / "c.jsonl"
    with EutilsServer(failures=[500] * 10) as server:
        with pytest.raises(
            PubMedError, match=r"query 'Bilateral tonic-clonic seizure' failed after 3 attempt\(s\): HTTP 500"
        ):
            pubmed_counts(PAIRS, cache, base_url=server.base_url, retries=2, backoff=0.01)
    assert len(server.requests) == 3
    assert not cache.exists()


def test_client_error_is_not_retried(tmp_path):
    with EutilsServer(failures=[400]) as server:
        with pytest.raises(PubMedError, match=r"after 1 attempt\(s\): HTTP 400"):
            pubmed_counts(PAIRS, tmp_path / "c.jsonl", base_url=server.base_url, retries=3, backoff=0.01)
    assert len(server.requests) == 1


def test_unexpected_answer_is_a_clear_error(tmp_path):
    with EutilsServer(body='{"esearchresult": {"ERROR": "Invalid db name"}}') as server:
        with pytest.raises(
            PubMedError, match=r"query 'Bilateral tonic-clonic seizure': expected JSON with esearchresult.count"
        ):
            pubmed_counts(PAIRS, tmp_path / "c.jsonl", base_url=server.base_url, backoff=0.01)


def test_answer_is_quoted_only_when_the_request_carries_no_api_key(tmp_path, caplog):
    echo = "<html>Bad request: esearch.fcgi?db=pmc&api_key=SECRET</html>"
    with EutilsServer(body=echo) as server:
        with pytest.raises(PubMedError) as keyless:
            pubmed_counts(PAIRS, tmp_path / "a.jsonl", base_url=server.base_url, backoff=0.01)
        with pytest.raises(PubMedError) as keyed:
            pubmed_counts(PAIRS, tmp_path / "b.jsonl", base_url=server.base_url, api_key="SECRET", backoff=0.01)
    assert echo in str(keyless.value)
    assert "a body not shown because the request carries an API key" in str(keyed.value)
    assert "SECRET" not in str(keyed.value) and "SECRET" not in repr(keyed.value.__cause__)
    assert "SECRET" not in caplog.text


def test_unreachable_server_is_a_clear_error(tmp_path):
    with EutilsServer() as server:
        dead_url = server.base_url
    with pytest.raises(PubMedError, match=r"failed after 2 attempt\(s\): no response"):
        pubmed_counts(PAIRS, tmp_path / "c.jsonl", base_url=dead_url, retries=1, backoff=0.01)


def test_corrupt_cache_names_file_and_line(tmp_path):
    cache = tmp_path / "c.jsonl"
    cache.write_text('{"query": "HP:0001250", "count": 1, "taken": "2026-01-01"}\nnot json\n')
    with pytest.raises(PubMedError, match=r"c.jsonl, line 2: expected a JSON object"):
        pubmed_counts(PAIRS, cache, base_url="http://127.0.0.1:9/")


def test_partial_cache_asks_only_for_the_rest_and_keeps_its_dates(tmp_path):
    cache = tmp_path / "c.jsonl"
    cache.write_text('{"query": "HP:0001250", "count": 5, "taken": "2020-02-02"}\n')
    with EutilsServer() as server:
        table = pubmed_counts(PAIRS, cache, base_url=server.base_url, backoff=0.01)
    asked = {params["term"] for _, _, params in server.requests}
    assert '"HP:0001250"' not in asked and len(asked) == 5
    assert table.loc[0, "id_frequency"] == 5  # the cached count, not the server's
    assert table.loc[0, "taken"] == "2020-02-02"  # the row's oldest count


def test_rule_script_uses_pubmed_with_the_key_from_the_environment(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "literature_frequency", ROOT / "workflow" / "scripts" / "literature_frequency.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    PAIRS.to_parquet(tmp_path / "pairs.parquet")
    monkeypatch.setenv("NCBI_API_KEY", "FROM-ENV")
    with EutilsServer() as server:
        pubmed = {
            "base_url": server.base_url,
            "email": None,
            "tool": "latentfacts",
            "requests_per_second": None,
            "retries": 1,
            "cache": str(tmp_path / "cache.jsonl"),
        }
        # as the rule passes them: the base URL a param, the other keys one JSON resource
        manners = {key: value for key, value in pubmed.items() if key != "base_url"}
        script.main(
            SimpleNamespace(
                input=SimpleNamespace(pairs=str(tmp_path / "pairs.parquet")),
                params=SimpleNamespace(source="pubmed", base_url=pubmed["base_url"]),
                resources=SimpleNamespace(pubmed=json.dumps(manners)),
                output=[str(tmp_path / "frequency.parquet")],
            )
        )
    assert {params["api_key"] for _, _, params in server.requests} == {"FROM-ENV"}
    table = pd.read_parquet(tmp_path / "frequency.parquet")
    assert table["id_frequency"].tolist() == [412, 37, 9051]
    assert table["source"].str.startswith("pubmed:").all()
