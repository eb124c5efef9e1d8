"""push over the Graph Store Protocol and RemoteEngine, against a real Oxigraph server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from palmyra_graph.cli import main
from palmyra_graph.errors import CountMismatch, LoadError, QueryError, RemoteError
from palmyra_graph.graph import resources
from palmyra_graph.query.engine import OxigraphEngine
from palmyra_graph.query.push import Credentials, push, staged
from palmyra_graph.query.remote import RemoteEngine
from palmyra_graph.testing import LiveServer, free_port
from palmyra_graph.web import create_app

from .conftest import Server, oxigraph
from .helpers import answer

QUERIES = sorted(resources.QUERIES_DIR.glob("*.rq"))
OFFENSIVE = "https://w3id.org/palmyra/id/palmyra-offensive-2017"


@pytest.fixture(scope="module")
def memory() -> OxigraphEngine:
    return OxigraphEngine.from_files()


@pytest.fixture
def pushed(oxigraph_server: Server) -> Server:
    with staged(resources.default_data_files()) as parts:
        push(parts, to=oxigraph_server.store)
    return oxigraph_server


def test_push_puts_each_file_in_its_graph(pushed: Server, memory: OxigraphEngine) -> None:
    remote = RemoteEngine(pushed.query)
    assert remote.graph_names() == memory.graph_names()
    assert remote.counts() == memory.counts()


def test_every_question_has_the_same_answer_remotely(
    pushed: Server, memory: OxigraphEngine
) -> None:
    remote = RemoteEngine(pushed.query)
    for query in QUERIES:
        text = query.read_text(encoding="utf-8")
        assert answer(remote.query(text)) == answer(memory.query(text)), query.name


def test_describe_and_ask_through_the_remote(pushed: Server, memory: OxigraphEngine) -> None:
    remote = RemoteEngine(pushed.query)
    described = answer(remote.describe(OFFENSIVE))
    assert described == answer(memory.describe(OFFENSIVE))
    assert described  # the offensive is described by something
    assert remote.query(f"ASK {{ <{OFFENSIVE}> ?p ?o }}").boolean is True


def test_a_pushed_graph_is_replaced_not_appended(pushed: Server, memory: OxigraphEngine) -> None:
    with staged(resources.default_data_files()) as parts:
        report = push(parts, to=pushed.store)
    assert report.found == {g: n for g, n in memory.counts().items() if g != "triples"}


def test_a_bad_file_stops_the_push_before_anything_is_sent(
    oxigraph_server: Server, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text("<http://example.org/a> <http://example.org/b> .\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad\.nt:1"), staged([resources.DATA_FILE, bad]) as parts:
        push(parts, to=oxigraph_server.store)
    assert RemoteEngine(oxigraph_server.query).counts() == {"triples": 0}


def test_the_count_check_catches_a_store_that_does_not_hold_the_data(
    oxigraph_server: Server, tmp_path: Path
) -> None:
    with (
        oxigraph(tmp_path / "elsewhere") as elsewhere,
        staged([resources.ONTOLOGY_FILE]) as parts,
        pytest.raises(CountMismatch, match="found 0"),
    ):
        push(parts, to=oxigraph_server.store, query_endpoint=elsewhere.query)


def test_unreachable_host_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RemoteError, match=r"cannot reach .*Connection refused"):
        RemoteEngine(f"{url}/query").query("ASK {}")
    with (
        pytest.raises(RemoteError, match="Connection refused"),
        staged([resources.ONTOLOGY_FILE]) as parts,
    ):
        push(parts, to=f"{url}/store")


def test_remote_syntax_errors_come_back_as_query_errors(oxigraph_server: Server) -> None:
    with pytest.raises(QueryError, match="rejected the query"):
        RemoteEngine(oxigraph_server.query).query("SELEC ?x WHERE {}")


class _TokenStore(BaseHTTPRequestHandler):
    """A graph store that accepts only ``Bearer secret`` (401 otherwise) and keeps nothing."""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.headers.get("Authorization") == "Bearer secret"
        self.send_response(204 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/store"
    server.shutdown()
    server.server_close()


def test_refused_credentials_are_named(token_store: str) -> None:
    with (
        pytest.raises(RemoteError, match=r"refused access \(401\)"),
        staged([resources.ONTOLOGY_FILE]) as parts,
    ):
        push(parts, to=token_store, credentials=Credentials(token="wrong"))


def test_cli_push_exit_codes(oxigraph_server: Server, token_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["push", "--to", oxigraph_server.store])
    assert ok.exit_code == 0, ok.output
    assert RemoteEngine(oxigraph_server.query).counts() == OxigraphEngine.from_files().counts()
    refused = runner.invoke(main, ["push", "--to", token_store, "--token", "wrong"])
    assert refused.exit_code == 1
    assert "401" in refused.output
    bad = tmp_path / "bad.ttl"
    bad.write_text("not turtle", encoding="utf-8")
    assert runner.invoke(main, ["push", "--to", oxigraph_server.store, str(bad)]).exit_code == 2
    both = runner.invoke(main, ["push", "--to", token_store, "--token", "t", "--user", "u"])
    assert both.exit_code == 2


def test_the_app_fronts_a_remote_endpoint(pushed: Server, memory: OxigraphEngine) -> None:
    client = create_app({"TESTING": True, "REMOTE": pushed.query}).test_client()
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200
    count = int(response.get_json()["results"]["bindings"][0]["n"]["value"])
    assert count == memory.counts()["triples"]
    bad = client.post("/sparql", data={"query": "SELEC"})
    assert bad.status_code == 400


@pytest.mark.live
def test_serve_remote_reports_an_unreachable_remote_as_502() -> None:
    server = LiveServer("--remote", f"http://127.0.0.1:{free_port()}/query")
    try:
        response = requests.post(f"{server.url}/sparql", data={"query": "ASK {}"}, timeout=30)
    finally:
        server.stop()
    assert response.status_code == 502
    assert "cannot reach" in response.text


def test_push_to_virtuoso_with_digest_auth(virtuoso_server: Server, memory: OxigraphEngine) -> None:
    credentials = Credentials(user="dba", password="dba", digest=True)
    with staged(resources.default_data_files()) as parts:
        report = push(
            parts, to=virtuoso_server.store, query_endpoint=virtuoso_server.query,
            credentials=credentials,
        )  # fmt: skip
    assert report.found == {g: n for g, n in memory.counts().items() if g != "triples"}
    remote = RemoteEngine(virtuoso_server.query)
    ask = f"ASK {{ GRAPH <https://w3id.org/palmyra/graph/data> {{ <{OFFENSIVE}> ?p ?o }} }}"
    assert remote.query(ask).boolean is True
    wrong = Credentials(user="dba", password="wrong", digest=True)
    with pytest.raises(RemoteError, match="401"), staged([resources.ONTOLOGY_FILE]) as parts:
        push(parts, to=virtuoso_server.store, query_endpoint=virtuoso_server.query,
             credentials=wrong)  # fmt: skip
