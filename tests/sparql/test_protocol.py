"""The SPARQL 1.1 Protocol through Flask's test client: methods, negotiation, dataset, errors.

Expected answers come from rdflib's own SPARQL engine over the same fixture files, so the
endpoint (Oxigraph) is checked against an independent implementation, and every response is
parsed (bindings, booleans, graphs) before it is compared.
"""

from __future__ import annotations

from typing import Any

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.web.context import engine_of

from .conftest import DATA, MAX_BODY, VOCABULARY
from .helpers import (
    boolean,
    graph,
    media_type,
    reference_graph,
    rows,
    same_graph,
    sorted_rows,
    value_rows,
)

PREFIXES = """PREFIX pal: <https://w3id.org/palmyra/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
SELECT = PREFIXES + "SELECT ?claim ?source WHERE { ?claim prov:wasDerivedFrom ?source }"
ASK = PREFIXES + "ASK { ?s pal:startDate ?d }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?s pal:startDate ?d } WHERE { ?s pal:startDate ?d }"

JSON = "application/sparql-results+json"
XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
NT = "application/n-triples"
JSONLD = "application/ld+json"
RDFXML = "application/rdf+xml"

REFERENCE = reference_graph(DATA, VOCABULARY)


def expected_rows(query: str) -> list[tuple[tuple[str, str], ...]]:
    return sorted_rows(value_rows(REFERENCE.query(query)))


def send(client: FlaskClient, how: str, query: str, **kwargs: Any) -> Any:
    """Send ``query`` the way the protocol allows: GET, form POST or direct POST."""
    if how == "get":
        return client.get("/sparql", query_string={"query": query}, **kwargs)
    if how == "form":
        return client.post("/sparql", data={"query": query}, **kwargs)
    return client.post(
        "/sparql", data=query.encode(), content_type="application/sparql-query", **kwargs
    )


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_select_by_every_method_matches_rdflib(sparql_client: FlaskClient, how: str) -> None:
    response = send(sparql_client, how, SELECT)
    assert response.status_code == 200
    assert sorted_rows(rows(response.data, response.content_type)) == expected_rows(SELECT)


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_ask_and_construct_by_every_method(sparql_client: FlaskClient, how: str) -> None:
    ask = send(sparql_client, how, ASK)
    assert boolean(ask.data, ask.content_type) is REFERENCE.query(ASK).askAnswer
    built = send(sparql_client, how, CONSTRUCT)
    expected = REFERENCE.query(CONSTRUCT).graph
    assert expected is not None and len(expected) == 1
    assert same_graph(graph(built.data, built.content_type), expected)


# (query, Accept header, expected media type or 406)
NEGOTIATION = [
    (SELECT, None, JSON),
    (SELECT, "*/*", JSON),
    (SELECT, XML, XML),
    (SELECT, CSV, CSV),
    (SELECT, TSV, TSV),
    (SELECT, "application/json", JSON),
    (SELECT, f"{JSON};q=0.5, {XML};q=0.9", XML),
    (SELECT, f"{XML};q=0, */*", JSON),
    (SELECT, "text/*", CSV),
    (SELECT, "text/html, */*;q=0.1", JSON),
    (SELECT, f"text/html, {TSV};q=0.8, {CSV};q=0.7", TSV),
    (SELECT, TURTLE, 406),
    (SELECT, f"{JSON};q=0", 406),
    (ASK, None, JSON),
    (ASK, XML, XML),
    (ASK, CSV, 406),
    (CONSTRUCT, None, TURTLE),
    (CONSTRUCT, "*/*", TURTLE),
    (CONSTRUCT, NT, NT),
    (CONSTRUCT, "text/plain", NT),
    (CONSTRUCT, JSONLD, JSONLD),
    (CONSTRUCT, RDFXML, RDFXML),
    (CONSTRUCT, f"*/*;q=0.1, {RDFXML};q=0.2", RDFXML),
    (CONSTRUCT, "application/*", NT),
    (CONSTRUCT, JSON, 406),
    # generic types name the format of the answer's kind (issue 14: application/json was 406)
    (CONSTRUCT, "application/json", JSONLD),
    (CONSTRUCT, "application/xml", RDFXML),
    (CONSTRUCT, f"application/json, {JSONLD};q=0.5, {TURTLE};q=0.8", TURTLE),
    (SELECT, "application/xml", XML),
    (SELECT, "text/plain", 406),
]


@pytest.mark.parametrize(("query", "accept", "expected"), NEGOTIATION)
def test_accept_negotiation(
    sparql_client: FlaskClient, query: str, accept: str | None, expected: str | int
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = send(sparql_client, "get", query, headers=headers)
    if expected == 406:
        assert response.status_code == 406
        assert response.mimetype == "text/plain"
        assert "offered" in response.get_data(as_text=True)
        return
    assert response.status_code == 200
    assert media_type(response.content_type) == expected
    assert "charset=utf-8" in response.content_type
    assert response.headers["Vary"] == "Accept"
    _assert_parses(query, response)


def _assert_parses(query: str, response: Any) -> None:
    if query is SELECT:
        assert sorted_rows(rows(response.data, response.content_type)) == expected_rows(SELECT)
    elif query is ASK:
        assert boolean(response.data, response.content_type) is True
    else:
        expected = REFERENCE.query(CONSTRUCT).graph
        assert expected is not None
        assert same_graph(graph(response.data, response.content_type), expected)


# (query, format parameter, Accept, expected media type or 406)
FORMAT_PARAMETER = [
    (SELECT, "csv", JSON, CSV),
    (SELECT, "tsv", None, TSV),
    (SELECT, "xml", None, XML),
    (SELECT, "json", XML, JSON),
    (ASK, "xml", None, XML),
    (CONSTRUCT, "xml", None, RDFXML),
    (CONSTRUCT, "nt", TURTLE, NT),
    (CONSTRUCT, "jsonld", None, JSONLD),
    (CONSTRUCT, "turtle", None, TURTLE),
    (SELECT, "turtle", None, 406),
    (ASK, "csv", None, 406),
    (SELECT, "bogus", None, 406),
]


@pytest.mark.parametrize(("query", "name", "accept", "expected"), FORMAT_PARAMETER)
def test_format_parameter_overrides_accept(
    sparql_client: FlaskClient, query: str, name: str, accept: str | None, expected: str | int
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = sparql_client.get(
        "/sparql", query_string={"query": query, "format": name}, headers=headers
    )
    if expected == 406:
        assert response.status_code == 406
        return
    assert response.status_code == 200
    assert media_type(response.content_type) == expected
    _assert_parses(query, response)


def test_default_graph_is_the_union_and_the_service_says_so(sparql_client: FlaskClient) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    response = send(sparql_client, "get", query)
    assert int(rows(response.data, response.content_type)[0]["n"]) == len(REFERENCE)


def test_default_graph_uri_restricts_the_default_graph(
    sparql_app: Flask, sparql_client: FlaskClient
) -> None:
    vocabulary = next(g for g in engine_of(sparql_app).graph_names() if "vocabulary" in g)
    query = "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"
    response = sparql_client.get(
        "/sparql", query_string={"query": query, "default-graph-uri": vocabulary}
    )
    subjects = {row["s"] for row in rows(response.data, response.content_type)}
    assert subjects == {str(s) for s in rdflib.Graph().parse(VOCABULARY).subjects()}


def test_named_graph_uri_limits_graph_and_empties_the_default(
    sparql_app: Flask, sparql_client: FlaskClient
) -> None:
    names = engine_of(sparql_app).graph_names()
    vocabulary = next(g for g in names if "vocabulary" in g)
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = sparql_client.post("/sparql", data={"query": query, "named-graph-uri": vocabulary})
    assert [row["g"] for row in rows(response.data, response.content_type)] == [vocabulary]
    ask = sparql_client.post(
        "/sparql", data={"query": "ASK { ?s ?p ?o }", "named-graph-uri": vocabulary}
    )
    assert boolean(ask.data, ask.content_type) is False


def test_from_clause_is_honoured_without_protocol_dataset(
    sparql_app: Flask, sparql_client: FlaskClient
) -> None:
    vocabulary = next(g for g in engine_of(sparql_app).graph_names() if "vocabulary" in g)
    query = f"SELECT (COUNT(*) AS ?n) FROM <{vocabulary}> WHERE {{ ?s ?p ?o }}"
    response = send(sparql_client, "get", query)
    expected = len(rdflib.Graph().parse(VOCABULARY))
    assert int(rows(response.data, response.content_type)[0]["n"]) == expected


def test_describe_returns_claims_with_their_sources(sparql_client: FlaskClient) -> None:
    response = send(
        sparql_client, "get", "DESCRIBE <https://w3id.org/palmyra/id/palmyra-offensive-2017>"
    )
    described = graph(response.data, response.content_type)
    start_claim = rdflib.URIRef(
        "https://w3id.org/palmyra/claim/palmyra-offensive-2017_startDate_2017-01-13"
    )
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert set(described.objects(start_claim, prov.wasDerivedFrom)) == set(
        REFERENCE.objects(start_claim, prov.wasDerivedFrom)
    )
    source = rdflib.URIRef("https://w3id.org/palmyra/source/26")
    pal = rdflib.Namespace("https://w3id.org/palmyra/ontology#")
    assert (source, pal.referenceNumber, rdflib.Literal(26)) in described


def test_describe_with_a_variable_describes_each_match(sparql_client: FlaskClient) -> None:
    query = PREFIXES + "DESCRIBE ?place WHERE { ?place a pal:Place }"
    described = graph(*_body(send(sparql_client, "form", query, headers={"Accept": NT})))
    palmyra = rdflib.URIRef("https://w3id.org/palmyra/id/palmyra")
    claim = rdflib.URIRef("https://w3id.org/palmyra/claim/palmyra-offensive-2017_location_palmyra")
    assert (palmyra, rdflib.RDFS.label, rdflib.Literal("Palmyra", lang="en")) in described
    assert (claim, rdflib.RDF.object, palmyra) in described


def _body(response: Any) -> tuple[bytes, str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data, response.content_type


# Every way a request can be wrong, and the status it gets.
ERRORS = [
    ("syntax error", dict(method="GET", query_string={"query": "SELECT * WHERE {"}), 400),
    ("two queries", dict(method="GET", query_string=[("query", "ASK {}")] * 2), 400),
    (
        "query in URL and body",
        dict(method="POST", query_string={"query": "ASK {}"}, data={"query": "ASK {}"}),
        400,
    ),
    ("POST without query", dict(method="POST", data={"default-graph-uri": "http://g"}), 400),
    ("GET with dataset, no query", dict(method="GET", query_string={"named-graph-uri": "x"}), 400),
    (
        "invalid graph IRI",
        dict(method="GET", query_string={"query": "ASK {}", "default-graph-uri": "a b"}),
        400,
    ),
    ("text/plain body", dict(method="POST", data="ASK {}", content_type="text/plain"), 415),
    ("no content type", dict(method="POST", data=b"ASK {}"), 415),
    (
        "UTF-16 query",
        dict(
            method="POST",
            data="ASK {}".encode("utf-16"),
            content_type="application/sparql-query; charset=UTF-16",
        ),
        415,
    ),
    (
        "not UTF-8",
        dict(method="POST", data=b"ASK { \xff }", content_type="application/sparql-query"),
        400,
    ),
    ("update field", dict(method="POST", data={"update": "CLEAR ALL"}), 403),
    ("update by GET", dict(method="GET", query_string={"update": "CLEAR ALL"}), 403),
    (
        "sparql-update body",
        dict(method="POST", data="CLEAR ALL", content_type="application/sparql-update"),
        403,
    ),
    ("update as query", dict(method="GET", query_string={"query": "DROP ALL"}), 403),
    (
        "update as direct query",
        dict(
            method="POST",
            data="PREFIX : <http://e/> INSERT DATA { :a :b :c }",
            content_type="application/sparql-query",
        ),
        403,
    ),
    ("LOAD as query", dict(method="POST", data={"query": "LOAD <http://example.org/x>"}), 403),
    (
        "too large",
        dict(
            method="POST",
            data=("ASK {}" + " " * MAX_BODY).encode(),
            content_type="application/sparql-query",
        ),
        413,
    ),
    ("PUT", dict(method="PUT", data={"query": "ASK {}"}), 405),
    (
        "SERVICE not allowed",
        dict(method="GET", query_string={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> {} }"}),
        400,
    ),
]


@pytest.mark.parametrize(("case", "request_args", "status"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_plain_text_with_cors(
    sparql_app: Flask,
    sparql_client: FlaskClient,
    case: str,
    request_args: dict[str, Any],
    status: int,
) -> None:
    before = engine_of(sparql_app).counts()
    response = sparql_client.open("/sparql", **request_args)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).strip()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert len(engine_of(sparql_app).store) == before["triples"]


def test_syntax_error_gives_the_parser_message_and_position(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p"})
    message = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "2:" in message  # line 2 of the query, where it breaks off
    assert "syntax error" in message


def test_refused_service_names_the_endpoint(sparql_client: FlaskClient) -> None:
    query = "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SERVICE SILENT ex:sparql { ?s ?p ?o } }"
    response = sparql_client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert "http://127.0.0.1:9/sparql" in response.get_data(as_text=True)


def test_preflight_allows_cross_origin_posts(sparql_client: FlaskClient) -> None:
    response = sparql_client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_head_has_the_headers_of_get_and_no_body(sparql_client: FlaskClient) -> None:
    get = sparql_client.get("/sparql", query_string={"query": SELECT})
    head = sparql_client.head("/sparql", query_string={"query": SELECT})
    assert head.status_code == 200
    assert head.data == b""
    assert head.content_type == get.content_type
    assert head.headers["Content-Length"] == str(len(get.data))
    assert head.headers["Access-Control-Allow-Origin"] == "*"
