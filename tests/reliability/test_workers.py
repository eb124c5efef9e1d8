"""The worker pool: answers stream back, errors keep their type, a runaway job is killed."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from palmyra_graph.errors import QueryError, QueryTimeout, WorkerError
from palmyra_graph.query.store import load_store
from palmyra_graph.testing import wait_until
from palmyra_graph.workers.pool import CHUNK_SIZE, EngineSpec, QueryPool

# Worker processes import jobs by module name; this folder is on their sys.path too.
sys.path.insert(0, str(Path(__file__).parent))
from reliability_jobs import big_job, count_job, failing_job, pid_job

DATA = "".join(f"<http://e/s{i}> <http://e/p> {i} .\n" for i in range(200))
# Three cross joins over 200 triples: 1.6 billion rows, far past any time budget.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[QueryPool]:
    path = tmp_path / "data.ttl"
    path.write_text(DATA, encoding="utf-8")
    queries = QueryPool(EngineSpec(data_files=(str(path),)), size=2, timeout=3.0)
    yield queries
    queries.close()


def test_an_answer_streams_back_in_chunks(pool: QueryPool) -> None:
    answer = pool.run(big_job, 200)
    chunks = list(answer.chunks)
    assert answer.meta == "bytes"
    assert sum(len(c) for c in chunks) == 200_000
    assert max(len(c) for c in chunks) <= CHUNK_SIZE and len(chunks) >= 3


def test_a_query_error_keeps_its_type_and_the_worker_stays(pool: QueryPool) -> None:
    with pytest.raises(QueryError, match="syntax error"):
        pool.run(count_job, "SELECT WHERE {")
    answer = pool.run(count_job, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert b'"value":"200"' in answer.body()


def test_a_runaway_query_is_stopped_and_others_are_served_meanwhile(pool: QueryPool) -> None:
    import threading

    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        try:
            pool.run(count_job, RUNAWAY).body()
        except QueryTimeout as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    victim_pids = set(pool.pids())
    quick_start = time.monotonic()
    answer = pool.run(count_job, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert b'"value":"200"' in answer.body()
    assert time.monotonic() - quick_start < 1.0
    thread.join(timeout=10)
    assert isinstance(outcome["error"], QueryTimeout)
    assert 2.9 < float(outcome["seconds"]) < 5.0  # type: ignore[arg-type]
    # The runaway's worker was killed and replaced: one pid is gone, the pool is full again.
    assert len(set(pool.pids()) - victim_pids) == 1
    assert len(pool.pids()) == 2


def test_a_client_that_stops_reading_gets_its_worker_replaced(pool: QueryPool) -> None:
    answer = pool.run(big_job, 500)
    next(answer.chunks)
    answer.close()
    pids = set()
    for _ in range(4):
        answer = pool.run(pid_job, None)
        answer.body()
        pids.add(answer.meta)
    assert len(pids) <= 2
    assert pids <= set(pool.pids())


def test_clients_that_hang_up_right_after_their_answers_never_stall_the_broker(
    pool: QueryPool,
) -> None:
    # Regression: a client that read its error and hung up before the worker's "done" was
    # read made the broker take that message early; the worker's event of the same poll then
    # read an empty channel, blocking, and every query after it timed out.
    slowest = 0.0
    for _ in range(1500):
        started = time.monotonic()
        with pytest.raises(QueryError, match="syntax error"):
            pool.run(count_job, "SELECT WHERE {")
        slowest = max(slowest, time.monotonic() - started)
    answer = pool.run(count_job, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert b'"value":"200"' in answer.body()
    assert slowest < pool.timeout  # none waited for its budget (a stalled broker's mark)


def test_a_failure_half_way_through_an_answer_ends_it_short_and_the_next_query_is_answered(
    pool: QueryPool,
) -> None:
    answer = pool.run(failing_job, 300)
    started = time.monotonic()
    with pytest.raises(WorkerError, match="while its result was being written"):
        answer.body()
    assert time.monotonic() - started < pool.timeout  # told at once, not at the budget's end
    for _ in range(3):  # the same thread: a kept connection, or a new one, but an answer
        answer = pool.run(count_job, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert b'"value":"200"' in answer.body()


def test_a_killed_worker_is_replaced_by_a_fork_without_a_reload(tmp_path: Path) -> None:
    # The graph is loaded once, in the broker: once the file is gone, a worker killed past
    # the budget is still replaced, by a fork of what the broker holds.
    path = tmp_path / "data.ttl"
    path.write_text(DATA, encoding="utf-8")
    queries = QueryPool(EngineSpec(data_files=(str(path),)), size=1, timeout=1.0)
    try:
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert b'"value":"200"' in queries.run(count_job, count).body()
        path.unlink()
        first = queries.pids()
        with pytest.raises(QueryTimeout):
            queries.run(count_job, RUNAWAY).body()
        assert b'"value":"200"' in queries.run(count_job, count).body()
        assert queries.pids() != first
    finally:
        queries.close()


def test_a_worker_that_copied_its_share_of_the_graph_makes_way_for_a_fresh_fork(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data.nt"
    path.write_text(
        "".join(f'<http://e/s{i}> <http://e/p> "value {i}" .\n' for i in range(20_000)),
        encoding="utf-8",
    )
    spec = EngineSpec(data_files=(str(path),))
    queries = QueryPool(spec, size=1, timeout=10.0, recycle=1024 * 1024)
    try:
        scan = "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"
        before = queries.stats()
        for _ in range(3):  # each scan writes to every node it reads: far past 1 MB
            assert b'"value":"20000"' in queries.run(count_job, scan).body()
        # a worker says it leaves after its answer's last message, so the count may lag it
        wait_until(
            lambda: queries.stats()["retired"] - before["retired"] == 3,
            what="three workers retired",
            timeout=5,
        )
        after = queries.stats()
        assert after["retired"] - before["retired"] == 3
        assert not set(after["workers"]) & set(before["workers"])
    finally:
        queries.close()


def test_workers_that_cannot_open_their_store_are_not_forked_in_a_loop(tmp_path: Path) -> None:
    # The store is opened by each worker; once it is gone, a worker that dies before it is
    # ready is replaced after a pause that doubles (10 ms up to 1 s), not at once: without
    # the pause, two places forked thousands of workers in these two seconds.
    data = tmp_path / "data.ttl"
    data.write_text(DATA, encoding="utf-8")
    store = tmp_path / "store"
    load_store(store, [data])
    queries = QueryPool(EngineSpec(store=str(store)), size=2, timeout=1.0)
    try:
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert b'"value":"200"' in queries.run(count_job, count).body()
        shutil.rmtree(store)
        before = queries.stats()["forked"]
        for pid in queries.pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(2.0)
        forked = queries.stats()["forked"] - before
        assert 2 <= forked <= 2 * 9  # each place: 10, 20, ... 640 ms, 1 s: 9 forks in 2 s
        with pytest.raises((QueryTimeout, WorkerError)):
            queries.run(count_job, count).body()
        assert "workers" in queries.stats()  # the broker still answers (else {})
    finally:
        queries.close()
