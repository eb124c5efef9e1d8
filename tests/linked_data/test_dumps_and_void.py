"""Dumps equal what ``export`` writes and answer conditional GETs; VoID counts what is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
import requests
from flask import Flask
from flask.testing import FlaskClient
from rdflib.namespace import DCTERMS, OWL, RDF, VOID
from werkzeug.test import TestResponse

from palmyra_graph.graph import formats, resources
from palmyra_graph.graph.export import CONTEXT_FILE, export_files
from palmyra_graph.testing import LiveServer

FIXTURES = Path(__file__).parent.parent / "export" / "fixtures"
MINI = (FIXTURES / "mini-ontology.ttl", FIXTURES / "mini-data.ttl")
DATASET = rdflib.URIRef("https://w3id.org/palmyra/dataset")


def _get(client: FlaskClient, url: str, **headers: str) -> TestResponse:
    """GET, read and close (a dump is streamed from its file, which closing releases)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("fmt", formats.DUMP_FORMATS, ids=lambda f: f.names[0])
def test_each_dump_is_the_export_with_type_name_and_validators(
    mini: FlaskClient, fmt: formats.Format
) -> None:
    response = _get(mini, f"/dumps/palmyra{fmt.suffix}")
    assert response.status_code == 200
    assert response.data == export_files(MINI, fmt)
    assert response.mimetype == fmt.media_type
    assert response.headers["Content-Disposition"] == f'attachment; filename="palmyra{fmt.suffix}"'
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]


def test_a_conditional_get_with_the_etag_or_the_date_is_304(mini: FlaskClient) -> None:
    first = _get(mini, "/dumps/palmyra.ttl")
    by_etag = _get(mini, "/dumps/palmyra.ttl", **{"If-None-Match": first.headers["ETag"]})
    assert by_etag.status_code == 304
    assert by_etag.data == b""
    by_date = _get(
        mini, "/dumps/palmyra.ttl", **{"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert by_date.status_code == 304
    stale = _get(mini, "/dumps/palmyra.ttl", **{"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200
    assert stale.data == first.data


def test_unknown_dump_names_are_404(mini: FlaskClient) -> None:
    for name in ("palmyra.n3", "other.ttl", "..%2Fpyproject.toml"):
        assert _get(mini, f"/dumps/{name}").status_code == 404, name


def test_the_index_links_every_dump(mini: FlaskClient) -> None:
    page = mini.get("/dumps/").data.decode("utf-8")
    for fmt in formats.DUMP_FORMATS:
        assert f'href="/dumps/palmyra{fmt.suffix}"' in page


def test_the_jsonld_context_is_served_at_a_stable_url(mini: FlaskClient) -> None:
    response = mini.get("/context.jsonld")
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.data) == json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))


@pytest.mark.live
def test_the_live_servers_dumps_equal_what_export_writes(live_server: LiveServer) -> None:
    bundled = (resources.ONTOLOGY_FILE, resources.DATA_FILE)
    for fmt in (formats.TURTLE, formats.NQUADS, formats.JSONLD):
        response = requests.get(f"{live_server.url}/dumps/palmyra{fmt.suffix}", timeout=60)
        assert response.status_code == 200
        assert response.content == export_files(bundled, fmt), fmt.names[0]


def _void(client: FlaskClient) -> rdflib.Graph:
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    return rdflib.Graph().parse(data=response.data, format="turtle")


def _int(graph: rdflib.Graph, subject: rdflib.term.Node, prop: rdflib.URIRef) -> int:
    value = graph.value(subject, prop)
    assert isinstance(value, rdflib.Literal), (subject, prop)
    return int(value)


def _reference(paths: tuple[Path, ...]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


def test_void_counts_agree_with_the_files(mini: FlaskClient) -> None:
    void, data = _void(mini), _reference(MINI)
    assert _int(void, DATASET, VOID.triples) == len(data)
    assert _int(void, DATASET, VOID.distinctSubjects) == len(set(data.subjects()))
    subsets = {str(void.value(s, VOID.uriSpace)): s for s in void.objects(DATASET, VOID.subset)}
    for space in ("id/", "claim/", "source/", "figure/"):
        subset = subsets["https://w3id.org/palmyra/" + space]
        members = {
            s for s in data.subjects() if str(s).startswith(f"https://w3id.org/palmyra/{space}")
        }
        assert _int(void, subset, VOID.entities) == len(members), space
    partitions = {
        void.value(p, VOID["class"]): _int(void, p, VOID.entities)
        for p in void.objects(DATASET, VOID.classPartition)
    }
    claim_class = rdflib.URIRef("https://w3id.org/palmyra/ontology#Claim")
    assert partitions[claim_class] == len(set(data.subjects(RDF.type, claim_class)))
    properties = {
        void.value(p, VOID.property): _int(void, p, VOID.triples)
        for p in void.objects(DATASET, VOID.propertyPartition)
    }
    assert properties[RDF.subject] == len(list(data.triples((None, RDF.subject, None))))


def test_void_links_the_endpoint_dumps_licence_and_the_wikidata_linkset(
    mini: FlaskClient,
) -> None:
    void = _void(mini)
    assert void.value(DATASET, VOID.sparqlEndpoint) == rdflib.URIRef("http://localhost/sparql")
    assert void.value(DATASET, DCTERMS.license) == rdflib.URIRef(
        "https://creativecommons.org/licenses/by-sa/4.0/"
    )
    dumps = sorted(str(d) for d in void.objects(DATASET, VOID.dataDump))
    assert len(dumps) == len(formats.DUMP_FORMATS)
    for url in dumps:
        assert _get(mini, url.removeprefix("http://localhost")).status_code == 200, url
    [linkset] = void.subjects(RDF.type, VOID.Linkset)
    assert void.value(linkset, VOID.linkPredicate) == OWL.sameAs
    assert void.value(linkset, VOID.subjectsTarget) == DATASET
    links = [
        o
        for o in _reference(MINI).objects(None, OWL.sameAs)
        if str(o).startswith("http://www.wikidata.org/entity/")
    ]
    assert _int(void, linkset, VOID.triples) == len(links) == 1


def test_void_on_the_bundled_data_counts_its_claims(app: Flask, client: FlaskClient) -> None:
    void = _void(client)
    data = _reference((resources.ONTOLOGY_FILE, resources.DATA_FILE))
    claim_class = rdflib.URIRef("https://w3id.org/palmyra/ontology#Claim")
    partitions = {
        void.value(p, VOID["class"]): _int(void, p, VOID.entities)
        for p in void.objects(DATASET, VOID.classPartition)
    }
    assert partitions[claim_class] == len(set(data.subjects(RDF.type, claim_class))) > 50


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
    ],
)
def test_void_is_negotiated(mini: FlaskClient, accept: str, media_type: str) -> None:
    response = mini.get("/.well-known/void", headers={"Accept": accept})
    assert response.mimetype == media_type
    assert response.headers["Vary"] == "Accept"
