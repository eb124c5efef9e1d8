"""Nothing a request sends reaches beyond the graph: no network, no file, no path outside."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from palmyra_graph.testing import CountingListener


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    listening = CountingListener(path="")
    yield listening
    listening.close()


QUERIES = [
    "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
    "DESCRIBE <{url}>",
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "LOAD <{url}>",
    "SELECT * FROM <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
    "SELECT ?x WHERE {{ BIND(IRI('file:///etc/passwd') AS ?x) }}",
]


@pytest.mark.parametrize("template", QUERIES)
def test_no_query_makes_the_server_connect_or_read_a_file(
    client: FlaskClient, listener: CountingListener, template: str
) -> None:
    query = template.format(url=listener.url)
    for response in (
        client.get("/sparql", query_string={"query": query}),
        client.post("/sparql", data={"query": query}),
        client.post("/sparql", data={"update": query}),
    ):
        assert response.status_code in (200, 400, 403)
        assert b"root:x:0:0" not in response.data
    assert listener.connections == 0


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/../../../../etc/passwd",
        "/dumps/%2e%2e/%2e%2e/etc/passwd",
        "/dumps/..%2f..%2fetc%2fpasswd",
        "/id/..%2f..%2f..%2fetc%2fpasswd",
        "/source/..%2fpyproject.toml",
        "/static/../../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/context.jsonld/../pyproject.toml",
    ],
)
def test_no_path_leaves_the_served_files(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (301, 308, 404)
    assert b"root:x:0:0" not in response.data
    assert b"[build-system]" not in response.data
