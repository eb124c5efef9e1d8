"""Property-based tests over everything a client controls: the query string, form fields,
Accept and Content-Type headers, and URL paths. Every answer is a well-formed 2xx, 3xx or
4xx with a Content-Type, never a 500, and the graph is the same afterwards.
"""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palmyra_graph.web.context import engine_of

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID_QUERIES = [
    "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
    "ASK { ?s a ?c }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3",
    "DESCRIBE <https://w3id.org/palmyra/id/palmyra-offensive-2017>",
    "PREFIX pal: <https://w3id.org/palmyra/ontology#> SELECT ?f WHERE { ?e pal:casualties ?f }",
]
SPARQL_BITS = [
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "{",
    "}",
    "?s",
    "?p",
    "?o",
    "<",
    ">",
    '"',
    "'",
    "FILTER(",
    ")",
    "SERVICE",
    "<http://127.0.0.1:1/>",
    "INSERT DATA",
    "LOAD",
    "GRAPH",
    "OPTIONAL",
    "UNION",
    "#",
    "\n",
    ".",
    ";",
    "PREFIX x: <x:>",
    "x:y",
    "LIMIT 1",
    "\\u0000",
    "\u00e9",
    "\x00",
    "FROM <file:///etc/passwd>",
    "BIND(",
    "AS",
    "COUNT(*)",
]
MEDIA_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "text/html",
    "*/*",
    "text/*",
    "application/*",
    "image/png",
    "application/x-www-form-urlencoded",
    "application/sparql-query",
    "application/sparql-update",
    "multipart/form-data",
    "",
    ";;;",
    "text/plain; charset=latin-1",
    "a/b;q=x",
    "*/*;q=0",
]

HEADER_CHARS = "".join(c for c in string.printable if c not in "\r\n\x0b\x0c")
header_safe = st.text(alphabet=HEADER_CHARS, max_size=80)
queries = st.one_of(
    st.sampled_from(VALID_QUERIES),
    st.lists(st.sampled_from(SPARQL_BITS), max_size=12).map(" ".join),
    st.text(max_size=200),
    st.sampled_from(VALID_QUERIES).flatmap(
        lambda q: st.integers(0, len(q)).map(lambda i: q[:i])  # truncated valid queries
    ),
)
accepts = st.one_of(
    st.sampled_from(MEDIA_TYPES),
    st.lists(
        st.tuples(
            st.sampled_from(MEDIA_TYPES),
            st.floats(-1, 2) | st.text(alphabet=HEADER_CHARS, max_size=4),
        ),
        max_size=4,
    ).map(lambda items: ", ".join(f"{m};q={q}" for m, q in items)),
    st.text(alphabet=HEADER_CHARS, max_size=60),
)
path_segments = st.one_of(
    st.sampled_from(
        [
            "..",
            ".",
            "%2e%2e",
            "%2F",
            "etc",
            "passwd",
            "~",
            "index.html",
            ".ttl",
            "palmyra-offensive-2017",
            "1",
            "28",
            "29",
            "0",
            "-1",
            "x.jsonld",
            "%00",
        ]
    ),
    st.text(max_size=20).map(lambda s: quote(s, safe="")),
)
prefixes = st.sampled_from(
    [
        "/id/",
        "/claim/",
        "/source/",
        "/figure/",
        "/dumps/",
        "/static/",
        "/",
        "/sparql/",
        "/query/",
        "/.well-known/",
        "/ontology/",
        "/context.jsonld/",
    ]
)


def well_formed(response_status: int, content_type: str | None) -> None:
    assert response_status < 500, response_status
    assert response_status in range(200, 500)
    if response_status not in (204, 304):
        assert content_type, "a body without a Content-Type"


#: Where queries are answered (the query workers, through /sparql): every graph, its size,
#: and a digest of its triples.
FINGERPRINT = """
SELECT ?g (COUNT(*) AS ?n) (SHA256(GROUP_CONCAT(?t; separator="\\n")) AS ?digest) WHERE {
  { SELECT ?g ?t WHERE {
      GRAPH ?g { ?s ?p ?o }
      BIND(CONCAT(STR(?s), " ", STR(?p), " ", STR(?o), " ", DATATYPE(?o), LANG(?o)) AS ?t)
    } ORDER BY ?g ?t }
} GROUP BY ?g ORDER BY ?g
"""


def graph_fingerprint(app: Flask) -> tuple[object, int]:
    """What the endpoint's workers answer about the graph, and the size of the app's own
    store (the page views')."""
    response = app.test_client().get(
        "/sparql", query_string={"query": FINGERPRINT}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.data
    return response.json["results"]["bindings"], len(engine_of(app).store)  # type: ignore[attr-defined,index]


@pytest.fixture(scope="module", autouse=True)
def before_the_fuzzing(app: Flask) -> tuple[object, int]:
    """Measured when the module starts, before any fuzzing test runs."""
    return graph_fingerprint(app)


@FUZZ
@given(
    query=queries,
    accept=accepts,
    fmt=st.none()
    | st.sampled_from(
        ["json", "xml", "csv", "tsv", "turtle", "nt", "jsonld", "rdfxml", "html", "", "bogus"]
    ),
)
def test_get_sparql_never_fails_on_the_server(
    client: FlaskClient, query: str, accept: str, fmt: str | None
) -> None:
    params = {"query": query} | ({"format": fmt} if fmt is not None else {})
    response = client.get("/sparql", query_string=params, headers={"Accept": accept})
    well_formed(response.status_code, response.content_type)


@FUZZ
@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(
                ["query", "update", "default-graph-uri", "named-graph-uri", "format", "x", ""]
            ),
            queries,
        ),
        max_size=4,
    ),
    content_type=st.sampled_from(MEDIA_TYPES) | header_safe,
    accept=accepts,
)
def test_post_sparql_never_fails_on_the_server(
    client: FlaskClient, fields: list[tuple[str, str]], content_type: str, accept: str
) -> None:
    body = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields)
    response = client.post(
        "/sparql", data=body.encode(), headers={"Content-Type": content_type, "Accept": accept}
    )
    well_formed(response.status_code, response.content_type)


@FUZZ
@given(
    body=st.binary(max_size=300) | queries.map(str.encode),
    content_type=st.sampled_from(
        [
            "application/sparql-query",
            "application/sparql-query; charset=utf-16",
            "application/sparql-update",
            "application/x-www-form-urlencoded",
        ]
    ),
)
def test_raw_bodies_never_fail_on_the_server(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    response = client.post("/sparql", data=body, headers={"Content-Type": content_type})
    well_formed(response.status_code, response.content_type)


@FUZZ
@given(prefix=prefixes, segments=st.lists(path_segments, min_size=0, max_size=3), accept=accepts)
def test_paths_never_fail_and_never_leave_the_graph(
    client: FlaskClient, prefix: str, segments: list[str], accept: str
) -> None:
    path = prefix + "/".join(segments)
    # The path goes in as the server would pass it (PATH_INFO): the test client would read
    # one that starts with "//" as a host name ("//.." fails in its IDNA codec).
    for method in (client.get, client.head):
        response = method("/", headers={"Accept": accept}, environ_overrides={"PATH_INFO": path})
        well_formed(response.status_code, response.content_type)
        assert b"root:x:0:0" not in response.data  # /etc/passwd never leaks


def test_the_graph_is_unchanged_after_the_fuzzing(
    app: Flask, before_the_fuzzing: tuple[object, int]
) -> None:
    bindings, triples = before_the_fuzzing
    assert len(bindings) >= 2 and triples > 1000  # type: ignore[arg-type]
    assert graph_fingerprint(app) == before_the_fuzzing
