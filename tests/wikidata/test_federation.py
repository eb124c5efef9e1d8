"""Federated example queries (queries/federated/) against a stand-in for Wikidata's service.

The stand-in is the real Oxigraph server on loopback over fixtures/wdqs.ttl. Each query's
``SERVICE <https://query.wikidata.org/sparql>`` is pointed at it, the stand-in is put on the
allow-list, and the query runs through the app's ``/sparql`` and through ``palmyra-graph
query``; the answers are compared, as multisets of bindings, with the ``.srj`` beside them.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from palmyra_graph.cli import main
from palmyra_graph.graph.resources import QUERIES_DIR
from palmyra_graph.testing import LiveServer
from palmyra_graph.web import create_app

from .conftest import SparqlStandIn

WDQS = "https://query.wikidata.org/sparql"
QUERIES = sorted((QUERIES_DIR / "federated").glob("*.rq"))


def _bindings(answer: dict[str, Any]) -> Counter[str]:
    rows = answer["results"]["bindings"]
    return Counter(json.dumps(row, sort_keys=True) for row in rows)


def _expected(query: Path) -> dict[str, Any]:
    return json.loads(query.with_suffix(".srj").read_text(encoding="utf-8"))


def _pointed_at(query: Path, url: str) -> str:
    text = query.read_text(encoding="utf-8")
    assert f"<{WDQS}>" in text
    return text.replace(f"<{WDQS}>", f"<{url}>")


@pytest.fixture(scope="module")
def federated_app(wdqs: SparqlStandIn) -> Flask:
    return create_app({"TESTING": True, "ALLOW_SERVICE": [wdqs.url]})


def test_there_are_federated_examples_with_answers() -> None:
    assert len(QUERIES) >= 2
    assert all(q.with_suffix(".srj").is_file() for q in QUERIES)


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_example_through_the_endpoint(
    federated_app: Flask, wdqs: SparqlStandIn, query: Path
) -> None:
    response = federated_app.test_client().post(
        "/sparql",
        data={"query": _pointed_at(query, wdqs.url)},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = _expected(query)
    answer = response.get_json()
    assert answer["head"]["vars"] == expected["head"]["vars"]
    assert _bindings(answer) == _bindings(expected)


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_example_through_the_query_command(
    runner: CliRunner, wdqs: SparqlStandIn, query: Path, tmp_path: Path
) -> None:
    path = tmp_path / query.name
    path.write_text(_pointed_at(query, wdqs.url), encoding="utf-8")
    result = runner.invoke(main, ["query", "-f", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert _bindings(json.loads(result.stdout)) == _bindings(_expected(query))


def test_service_outside_the_allow_list_is_refused_with_400(federated_app: Flask) -> None:
    query = QUERIES[0].read_text(encoding="utf-8")  # names the real WDQS, not allowed here
    response = federated_app.test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert WDQS in response.get_data(as_text=True)


def test_the_default_app_refuses_every_service(client: Any, wdqs: SparqlStandIn) -> None:
    query = _pointed_at(QUERIES[0], wdqs.url)
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert wdqs.url in response.get_data(as_text=True)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_service_that_never_answers_is_stopped_by_the_query_time_limit(
    silent_endpoint: str,
) -> None:
    server = LiveServer(
        env={"PALMYRA_ALLOW_SERVICE": silent_endpoint, "PALMYRA_QUERY_TIMEOUT": "2"}
    )
    try:
        query = f"SELECT * WHERE {{ SERVICE <{silent_endpoint}> {{ ?s ?p ?o }} }}"
        started = time.monotonic()
        response = requests.get(f"{server.url}/sparql", params={"query": query}, timeout=8)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    # pyoxigraph has no time limit of its own for SERVICE; the killable query worker is it.
    assert response.status_code == 503, response.text
    assert "time budget of 2 s" in response.text
    assert elapsed < 4
