"""The Host header is the client's to choose, so nothing the server sends is built from it
(a regression: ``Host: evil.example`` came back in ``Location: http://evil.example/dumps/``, in
the service description's ``sd:endpoint`` and in VoID's links). Redirects are relative; absolute
self-links come from PUBLIC_URL, else SERVER_URL."""

from __future__ import annotations

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib.namespace import VOID
from werkzeug.test import EnvironBuilder, run_wsgi_app

from palmyra_graph.server.addresses import server_url
from palmyra_graph.web import create_app

EVIL = "evil.example"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
DATASET = rdflib.URIRef("https://w3id.org/palmyra/dataset")

#: (path, Accept): every kind of answer that could carry a self-link.
PAGES = [
    ("/dumps", None),
    ("/dumps/", None),
    ("/sparql", "text/turtle"),
    ("/sparql", "application/ld+json"),
    ("/.well-known/void", "text/turtle"),
    ("/id/palmyra-offensive-2017", "text/html"),
    ("/id/palmyra-offensive-2017", "text/turtle"),
]


@pytest.fixture(scope="module")
def published() -> Flask:
    return create_app({"TESTING": True, "PUBLIC_URL": "https://palmyra.example/graph/"})


@pytest.mark.parametrize(("path", "accept"), PAGES)
def test_a_forged_host_appears_in_no_header_and_no_body(
    client: FlaskClient, path: str, accept: str | None
) -> None:
    headers = {"Host": EVIL, **({"Accept": accept} if accept else {})}
    response = client.get(path, headers=headers)
    assert response.status_code in (200, 308), response.status
    for name, value in response.headers.items():
        assert EVIL not in value, name
    assert EVIL.encode() not in response.data


def test_the_strict_slash_redirect_is_relative(client: FlaskClient) -> None:
    response = client.get("/dumps?x=1", headers={"Host": EVIL})
    assert response.status_code == 308
    assert response.headers["Location"] == "/dumps/?x=1"
    assert client.get(response.headers["Location"]).status_code == 200


def test_self_links_use_public_url_whatever_the_host(published: Flask) -> None:
    client = published.test_client()
    sd = rdflib.Graph().parse(
        data=client.get("/sparql", headers={"Host": EVIL, "Accept": "text/turtle"}).data,
        format="turtle",
    )
    assert set(sd.objects(None, SD.endpoint)) == {
        rdflib.URIRef("https://palmyra.example/graph/sparql")
    }
    void = rdflib.Graph().parse(
        data=client.get("/.well-known/void", headers={"Host": EVIL}).data, format="turtle"
    )
    assert void.value(DATASET, VOID.sparqlEndpoint) == rdflib.URIRef(
        "https://palmyra.example/graph/sparql"
    )
    dumps = {str(d) for d in void.objects(DATASET, VOID.dataDump)}
    assert "https://palmyra.example/graph/dumps/palmyra.ttl" in dumps
    assert all(d.startswith("https://palmyra.example/graph/dumps/") for d in dumps)


def test_without_public_url_self_links_use_server_url(client: FlaskClient) -> None:
    sd = rdflib.Graph().parse(
        data=client.get("/sparql", headers={"Host": EVIL, "Accept": "text/turtle"}).data,
        format="turtle",
    )
    assert set(sd.objects(None, SD.endpoint)) == {rdflib.URIRef("http://localhost/sparql")}


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000/"),
        ("0.0.0.0", 8000, "http://localhost:8000/"),
        ("::", 80, "http://localhost:80/"),
        ("::1", 8080, "http://[::1]:8080/"),
        ("palmyra.example", 80, "http://palmyra.example:80/"),
    ],
)
def test_server_url_names_a_wildcard_bind_by_loopback(host: str, port: int, url: str) -> None:
    assert server_url(host, port) == url


def test_a_redirect_is_relative_behind_the_gate_without_a_host(app: Flask) -> None:
    # granian on a Unix socket gives SERVER_NAME = the socket's path; HTTP/1.0 needs no Host.
    environ = EnvironBuilder(path="/dumps", query_string="a=1").get_environ()
    del environ["HTTP_HOST"]
    environ.update(SERVER_NAME="/run/palmyra/granian.sock", SERVER_PORT="0")
    body, status, headers = run_wsgi_app(app, environ)
    assert status.startswith("308") and headers["Location"] == "/dumps/?a=1"
    assert b"granian.sock" not in b"".join(body)
