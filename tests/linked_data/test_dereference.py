"""Dereferencing: negotiation, suffixes, headers, 404s and what a representation holds."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib.namespace import PROV, RDF

from palmyra_graph.web import create_app
from palmyra_graph.web.context import engine_of

ID = rdflib.Namespace("https://w3id.org/palmyra/id/")
CLAIM = rdflib.Namespace("https://w3id.org/palmyra/claim/")
SOURCE = rdflib.Namespace("https://w3id.org/palmyra/source/")
PAL = rdflib.Namespace("https://w3id.org/palmyra/ontology#")
OFFENSIVE = "/id/palmyra-offensive-2017"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

PARSERS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


def parse(data: bytes, media_type: str) -> rdflib.Graph:
    """A response body as a graph (rdflib's JSON-LD parser warns about its own internals)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=PARSERS[media_type])
        graph = rdflib.Graph()
        for quad in dataset.quads((None, None, None, None)):
            graph.add(quad[:3])
    return graph


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        (BROWSER, "text/html"),
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("text/html;q=0.5, application/ld+json", "application/ld+json"),
        ("application/x-turtle", "text/turtle"),
    ],
)
def test_negotiation_picks_the_representation(
    mini: FlaskClient, accept: str | None, media_type: str
) -> None:
    response = mini.get(OFFENSIVE, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Vary"] == "Accept"
    suffix = {
        "text/html": ".html",
        "text/turtle": ".ttl",
        "application/ld+json": ".jsonld",
        "application/n-triples": ".nt",
        "application/rdf+xml": ".rdf",
    }[media_type]
    assert response.headers["Content-Location"] == OFFENSIVE + suffix
    links = response.headers["Link"]
    assert f'<{OFFENSIVE}>; rel="canonical"' in links
    assert media_type not in links  # the others are linked as alternates, not this one


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [
        (".ttl", "text/turtle"),
        (".jsonld", "application/ld+json"),
        (".nt", "application/n-triples"),
        (".rdf", "application/rdf+xml"),
        (".html", "text/html"),
    ],
)
def test_a_suffix_names_the_representation_whatever_the_accept_header(
    mini: FlaskClient, suffix: str, media_type: str
) -> None:
    response = mini.get(OFFENSIVE + suffix, headers={"Accept": "application/n-quads"})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Vary" not in response.headers


def test_nothing_acceptable_is_406(mini: FlaskClient) -> None:
    assert mini.get(OFFENSIVE, headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize("media_type", sorted(PARSERS))
def test_the_representation_holds_own_triples_claims_with_sources_and_labels(
    mini: FlaskClient, media_type: str
) -> None:
    response = mini.get(OFFENSIVE, headers={"Accept": media_type})
    graph = parse(response.data, media_type)
    offensive = ID["palmyra-offensive-2017"]
    assert (
        offensive,
        PAL.startDate,
        rdflib.Literal("2017-01-13", datatype=rdflib.XSD.date),
    ) in graph
    claim = CLAIM["palmyra-offensive-2017_startDate_2017-01-13"]
    assert (claim, RDF.subject, offensive) in graph
    assert set(graph.objects(claim, PROV.wasDerivedFrom)) == {SOURCE["3"], SOURCE["4"]}
    assert (ID["palmyra"], rdflib.RDFS.label, rdflib.Literal("Palmyra", lang="en")) in graph


def test_every_entity_of_the_bundled_data_dereferences_with_its_claims(
    app: Flask, client: FlaskClient
) -> None:
    engine = engine_of(app)
    rows = engine.query(
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o "
        'FILTER(STRSTARTS(STR(?s), "https://w3id.org/palmyra/id/")) }'
    ).raw
    entities = [row["s"].value for row in rows]  # type: ignore[union-attr]
    assert len(entities) > 30
    with_claims = 0
    for iri in entities:
        path = "/" + iri.removeprefix("https://w3id.org/palmyra/")
        response = client.get(path, headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, path
        graph = parse(response.data, "application/n-triples")
        assert (rdflib.URIRef(iri), None, None) in graph
        about = set(graph.subjects(RDF.subject, rdflib.URIRef(iri)))
        claims = {c for c in about if (c, RDF.type, PAL.Claim) in graph}  # not sameAs mappings
        for claim in claims:
            assert set(graph.objects(claim, PROV.wasDerivedFrom)), claim
        with_claims += bool(claims)
    assert with_claims > 10


def test_claims_sources_figures_and_the_dataset_dereference(mini: FlaskClient) -> None:
    for path in (
        "/claim/palmyra-offensive-2017_startDate_2017-01-13",
        "/source/3",
        "/source/wikipedia-article",
        "/figure/isil-killed-sohr",
        "/dataset",
    ):
        response = mini.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 200, path
        iri = rdflib.URIRef("https://w3id.org/palmyra" + path)
        assert (iri, None, None) in parse(response.data, "text/turtle"), path


def test_the_configured_base_iri_maps_onto_this_servers_paths(tmp_path: Path) -> None:
    data = tmp_path / "other.ttl"
    data.write_text(
        '<https://example.org/kg/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "X"@en .\n',
        encoding="utf-8",
    )
    app = create_app(
        {"TESTING": True, "DATA_FILES": [str(data)], "BASE_IRI": "https://example.org/kg/"}
    )
    response = app.test_client().get("/id/x", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = parse(response.data, "text/turtle")
    assert (rdflib.URIRef("https://example.org/kg/id/x"), None, None) in graph


@pytest.mark.parametrize(
    "path",
    [
        "/id/no-such-entity",
        "/id/..%2F..%2Fetc%2Fpasswd",
        "/id/../../etc/passwd",
        "/id/a%3E%20%7D%20DROP%20ALL%20%7B%20%3C",
        "/id/palmyra/extra",
        "/claim/%00",
        "/source/999",
        "/figure/.ttl",
    ],
)
def test_unknown_or_malformed_iris_are_404_for_machines_in_plain_text(
    mini: FlaskClient, path: str
) -> None:
    response = mini.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_the_404_page_for_a_browser_suggests_near_names(
    mini: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    response = mini.get("/id/palmyra-offensive", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    suggestions = html(response.data).iter("ul", "suggestions")[0].iter("a")
    assert "/id/palmyra-offensive-2017" in [a.attrs["href"] for a in suggestions]
