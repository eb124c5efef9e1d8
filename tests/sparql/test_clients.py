"""What a new user's SPARQL clients (requests, curl, SPARQLWrapper, rdflib) meet through
``palmyra-graph serve``, gate included: the cases issue 14 found misbehaving.

- a GET whose URL is over the gate's 64 KiB request line: 414, saying to POST, with CORS;
- ``Access-Control-Allow-Origin`` on every response of every route, errors included;
- ``OPTIONS``: ``Allow`` lists only what the route serves, the preflight is an empty body
  with no content type (no page CSP);
- a machine's GET on ``/sparql`` gets the service description, a browser's Accept the query
  page (a 303 to ``/query``; the browser itself is in ``tests/web/test_browser.py``);
- ``Accept: application/json`` on CONSTRUCT, DESCRIBE and entity IRIs: JSON-LD;
- the N-Quads and TriG dumps say, on ``/dumps/`` and in VoID, that every triple is in a
  named graph, which is true.
"""

from __future__ import annotations

import shutil
import subprocess

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.namespace import RDFS, VOID
from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import URITooLong

from palmyra_graph.testing import LiveServer, parse_html

from .helpers import graph, media_type, same_graph

pytestmark = pytest.mark.live

OFFENSIVE = "https://w3id.org/palmyra/id/palmyra-offensive-2017"
CONSTRUCT = f"CONSTRUCT {{ <{OFFENSIVE}> ?p ?o }} WHERE {{ <{OFFENSIVE}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{OFFENSIVE}>"
#: A query whose GET URL is over the gate's 64 KiB request line.
LONG_QUERY = "ASK { ?s ?p ?o } #" + "x" * 70_000
#: What Chromium and Firefox send when a person opens a URL.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CURL = shutil.which("curl")


def curl(*args: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body of one curl request."""
    if CURL is None:
        pytest.skip("curl is not installed")
    done = subprocess.run(
        [CURL, "-s", "-D", "-", *args], capture_output=True, check=True, timeout=60
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_get_over_64_kib_is_414_saying_to_post_with_cors(fixture_server: LiveServer) -> None:
    response = requests.get(
        fixture_server.url + "/sparql", params={"query": LONG_QUERY}, timeout=30
    )
    assert response.status_code == 414
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.text
    status, headers, body = curl(
        "-G", "--data-urlencode", f"query={LONG_QUERY}", fixture_server.url + "/sparql"
    )
    assert (status, headers["access-control-allow-origin"]) == (414, "*")
    assert b"POST" in body


def test_sparqlwrapper_gets_the_414_message_and_posting_works(fixture_server: LiveServer) -> None:
    client = SPARQLWrapper(fixture_server.url + "/sparql")
    client.setQuery(LONG_QUERY)
    client.setReturnFormat(JSON)
    client.setMethod("GET")
    with pytest.raises(URITooLong, match="send a long query with POST"):
        client.query()
    client.setMethod("POST")
    answer = client.queryAndConvert()
    assert isinstance(answer, dict) and answer["boolean"] is True


# (method, path, Accept, expected status): one of every kind of answer of every route.
EVERY_ROUTE = [
    ("GET", "/", None, 200),
    ("GET", "/query", None, 200),
    ("GET", "/static/site.css", None, 200),
    ("GET", "/sparql", None, 200),
    ("GET", "/sparql", BROWSER_ACCEPT, 303),
    ("GET", "/sparql?query=ASK%7B%7D", None, 200),
    ("GET", "/sparql?query=ASK%7B", None, 400),
    ("GET", "/sparql?query=ASK%7B%7D", "text/turtle", 406),
    ("GET", "/sparql?update=CLEAR%20ALL", None, 403),
    ("POST", "/sparql", None, 415),
    ("PUT", "/sparql", None, 405),
    ("HEAD", "/sparql?query=ASK%7B%7D", None, 200),
    ("GET", "/id/palmyra-offensive-2017", "text/turtle", 200),
    ("GET", "/id/palmyra-offensive-2017", "image/png", 406),
    ("GET", "/id/no-such-thing", "text/turtle", 404),
    ("GET", "/id/no-such-thing", "text/html", 404),
    ("GET", "/dumps/", None, 200),
    ("GET", "/dumps/palmyra.nq", None, 200),
    ("GET", "/dumps/no-such-dump.nq", None, 404),
    ("GET", "/dumps", None, 308),
    ("GET", "/.well-known/void", None, 200),
    ("GET", "/.well-known/void", "image/png", 406),
    ("GET", "/context.jsonld", None, 200),
    ("GET", "/no/such/path", None, 404),
    ("OPTIONS", "/sparql", None, 200),
    ("OPTIONS", "/id/palmyra-offensive-2017", None, 200),
]


@pytest.mark.parametrize(("method", "path", "accept", "status"), EVERY_ROUTE)
def test_every_response_of_every_route_carries_cors(
    fixture_server: LiveServer, method: str, path: str, accept: str | None, status: int
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = requests.request(
        method, fixture_server.url + path, headers=headers, allow_redirects=False, timeout=30
    )
    assert response.status_code == status, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# (path, what the route serves)
ALLOWED = [
    ("/sparql", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("/id/palmyra-offensive-2017", {"GET", "HEAD", "OPTIONS"}),
    ("/dumps/palmyra.ttl", {"GET", "HEAD", "OPTIONS"}),
]


@pytest.mark.parametrize(("path", "served"), ALLOWED)
def test_options_allows_only_what_is_served_and_is_an_empty_preflight(
    fixture_server: LiveServer, path: str, served: set[str]
) -> None:
    preflight = requests.options(
        fixture_server.url + path,
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 200
    assert _methods(preflight.headers["Allow"]) == served
    assert _methods(preflight.headers["Access-Control-Allow-Methods"]) == served
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert preflight.content == b""
    assert "Content-Type" not in preflight.headers
    assert "Content-Security-Policy" not in preflight.headers
    for method in {"PUT", "DELETE", "PATCH"} - served:
        refused = requests.request(method, fixture_server.url + path, timeout=30)
        assert refused.status_code == 405, method
        assert _methods(refused.headers["Allow"]) == served
        assert media_type(refused.headers["Content-Type"]) == "text/plain"


def _methods(header: str) -> set[str]:
    return {m.strip() for m in header.split(",")}


def test_a_browser_accept_on_sparql_is_sent_to_the_query_page(fixture_server: LiveServer) -> None:
    response = requests.get(
        fixture_server.url + "/sparql", headers={"Accept": BROWSER_ACCEPT}, timeout=30
    )
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [303]
    assert response.history[0].headers["Location"] == "/query"
    assert response.url == fixture_server.url + "/query"
    assert parse_html(response.content).by_id("query-form").tag == "form"


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "application/ld+json"])
def test_a_machine_on_sparql_gets_the_service_description(
    fixture_server: LiveServer, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = requests.get(
        fixture_server.url + "/sparql", headers=headers, allow_redirects=False, timeout=30
    )
    assert response.status_code == 200
    described = graph(response.content, response.headers["Content-Type"])
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef(fixture_server.url + "/sparql")) in described


def test_rdflib_reads_the_service_description_as_curl_asks_for_it(
    fixture_server: LiveServer,
) -> None:
    status, headers, body = curl(fixture_server.url + "/sparql")  # Accept: */*
    assert status == 200
    assert media_type(headers["content-type"]) == "text/turtle"
    assert len(rdflib.Graph().parse(data=body, format="turtle")) > 0


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_accept_application_json_on_a_graph_query_gets_json_ld(
    fixture_server: LiveServer, query: str
) -> None:
    url = fixture_server.url + "/sparql"
    as_json = requests.get(
        url, params={"query": query}, headers={"Accept": "application/json"}, timeout=30
    )
    assert as_json.status_code == 200, as_json.text
    assert media_type(as_json.headers["Content-Type"]) == "application/ld+json"
    as_turtle = requests.get(
        url, params={"query": query}, headers={"Accept": "text/turtle"}, timeout=30
    )
    expected = graph(as_turtle.content, as_turtle.headers["Content-Type"])
    assert len(expected) > 0
    assert same_graph(graph(as_json.content, as_json.headers["Content-Type"]), expected)


def test_accept_application_json_on_an_entity_iri_gets_json_ld(fixture_server: LiveServer) -> None:
    url = fixture_server.url + "/id/palmyra-offensive-2017"
    status, headers, body = curl("-H", "Accept: application/json", url)
    assert status == 200
    assert media_type(headers["content-type"]) == "application/ld+json"
    as_turtle = requests.get(url, headers={"Accept": "text/turtle"}, timeout=30)
    expected = graph(as_turtle.content, as_turtle.headers["Content-Type"])
    assert same_graph(graph(body, headers["content-type"]), expected)


def test_accept_application_json_on_a_select_still_gets_sparql_json(
    fixture_server: LiveServer,
) -> None:
    response = requests.get(
        fixture_server.url + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert media_type(response.headers["Content-Type"]) == "application/sparql-results+json"
    assert len(response.json()["results"]["bindings"]) == 1


QUAD_DUMPS = {"palmyra.nq": ox.RdfFormat.N_QUADS, "palmyra.trig": ox.RdfFormat.TRIG}


def test_the_quad_dumps_are_said_to_hold_only_named_graphs_which_is_true(
    fixture_server: LiveServer,
) -> None:
    page = parse_html(requests.get(fixture_server.url + "/dumps/", timeout=30).content)
    assert "every triple in a named graph" in page.by_id("named-graphs-note").text
    said = {row.find("a").text: row.find_all("td")[2].text for row in page.find("tbody").children}
    only_named = {name for name, graphs in said.items() if graphs.startswith("named graphs only")}
    assert only_named == set(QUAD_DUMPS)
    void = rdflib.Graph().parse(
        data=requests.get(fixture_server.url + "/.well-known/void", timeout=30).content,
        format="turtle",
    )
    for name, fmt in QUAD_DUMPS.items():
        dump = rdflib.URIRef(f"{fixture_server.url}/dumps/{name}")
        assert (None, VOID.dataDump, dump) in void
        assert "named graph" in str(void.value(dump, RDFS.comment))
        store = ox.Store()
        store.load(requests.get(str(dump), timeout=30).content, format=fmt)
        assert not store.query("ASK { ?s ?p ?o }")  # nothing in the default graph
        assert store.query("ASK { ?s ?p ?o }", use_default_graph_as_union=True)
