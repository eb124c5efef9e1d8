"""Real clients against ``palmyra-graph serve`` on a free loopback port: SPARQLWrapper, rdflib's
SPARQLStore, curl; federation between two live servers; and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from palmyra_graph.testing import LiveServer, free_port

from .conftest import DATA, VOCABULARY
from .helpers import reference_graph, rows, same_graph, sorted_rows, value_rows

pytestmark = pytest.mark.live

PREFIXES = """PREFIX pal: <https://w3id.org/palmyra/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
SELECT = PREFIXES + "SELECT ?claim ?source WHERE { ?claim prov:wasDerivedFrom ?source }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?s pal:startDate ?d } WHERE { ?s pal:startDate ?d }"
REFERENCE = reference_graph(DATA, VOCABULARY)
EXPECTED = sorted_rows(value_rows(REFERENCE.query(SELECT)))


def wrapper(server: LiveServer, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_json(fixture_server: LiveServer) -> None:
    answer = wrapper(fixture_server, SELECT, JSON).queryAndConvert()
    assert isinstance(answer, dict)
    got = [{k: v["value"] for k, v in b.items()} for b in answer["results"]["bindings"]]
    assert sorted_rows(got) == EXPECTED


def test_sparqlwrapper_select_xml(fixture_server: LiveServer) -> None:
    response = wrapper(fixture_server, SELECT, XML).query().response
    body, content_type = response.read(), response.headers["Content-Type"]
    assert sorted_rows(rows(body, content_type)) == EXPECTED


def test_sparqlwrapper_construct_turtle(fixture_server: LiveServer) -> None:
    answer = wrapper(fixture_server, CONSTRUCT, TURTLE).queryAndConvert()
    assert isinstance(answer, bytes)
    expected = REFERENCE.query(CONSTRUCT).graph
    assert expected is not None
    assert same_graph(rdflib.Graph().parse(data=answer, format="turtle"), expected)


def test_rdflib_sparqlstore(fixture_server: LiveServer) -> None:
    remote = rdflib.Graph(store=SPARQLStore(f"{fixture_server.url}/sparql", returnFormat="json"))
    got = value_rows(remote.query(SELECT))
    assert sorted_rows(got) == EXPECTED
    offensive = rdflib.URIRef("https://w3id.org/palmyra/id/palmyra-offensive-2017")
    assert remote.value(offensive, rdflib.RDFS.label) == rdflib.Literal(
        "Palmyra offensive (2017)", lang="en"
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_post_form_and_direct(fixture_server: LiveServer) -> None:
    url = f"{fixture_server.url}/sparql"
    accept = ["-H", "Accept: application/sparql-results+json"]
    form = subprocess.run(
        ["curl", "-sf", *accept, "--data-urlencode", f"query={SELECT}", url],
        capture_output=True,
        check=True,
    )
    direct = subprocess.run(
        [
            "curl",
            "-sf",
            *accept,
            "-H",
            "Content-Type: application/sparql-query",
            "--data-binary",
            SELECT,
            url,
        ],
        capture_output=True,
        check=True,
    )
    for answer in (form.stdout, direct.stdout):
        bindings = json.loads(answer)["results"]["bindings"]
        assert sorted_rows([{k: v["value"] for k, v in b.items()} for b in bindings]) == EXPECTED


def test_federated_query_between_two_live_servers(fixture_server: LiveServer) -> None:
    remote = f"{fixture_server.url}/sparql"
    front = LiveServer("--data", str(VOCABULARY), "--allow-service", remote)
    try:
        query = SELECT.replace("WHERE {", f"WHERE {{ SERVICE <{remote}> {{", 1) + " }"
        answer = wrapper(front, query, JSON).queryAndConvert()
        assert isinstance(answer, dict)
        got = [{k: v["value"] for k, v in b.items()} for b in answer["results"]["bindings"]]
        assert sorted_rows(got) == EXPECTED
    finally:
        assert front.stop() == 0


def test_sigterm_stops_cleanly_and_releases_the_port() -> None:
    server = LiveServer("--data", str(DATA))
    assert server.stop() == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", server.port))  # nothing holds the port any more


def test_serve_prints_its_url_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "palmyra_graph", "serve", "--port", str(port), "--data", str(DATA)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in first
    finally:
        process.send_signal(signal.SIGTERM)  # while it loads the graph: a clean stop too
        status = process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
    assert status == 0


def test_serve_refuses_bad_data_before_listening(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "palmyra_graph", "serve", "--data", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{bad}:1" in done.stderr
