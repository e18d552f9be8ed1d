"""Literature frequency from PubMed Central: how many PMC articles contain a fact's identifier or label.

One NCBI E-utilities `esearch` request per distinct query (db=pmc, the quoted phrase, rettype=count,
JSON). NCBI allows 3 requests/s, 10/s with an API key; we never exceed that. Every count goes to an
on-disk cache (JSON lines, one {query, count, taken} per line, appended as it arrives) so a rerun, or
a run after an interruption, asks only for what it does not have. Server errors are retried with
exponential backoff; what still fails raises PubMedError naming the query and the HTTP status.
"""

import datetime
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from latentfacts.progress import tracked

from latentfacts.data.frequency import frequency_table

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# NCBI's published limits (requests per second), without and with an API key.
RATE_LIMIT = 3.0
RATE_LIMIT_WITH_KEY = 10.0
# Worth retrying: the server is busy or failing, not the request wrong.
RETRY_STATUSES = {429, 500, 502, 503, 504}

log = logging.getLogger(__name__)


class PubMedError(RuntimeError):
    """An esearch request failed for good; the message names the query."""


def phrase_term(query):
    """The esearch term for an exact phrase (inner double quotes would end the phrase early)."""
    return '"' + query.replace('"', " ").strip() + '"'


class RateLimiter:
    """Spaces calls to `wait()` at least 1/rate seconds apart."""

    def __init__(self, rate):
        self.interval = 1.0 / rate
        self.next_slot = 0.0

    def wait(self):
        now = time.monotonic()
        if now < self.next_slot:
            time.sleep(self.next_slot - now)
            now = self.next_slot
        self.next_slot = now + self.interval


class CountCache:
    """{query: (count, date taken)} backed by a JSON-lines file that grows one line per new count."""

    def __init__(self, path):
        self.path = Path(path)
        self.entries = {}
        if self.path.exists():
            for number, line in enumerate(self.path.read_text().splitlines(), start=1):
                try:
                    record = json.loads(line)
                    self.entries[record["query"]] = (int(record["count"]), record["taken"])
                except (ValueError, KeyError, TypeError) as error:
                    raise PubMedError(
                        f"{self.path}, line {number}: expected a JSON object with query, count and "
                        f"taken ({error}); delete the line or the file to query it again"
                    ) from error

    def __contains__(self, query):
        return query in self.entries

    def add(self, query, count, taken):
        self.entries[query] = (count, taken)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as stream:
            stream.write(json.dumps({"query": query, "count": count, "taken": taken}) + "\n")


def esearch_count(query, base_url, params, retries, backoff, timeout=30):
    """The PMC hit count of `query` as a phrase; retries server errors `retries` times."""
    url = base_url + "esearch.fcgi?" + urllib.parse.urlencode({**params, "term": phrase_term(query)})
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = response.read().decode("utf-8", errors="replace")
            break
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {error.reason}"
            retryable = error.code in RETRY_STATUSES
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            problem = f"no response ({getattr(error, 'reason', error)})"
            retryable = True
        if not retryable or attempt == retries:
            raise PubMedError(
                f"PubMed esearch for query {query!r} failed after {attempt + 1} attempt(s): {problem} ({base_url})"
            )
        log.warning("esearch %r: %s; retry %d of %d", query, problem, attempt + 1, retries)
        time.sleep(backoff * 2**attempt)
    try:
        return int(json.loads(body)["esearchresult"]["count"])
    except (ValueError, KeyError, TypeError):
        # An error page may echo the request URL, and with it the API key: then the body is not quoted.
        got = "a body not shown because the request carries an API key" if "api_key" in params else repr(body[:300])
        raise PubMedError(f"PubMed esearch for query {query!r}: expected JSON with esearchresult.count, got {got}") from None


def pubmed_counts(
    pairs,
    cache,
    base_url=EUTILS,
    email=None,
    tool="latentfacts",
    api_key=None,
    requests_per_second=None,
    retries=4,
    backoff=1.0,
):
    """The frequency table (id, label, id_frequency, label_frequency, source, taken) of `pairs`
    from PMC hit counts; `taken` is the date of the row's oldest count (counts may come from the
    cache `cache`, a JSON-lines path)."""
    limit = RATE_LIMIT_WITH_KEY if api_key else RATE_LIMIT
    limiter = RateLimiter(min(requests_per_second or limit, limit))
    params = {"db": "pmc", "rettype": "count", "retmode": "json", "tool": tool}
    params |= {"email": email} if email else {}
    params |= {"api_key": api_key} if api_key else {}
    counts = CountCache(cache)
    queries = sorted(set(pairs["id"]) | set(pairs["label"]))
    missing = [query for query in queries if query not in counts]
    log.info("%d queries, %d cached, %d to ask %s", len(queries), len(queries) - len(missing), len(missing), base_url)
    for query in tracked(missing, "PMC esearch", "queries"):
        limiter.wait()
        count = esearch_count(query, base_url, params, retries, backoff)
        counts.add(query, count, datetime.datetime.now(datetime.timezone.utc).date().isoformat())
    taken = [min(counts.entries[term][1], counts.entries[label][1]) for term, label in zip(pairs["id"], pairs["label"])]
    return frequency_table(
        pairs, {query: count for query, (count, _) in counts.entries.items()}, source=f"pubmed:{base_url}", taken=taken
    )
