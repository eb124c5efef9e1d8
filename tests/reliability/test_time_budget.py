"""The time budget holds on a real server: a runaway query is stopped with 503 and its CPU
freed, while other clients are answered at once; big answers stream through in chunks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from palmyra_graph.testing import LiveServer
from palmyra_graph.web import create_app
from palmyra_graph.web.context import engine_of, pool_of

# Four cross joins over the bundled graph: far more rows than any budget allows.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"
QUICK = "ASK { ?s ?p ?o }"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(env={"PALMYRA_QUERY_TIMEOUT": "2", "PALMYRA_WORKERS": "1"})
    yield live
    live.stop()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def get(server: LiveServer, query: str, timeout: float = 20) -> requests.Response:
    return requests.get(
        f"{server.url}/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=timeout,
    )


@pytest.mark.live
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_runaway_query_is_stopped_and_a_quick_one_answered_meanwhile(server: LiveServer) -> None:
    assert get(server, QUICK).json()["boolean"] is True  # workers started
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        outcome["response"] = get(server, RUNAWAY)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    quick = get(server, QUICK)
    quick_seconds = time.monotonic() - started
    thread.join(timeout=20)

    assert quick.status_code == 200 and quick.json()["boolean"] is True
    assert quick_seconds < 1.0
    response = outcome["response"]
    assert isinstance(response, requests.Response)
    assert response.status_code == 503
    assert "time budget of 2 s" in response.text
    assert 1.9 < float(outcome["seconds"]) < 4.0  # type: ignore[arg-type]

    # The CPU the runaway used is freed: nothing below the server keeps computing.
    time.sleep(0.5)
    processes = [server.process.pid, *descendants(server.process.pid)]
    before = cpu_ticks(processes)
    time.sleep(1.0)
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    assert cpu_ticks(processes) - before < 0.2 * ticks_per_second


@pytest.mark.live
def test_the_server_keeps_serving_after_many_runaways(server: LiveServer) -> None:
    threads = [threading.Thread(target=get, args=(server, RUNAWAY)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert get(server, QUICK).json()["boolean"] is True


def test_a_big_answer_streams_whole(tmp_path: Path) -> None:
    data = tmp_path / "big.nt"
    data.write_text(
        "".join(f'<http://e/s{i}> <http://e/label> "label number {i}" .\n' for i in range(5000)),
        encoding="utf-8",
    )
    app = create_app({"TESTING": True, "DATA_FILES": [str(data)], "QUERY_WORKERS": 1})
    response = app.test_client().get(
        "/sparql",
        query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert response.status_code == 200
    assert len(response.data) > 200_000  # several chunks
    triples = list(ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES))
    assert len(triples) == 5000 == len(engine_of(app).store)  # type: ignore[attr-defined]
    pool = pool_of(app)
    assert pool is not None
    pool.close()


def test_no_workers_means_queries_run_in_the_request_thread(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "QUERY_WORKERS": 0})
    assert pool_of(app) is None
    response = app.test_client().get("/sparql", query_string={"query": QUICK})
    assert response.json == {"head": {}, "boolean": True}
