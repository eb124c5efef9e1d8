"""The answer cache and HTTP validators: the graph cannot change while it is served, so a
repeated query is answered without a worker, GET answers carry an ETag, and a matching
If-None-Match gets 304 before anything is evaluated. Errors, timeouts and cut answers are
never stored."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from palmyra_graph.query.cache import ENTRY_BYTES, AnswerCache, request_key
from palmyra_graph.web import create_app
from palmyra_graph.web.context import cache_of, pool_of

JSON = {"Accept": "application/sparql-results+json"}
QUERY = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"


@pytest.fixture
def app() -> Iterator[Flask]:
    application = create_app({"TESTING": True, "QUERY_WORKERS": 1, "QUERY_TIMEOUT": 2})
    yield application
    pool = pool_of(application)
    assert pool is not None
    pool.close()


def test_a_hit_equals_the_miss_byte_for_byte_and_needs_no_worker(app: Flask) -> None:
    client = app.test_client()
    miss = client.get("/sparql", query_string={"query": QUERY}, headers=JSON)
    assert miss.status_code == 200 and miss.data  # read whole: now it is stored
    assert len(cache_of(app)) == 1
    pool = pool_of(app)
    assert pool is not None
    pool.close()  # no broker, no worker: only the cache can answer now
    hit = client.get("/sparql", query_string={"query": QUERY}, headers=JSON)
    assert hit.status_code == 200
    assert hit.data == miss.data and hit.content_type == miss.content_type
    assert hit.headers["ETag"] == miss.headers["ETag"]
    # The same query asked by POST is the same request: the cache answers it too.
    posted = client.post("/sparql", data={"query": QUERY}, headers=JSON)
    assert posted.status_code == 200 and posted.data == miss.data


def test_a_matching_etag_is_answered_304_before_any_evaluation(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/sparql", query_string={"query": QUERY}, headers=JSON)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(
        "/sparql", query_string={"query": QUERY}, headers={**JSON, "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = client.get(
        "/sparql", query_string={"query": QUERY}, headers={**JSON, "If-None-Match": 'W/"x"'}
    )
    assert other.status_code == 200
    # Another format of the same query is another answer, with its own validator.
    xml = client.get(
        "/sparql",
        query_string={"query": QUERY},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert xml.headers["ETag"] != etag


def test_the_etag_changes_with_the_graph(tmp_path: Path) -> None:
    data = tmp_path / "data.nt"
    etags = []
    for content in ('<http://e/a> <http://e/p> "1" .\n', '<http://e/a> <http://e/p> "2" .\n'):
        data.write_text(content, encoding="utf-8")
        app = create_app({"TESTING": True, "DATA_FILES": [str(data)], "QUERY_WORKERS": 0})
        response = app.test_client().get("/sparql", query_string={"query": QUERY}, headers=JSON)
        etags.append(response.headers["ETag"])
    assert etags[0] != etags[1]


def test_errors_and_timeouts_are_never_stored(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/sparql", query_string={"query": "SELECT * {"}).status_code == 400
    assert client.get("/sparql", query_string={"query": RUNAWAY}, headers=JSON).status_code == 503
    assert len(cache_of(app)) == 0


def test_a_cut_answer_is_never_stored() -> None:
    cache = AnswerCache(1 << 20)
    chunks = cache.keeping("k", "text/plain", iter([b"a" * 10, b"b" * 10, b"c" * 10]))
    assert next(chunks) == b"a" * 10
    chunks.close()  # the client went away after the first chunk
    assert cache.get("k") is None
    whole = cache.keeping("k", "text/plain", iter([b"a", b"b"]))
    assert b"".join(whole) == b"ab" and cache.get("k") is not None

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        b"".join(cache.keeping("f", "text/plain", failing()))
    assert cache.get("f") is None


def test_the_byte_bound_holds_least_recently_used_out_first() -> None:
    cache = AnswerCache(8 * (900 + ENTRY_BYTES))  # a body may take 1,284 bytes at most
    assert not cache.put("big", "text/plain", b"x" * 1285)
    for i in range(20):
        assert cache.put(f"k{i}", "text/plain", b"x" * 900)
        cache.get("k0")  # kept in use: it must survive
        assert cache.size <= cache.max_bytes
    assert cache.get("k0") is not None and cache.get("k1") is None
    assert len(cache) == 8 and cache.size == 8 * (900 + ENTRY_BYTES)
    off = AnswerCache(0)
    assert not off.put("k", "text/plain", b"x") and len(off) == 0


@pytest.mark.parametrize("body", [0, 250, 4000])
def test_the_bound_holds_for_the_memory_the_entries_take(body: int) -> None:
    """Filled far past its bound with answers as a server stores them (keys and bodies made
    while it stores them), the cache holds no more memory than its bound says."""
    bound = 2 << 20
    cache = AnswerCache(bound)
    tracemalloc.start()
    try:
        for i in range(3 * bound // (body + ENTRY_BYTES)):
            key = request_key(f"SELECT ?o WHERE {{ <http://example.org/{i}> ?p ?o }}")
            cache.put(key, "application/sparql-results+json", os.urandom(body))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cache.size <= bound
    assert held <= bound
    assert held >= bound // 2  # it does keep answers up to about its bound
