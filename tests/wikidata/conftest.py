"""Stand-ins for Wikidata on loopback: its Action API and its SPARQL query service.

``FakeWikidata`` is a real HTTP server answering ``wbsearchentities`` and ``wbgetentities``
in Wikidata's documented JSON (https://www.wikidata.org/w/api.php?action=help&modules=main),
including redirects (the ``redirects`` member with ``from``/``to``), missing items
(``"missing": ""``), ``maxlag`` errors (HTTP 200, ``error.code`` "maxlag", ``Retry-After``
and ``X-Database-Lag`` headers, https://www.mediawiki.org/wiki/Manual:Maxlag_parameter) and
HTTP 429 with ``Retry-After``. Its items are in ``fixtures/items.json``.

The SPARQL stand-in is the real Oxigraph server (``oxigraph serve-read-only``, from PyPI)
over ``fixtures/wdqs.ttl``, a handful of hand-written Wikidata-shaped triples.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from palmyra_graph.graph.resources import DATA_FILE, ONTOLOGY_FILE
from palmyra_graph.testing import free_port

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Trouble:
    """A scripted failure for the next request: ``maxlag`` or ``429``, with Retry-After."""

    kind: str
    retry_after: int = 1


@dataclass
class FakeState:
    items: dict[str, dict[str, Any]]
    redirects: dict[str, str]
    trouble: list[Trouble] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _entity(qid: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One item in wbgetentities JSON."""
    entity: dict[str, Any] = {
        "pageid": int(qid[1:]) % 1_000_000,
        "ns": 0,
        "title": qid,
        "type": "item",
        "id": qid,
        "labels": {"en": {"language": "en", "value": spec["label"]}},
        "descriptions": {},
        "aliases": {},
        "claims": {},
    }
    if "description" in spec:
        entity["descriptions"]["en"] = {"language": "en", "value": spec["description"]}
    if spec.get("aliases"):
        entity["aliases"]["en"] = [{"language": "en", "value": a} for a in spec["aliases"]]
    for prop in ("P31", "P279"):
        entity["claims"][prop] = [_statement(qid, prop, v) for v in spec.get(prop, [])]
    return entity


def _statement(qid: str, prop: str, value: str) -> dict[str, Any]:
    return {
        "mainsnak": {
            "snaktype": "value",
            "property": prop,
            "datavalue": {
                "value": {"entity-type": "item", "numeric-id": int(value[1:]), "id": value},
                "type": "wikibase-entityid",
            },
            "datatype": "wikibase-item",
        },
        "type": "statement",
        "id": f"{qid}$test-{prop}-{value}",
        "rank": "normal",
    }


class _Handler(BaseHTTPRequestHandler):
    state: FakeState

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        params = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        with self.state.lock:
            self.state.requests.append(params)
            self.state.user_agents.append(self.headers.get("User-Agent", ""))
            trouble = self.state.trouble.pop(0) if self.state.trouble else None
        if trouble is not None:
            self._trouble(trouble)
            return
        action = params.get("action")
        if action == "wbsearchentities":
            self._json(200, self._search(params))
        elif action == "wbgetentities":
            self._json(200, self._get(params))
        else:
            self._json(
                200, {"error": {"code": "badvalue", "info": f"Unrecognized action {action}"}}
            )

    def _trouble(self, trouble: Trouble) -> None:
        headers = {"Retry-After": str(trouble.retry_after)}
        if trouble.kind == "maxlag":
            headers["X-Database-Lag"] = "7"
            body = {
                "error": {
                    "code": "maxlag",
                    "info": "Waiting for 10.0.0.1: 7 seconds lagged.",
                    "host": "10.0.0.1",
                    "lag": 7,
                    "type": "db",
                },
                "servedby": "fake",
            }
            self._json(200, body, headers)
        else:
            self._json(429, {"error": "Too many requests"}, headers)

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        text = params.get("search", "").casefold()
        hits = []
        for qid, spec in self.state.items.items():
            names = [spec["label"], *spec.get("aliases", [])]
            # wbsearchentities matches the start of a label or alias; an exact match first
            exact = [n for n in names if text and n.casefold() == text]
            prefix = [n for n in names if text and n.casefold().startswith(text)]
            matched = (exact or prefix or [None])[0]
            if matched is None:
                continue
            hits.append(
                {
                    "id": qid,
                    "title": qid,
                    "pageid": int(qid[1:]) % 1_000_000,
                    "concepturi": f"http://www.wikidata.org/entity/{qid}",
                    "repository": "wikidata",
                    "url": f"//www.wikidata.org/wiki/{qid}",
                    "display": {"label": {"value": spec["label"], "language": "en"}},
                    "label": spec["label"],
                    "description": spec.get("description", ""),
                    "match": {
                        "type": "label" if matched == spec["label"] else "alias",
                        "language": "en",
                        "text": matched,
                    },
                }
            )
        limit = int(params.get("limit", "7"))
        return {
            "searchinfo": {"search": params.get("search", "")},
            "search": hits[:limit],
            "success": 1,
        }

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        for qid in params.get("ids", "").split("|"):
            target = self.state.redirects.get(qid)
            if target:
                entity = _entity(target, self.state.items[target])
                entity["redirects"] = {"from": qid, "to": target}
                entities[qid] = entity
            elif qid in self.state.items:
                entities[qid] = _entity(qid, self.state.items[qid])
            else:
                entities[qid] = {"id": qid, "missing": ""}
        return {"entities": entities, "success": 1}

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeWikidata:
    """The fake Action API on a free loopback port; ``api_url`` is its ``api.php``."""

    def __init__(self) -> None:
        spec = json.loads((FIXTURES / "items.json").read_text(encoding="utf-8"))
        self.state = FakeState(items=spec["items"], redirects=spec["redirects"])
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_port}/w/api.php"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def requests(self) -> list[dict[str, str]]:
        return self.state.requests

    def fail_next(self, *troubles: Trouble) -> None:
        self.state.trouble.extend(troubles)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_wikidata() -> Iterator[FakeWikidata]:
    fake = FakeWikidata()
    yield fake
    fake.stop()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A temporary copy of the bundled data file, for commands that write links."""
    copy = tmp_path / "palmyra.ttl"
    shutil.copyfile(DATA_FILE, copy)
    return copy


@pytest.fixture
def graph_files(data_copy: Path) -> list[Path]:
    return [ONTOLOGY_FILE, data_copy]


@dataclass
class SparqlStandIn:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def wdqs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlStandIn]:
    """``oxigraph serve-read-only`` over fixtures/wdqs.ttl, standing in for query.wikidata.org."""
    binary = shutil.which("oxigraph") or str(Path(__import__("sys").executable).parent / "oxigraph")
    if not Path(binary).exists():
        pytest.skip("the oxigraph server binary (PyPI package 'oxigraph') is not installed")
    location = tmp_path_factory.mktemp("wdqs")
    subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(FIXTURES / "wdqs.ttl")],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process)
    yield SparqlStandIn(url=f"http://127.0.0.1:{port}/query", process=process)
    process.terminate()
    process.wait(timeout=15)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("oxigraph did not listen in time")
