"""GET /sparql without a query: the service description, negotiated
(https://www.w3.org/TR/sparql11-service-description/), and the three tests of the W3C suite
(``../shared/w3c/sparql11-service-description/manifest.ttl``: returns-rdf,
has-endpoint-triple, conforms-to-schema).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from palmyra_graph.web.context import engine_of

from .helpers import graph, media_type

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")


def description(client: FlaskClient, accept: str | None = None) -> rdflib.Graph:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    return graph(response.data, response.content_type)


@pytest.mark.parametrize(
    "accept", [None, "text/turtle", "application/ld+json", "application/rdf+xml", "*/*"]
)
def test_returns_rdf_in_the_negotiated_format(
    sparql_client: FlaskClient, accept: str | None
) -> None:
    response = sparql_client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert media_type(response.content_type) == (
        accept if accept and "*" not in accept else "text/turtle"
    )
    assert (None, rdflib.RDF.type, SD.Service) in graph(response.data, response.content_type)


def test_has_endpoint_triple_matching_the_request_url(sparql_client: FlaskClient) -> None:
    service = description(sparql_client)
    assert set(service.objects(None, SD.endpoint)) == {rdflib.URIRef("http://localhost/sparql")}


def test_conforms_to_schema(sparql_client: FlaskClient) -> None:
    service = description(sparql_client)
    (node,) = service.subjects(rdflib.RDF.type, SD.Service)
    assert (node, SD.supportedLanguage, SD.SPARQL11Query) in service
    dataset = service.value(node, SD.defaultDataset)
    assert (dataset, rdflib.RDF.type, SD.Dataset) in service
    assert (service.value(dataset, SD.defaultGraph), rdflib.RDF.type, SD.Graph) in service
    for named in service.objects(dataset, SD.namedGraph):
        assert (named, rdflib.RDF.type, SD.NamedGraph) in service
        assert isinstance(service.value(named, SD.name), rdflib.URIRef)


def test_says_union_default_graph_and_lists_each_loaded_file(
    sparql_app: Flask, sparql_client: FlaskClient
) -> None:
    service = description(sparql_client, "application/ld+json")
    assert (None, SD.feature, SD.UnionDefaultGraph) in service
    engine = engine_of(sparql_app)
    names = {str(n) for n in service.objects(None, SD.name)}
    assert names == set(engine.graph_names())
    assert len(names) == 2
    counts = engine.counts()
    for named in service.subjects(SD.name, None):
        triples = service.value(service.value(named, SD.graph), VOID.triples)
        assert triples.toPython() == counts[str(service.value(named, SD.name))]


def test_lists_every_result_format_served(sparql_client: FlaskClient) -> None:
    formats = set(description(sparql_client).objects(None, SD.resultFormat))
    expected = {
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    }
    assert formats == {FORMATS[name] for name in expected}


def test_unacceptable_description_is_406(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 406
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.shared
def test_the_w3c_suite_has_exactly_these_tests(shared_dir: Path) -> None:
    manifest = rdflib.Graph().parse(shared_dir / "w3c/sparql11-service-description/manifest.ttl")
    names = {
        str(t).rsplit("#", 1)[1]
        for t in manifest.subjects(rdflib.RDF.type, MF.ServiceDescriptionTest)
    }
    assert names == {"returns-rdf", "has-endpoint-triple", "conforms-to-schema"}
