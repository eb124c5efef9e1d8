"""The SERVICE guard: it sees every SERVICE clause Oxigraph would call, and nothing else.

Each case is checked twice: against ``check_query``, and against pyoxigraph itself with a
real HTTP listener on loopback as the endpoint, counting the requests the engine sends. So a
"refused" case is a query that really would reach out, and an "allowed" case (SERVICE in a
comment, a string, a variable name) is one that really would not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest
from flask import Flask

from palmyra_graph.app import create_app
from palmyra_graph.errors import QueryError, QueryRefused
from palmyra_graph.service_guard import check_query

from .conftest import DATA
from .helpers import rows

EMPTY_RESULTS = (
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"remote"}}]}}'
)


class Listener:
    """An HTTP server on loopback that answers every request with one solution and counts."""

    def __init__(self) -> None:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._answer()

            def _answer(self) -> None:
                listener.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(EMPTY_RESULTS)))
                self.end_headers()
                self.wfile.write(EMPTY_RESULTS)

            def log_message(self, *args: object) -> None:
                pass

        self.hits = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# Queries with an endpoint placeholder {url} (or its halves {base} and {local}).
CALLS = {
    "plain": "SELECT * WHERE { SERVICE <{url}> { ?x ?p ?o } }",
    "lower case": "select * where { service <{url}> { ?x ?p ?o } }",
    "SILENT": "SELECT * WHERE { SERVICE SILENT <{url}> { ?x ?p ?o } }",
    "prefixed": "PREFIX e: <{base}> SELECT * WHERE { SERVICE e:{local} { ?x ?p ?o } }",
    "BASE-relative": "BASE <{base}> SELECT * WHERE { SERVICE <{local}> { ?x ?p ?o } }",
    "no spaces": "SELECT*WHERE{SERVICE<{url}>{?x ?p ?o}}",
    "after a comment": "SELECT * WHERE { # a comment }\n SERVICE <{url}> { ?x ?p ?o } }",
    "after a string with quotes": (
        'SELECT * WHERE { BIND("a \\" } SERVICE" AS ?y) SERVICE <{url}> { ?x ?p ?o } }'
    ),
    "after a long string": (
        "SELECT * WHERE { BIND('''x ' '' y''' AS ?y) SERVICE <{url}> { ?x ?p ?o } }"
    ),
    "escaped IRI": "SELECT * WHERE { SERVICE <{escaped}> { ?x ?p ?o } }",
    "in OPTIONAL and a sub-select": (
        "SELECT * WHERE { OPTIONAL { SELECT ?x WHERE { SERVICE <{url}> { ?x ?p ?o } } } }"
    ),
}
NOT_CALLS = {
    "in a comment": "SELECT * WHERE { ?x ?p ?o # SERVICE <{url}> { }\n }",
    "in a string": 'SELECT * WHERE { BIND("SERVICE <{url}> {}" AS ?x) }',
    "in a long string": "SELECT * WHERE { BIND('''\nSERVICE <{url}> {}\n''' AS ?x) }",
    "as a variable": "SELECT ?service WHERE { BIND(<{url}> AS ?service) }",
    "as a prefixed name": "PREFIX service: <{base}> SELECT * WHERE { ?x service:p service:q }",
    "as a language tag": 'SELECT * WHERE { BIND("x"@service AS ?y) }',
}


def fill(template: str, url: str) -> str:
    base, local = url.rsplit("/", 1)
    escaped = url.replace("s", "\\u0073")
    return (
        template.replace("{url}", url)
        .replace("{base}", base + "/")
        .replace("{local}", local)
        .replace("{escaped}", escaped)
    )


def oxigraph_calls(query: str, listener: Listener) -> int:
    """How many HTTP requests pyoxigraph sends while evaluating ``query`` (no guard)."""
    before = listener.hits
    result = ox.Store().query(query)
    if isinstance(result, ox.QuerySolutions):
        list(result)
    return listener.hits - before


@pytest.mark.parametrize("case", list(CALLS))
def test_every_real_service_call_is_refused(case: str, listener: Listener) -> None:
    query = fill(CALLS[case], listener.url)
    assert oxigraph_calls(query, listener) > 0  # pyoxigraph really would call out
    with pytest.raises(QueryError) as refused:
        check_query(query)
    assert listener.url in str(refused.value)


@pytest.mark.parametrize("case", list(CALLS))
def test_an_allowed_endpoint_passes(case: str, listener: Listener) -> None:
    query = fill(CALLS[case], listener.url)
    assert check_query(query, allow=[listener.url]).services == [listener.url]


@pytest.mark.parametrize("case", list(NOT_CALLS))
def test_service_that_is_not_a_call_passes(case: str, listener: Listener) -> None:
    query = fill(NOT_CALLS[case], listener.url)
    assert oxigraph_calls(query, listener) == 0
    assert check_query(query).services == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { BIND(<http://127.0.0.1:9/> AS ?e) SERVICE ?e { ?x ?p ?o } }",
        "SELECT * WHERE { SERVICE undeclared:x { ?x ?p ?o } }",
    ],
)
def test_variable_or_unreadable_endpoints_are_refused(query: str) -> None:
    with pytest.raises(QueryError, match="variable or unreadable"):
        check_query(query, allow=["http://127.0.0.1:9/"])


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "PREFIX e: <http://e/> DELETE WHERE { ?s e:p ?o }",
        "# a comment\nLOAD <http://127.0.0.1:9/data.ttl>",
        "clear all",
        "DROP GRAPH <http://e/g>",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "BASE <http://e/> CREATE GRAPH <g>",
    ],
)
def test_updates_are_refused(update: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        check_query(update)


@pytest.fixture(scope="module")
def federated_app(listener: Listener) -> Flask:
    return create_app({"TESTING": True, "DATA_FILES": [str(DATA)], "ALLOW_SERVICE": [listener.url]})


def test_endpoint_runs_an_allowed_service_and_refuses_others(
    federated_app: Flask, listener: Listener
) -> None:
    client = federated_app.test_client()
    allowed = f"SELECT ?x WHERE {{ SERVICE <{listener.url}> {{ ?x ?p ?o }} }}"
    before = listener.hits
    response = client.get("/sparql", query_string={"query": allowed})
    assert response.status_code == 200
    assert rows(response.data, response.content_type) == [{"x": "remote"}]
    assert listener.hits == before + 1
    other = allowed.replace("/sparql", "/other")
    refused = client.get("/sparql", query_string={"query": other})
    assert refused.status_code == 400
    assert listener.hits == before + 1


def test_allow_service_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, listener: Listener
) -> None:
    monkeypatch.setenv("PALMYRA_ALLOW_SERVICE", f"{listener.url} http://127.0.0.1:9/x")
    app = create_app({"TESTING": True, "DATA_FILES": [str(DATA)]})
    assert app.config["ALLOW_SERVICE"] == [listener.url, "http://127.0.0.1:9/x"]
