"""The W3C SPARQL 1.1 Protocol and Service Description test suites, read from their manifests.

``../shared/w3c/sparql11-protocol/manifest.ttl`` (w3c/rdf-tests) describes each test as HTTP
requests with expected statuses and result formats. Every entry is one test here. The update
tests expect an update to succeed; this is a read-only service, so for them the first request
(the update) must be refused with 403 instead, and the queries that would check the update's
effect are not sent (listed in ``ADAPTED`` with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from rdflib.collection import Collection

from palmyra_graph.web import create_app

from .helpers import boolean, graph, media_type, rows

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")

PROTOCOL = "w3c/sparql11-protocol"
#: Test names, read when the manifest is there (the tests themselves use ``shared_dir``).
_MANIFEST = Path(__file__).resolve().parents[3] / "shared" / PROTOCOL / "manifest.ttl"

READ_ONLY = "read-only service: the update must be refused with 403, its effect is not checked"
ADAPTED = {
    name: READ_ONLY
    for name in (
        "update_dataset_default_graph",
        "update_dataset_default_graphs",
        "update_dataset_named_graphs",
        "update_dataset_full",
        "update_post_form",
        "update_post_direct",
        "update_base_uri",
    )
}


def _names() -> list[str]:
    if not _MANIFEST.is_file():
        return ["manifest-absent"]
    manifest = rdflib.Graph().parse(_MANIFEST)
    entries = next(manifest.objects(None, MF.entries))
    return [str(entry).rsplit("#", 1)[1] for entry in Collection(manifest, entries)]


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]
    expected_format: str | None
    expected_boolean: bool | None


@pytest.fixture(scope="module")
def manifest(shared_dir: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(shared_dir / PROTOCOL / "manifest.ttl")


@pytest.fixture(scope="module")
def w3c_app(
    shared_dir: Path, manifest: rdflib.Graph, tmp_path_factory: pytest.TempPathFactory
) -> Flask:
    """An app over data1–data3, each in the named graph its manifest label gives."""
    store = ox.Store()
    for data in set(manifest.objects(predicate=UT.graphData)):
        source = manifest.value(data, UT.graph)
        name = manifest.value(data, rdflib.RDFS.label)
        path = shared_dir / PROTOCOL / str(source).rsplit("/", 1)[1]
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(name)))
    nquads = tmp_path_factory.mktemp("w3c") / "dataset.nq"
    store.dump(str(nquads), format=ox.RdfFormat.N_QUADS)
    return create_app({"TESTING": True, "DATA_FILES": [str(nquads)]})


def requests_of(manifest: rdflib.Graph, name: str) -> list[HttpRequest]:
    """The HTTP requests of the manifest entry ``name``, in order."""
    base = str(next(manifest.subjects(MF.entries, None))).split("#")[0]
    action = manifest.value(rdflib.URIRef(f"{base}#{name}"), MF.action)
    requests = manifest.value(action, HT.requests)
    return [_request(manifest, node) for node in Collection(manifest, requests)]


def _request(manifest: rdflib.Graph, node: Any) -> HttpRequest:
    headers = {}
    header_list = manifest.value(node, HT.headers)
    if header_list is not None:
        for header in Collection(manifest, header_list):
            headers[str(manifest.value(header, HT.fieldName))] = str(
                manifest.value(header, HT.fieldValue)
            )
    body = manifest.value(node, HT.body)
    data = None
    if body is not None:
        encoding = str(manifest.value(body, CNT.characterEncoding) or "UTF-8")
        data = str(manifest.value(body, CNT.chars)).encode(encoding.lower())
    response = manifest.value(node, HT.resp)
    expected_boolean = manifest.value(response, MF.expectedBoolean)
    expected_format = manifest.value(response, MF.expectedFormat)
    return HttpRequest(
        method=str(manifest.value(node, HT.methodName)),
        path=str(manifest.value(node, HT.absolutePath)).replace("/sparql/", "/sparql", 1),
        headers=headers,
        body=data,
        statuses={str(s).rsplit("#", 1)[1] for s in manifest.objects(response, MF.expectedStatus)},
        expected_format=str(expected_format) if expected_format is not None else None,
        expected_boolean=expected_boolean.toPython() if expected_boolean is not None else None,
    )


@pytest.mark.shared
@pytest.mark.parametrize("name", _names())
def test_w3c_protocol(name: str, manifest: rdflib.Graph, w3c_app: Flask) -> None:
    client = w3c_app.test_client()
    steps = requests_of(manifest, name)
    if name in ADAPTED:
        steps = steps[:1]
    for step in steps:
        response = client.open(step.path, method=step.method, headers=step.headers, data=step.body)
        if name in ADAPTED:
            assert response.status_code == 403, response.get_data(as_text=True)
            continue
        assert f"StatusCode{str(response.status_code)[0]}xx" in step.statuses, (
            f"{response.status_code}: {response.get_data(as_text=True)}"
        )
        _check_format(step, response)


def _check_format(step: HttpRequest, response: Any) -> None:
    media = media_type(response.content_type)
    if step.expected_format == "boolean":
        assert boolean(response.data, response.content_type) is step.expected_boolean
    elif step.expected_format == "tabular":
        assert media in {
            "application/sparql-results+json",
            "application/sparql-results+xml",
            "text/csv",
            "text/tab-separated-values",
        }
        rows(response.data, response.content_type)
    elif step.expected_format == "RDF":
        assert media in {"application/rdf+xml", "text/turtle", "application/n-triples"}
        graph(response.data, response.content_type)
