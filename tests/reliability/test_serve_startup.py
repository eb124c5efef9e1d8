"""Start-up: bad files stop it (exit 2, file and line); data that breaks the shapes is served
with a one-line summary, since users serve their own data."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from palmyra_graph.testing import free_port

UNSOURCED = """\
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix pal: <https://w3id.org/palmyra/ontology#> .
@prefix id: <https://w3id.org/palmyra/id/> .
@prefix claim: <https://w3id.org/palmyra/claim/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
id:x pal:startDate "2017-01-13"^^xsd:date .
claim:x_startDate_2017-01-13 a pal:Claim, rdf:Statement ;
    rdf:subject id:x ; rdf:predicate pal:startDate ; rdf:object "2017-01-13"^^xsd:date .
"""


def test_data_that_breaks_the_shapes_is_served_with_a_summary(tmp_path: Path) -> None:
    data = tmp_path / "mine.ttl"
    data.write_text(UNSOURCED, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "palmyra_graph",
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--query-timeout",
            "5",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines = [process.stderr.readline() for _ in range(2)]
        assert f"http://127.0.0.1:{port}/" in lines[0]
        assert "does NOT conform" in lines[1] and "violations" in lines[1]
        violations = int(lines[1].split(": ")[-1].split()[0])
        assert violations >= 2  # the entity has no label or class; the claim has no source
        answer = _ask_when_listening(f"http://127.0.0.1:{port}/sparql")
        assert answer == {"head": {}, "boolean": True}
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        if process.stderr:
            process.stderr.close()


def _ask_when_listening(url: str) -> object:
    for _ in range(100):
        try:
            return requests.get(url, params={"query": "ASK { ?s ?p ?o }"}, timeout=5).json()
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on {url}")


def test_sigterm_while_workers_start_is_a_clean_stop() -> None:
    """Regression: a SIGTERM right after the socket was bound, while granian's workers were
    still starting, hung its shutdown in 9 of 20 tries; stuck workers are now killed."""
    for _ in range(4):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "palmyra_graph", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        process.terminate()
        try:
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
