"""Queries evaluated by killable worker processes, as a server process sees them.

pyoxigraph cannot cancel a running query, so queries run in worker processes that the query
broker (:mod:`palmyra_graph.workers.broker`) forks from the one process that holds the graph, and
kills past the time budget. A :class:`QueryPool` is this side of that: :meth:`QueryPool.run`
sends a job to the broker over a Unix socket and returns the answer, its body streamed in
chunks of ``CHUNK_SIZE``, so neither side holds a large result whole.

``serve`` starts one broker for all its server processes and hands them its socket
(``address``); a pool without an address starts a broker of its own on first use (the test
client, an embedded app), which ends with the pool or with this process.
"""

from __future__ import annotations

import atexit
import pickle
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from palmyra_graph.errors import LoadError, QueryTimeout, TooManyRequests, WorkerError
from palmyra_graph.workers import messages
from palmyra_graph.workers.fairness import ClientLimits
from palmyra_graph.workers.messages import CHUNK_SIZE, Order
from palmyra_graph.workers.settings import BrokerSettings

__all__ = ["CHUNK_SIZE", "Answer", "BrokerProcess", "EngineSpec", "QueryPool"]

#: Seconds a new broker may take to load the graph and answer.
READY_TIMEOUT = 300.0
#: Seconds past the time budget this side waits for the broker's own verdict.
GRACE = 5.0

Writer = Callable[[IO[bytes]], None]
Job = Callable[[Any, Any], tuple[Any, Writer]]


@dataclass(frozen=True)
class EngineSpec:
    """Where the workers' graph comes from: data files to load, or an on-disk store to open."""

    data_files: tuple[str, ...] = ()
    store: str | None = None


class _Body(Iterator[bytes]):
    """The chunks of an answer, read from its connection. Closing it early (a client that
    went away) hangs up, and the broker stops the worker that was still writing; read to its
    end, the connection goes back to ``keep`` for the next query."""

    def __init__(self, conn: socket.socket, keep: Callable[[socket.socket], None]) -> None:
        self.conn: socket.socket | None = conn
        self.keep = keep

    def __next__(self) -> bytes:
        if self.conn is None:
            raise StopIteration
        message = _receive(self.conn)
        kind = message[:1]
        if kind == messages.CHUNK:
            return message[1:]
        if kind == messages.END:
            conn, self.conn = self.conn, None
            self.keep(conn)
            raise StopIteration
        self.close()
        if kind == messages.ERROR:
            raise messages.rebuild(message)
        raise WorkerError("the query failed while its result was being written")

    def close(self) -> None:
        """Hang up (WSGI servers call this when the client leaves, or at the end)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __del__(self) -> None:
        self.close()


class _Whole(Iterator[bytes]):
    """An answer that came in one message."""

    def __init__(self, body: bytes) -> None:
        self.parts = [body] if body else []

    def __next__(self) -> bytes:
        if not self.parts:
            raise StopIteration
        return self.parts.pop()

    def close(self) -> None:
        self.parts.clear()


@dataclass
class Answer:
    """A job's answer: its ``meta`` and its body as an iterator of chunks."""

    meta: Any
    chunks: _Body | _Whole

    def body(self) -> bytes:
        """The whole body (for small answers and tests)."""
        return b"".join(self.chunks)

    def close(self) -> None:
        """Give up on the rest of the body."""
        self.chunks.close()


def _receive(conn: socket.socket) -> bytes:
    try:
        return conn.recv(messages.MAX_MESSAGE)
    except TimeoutError:
        conn.close()
        raise QueryTimeout("the query broker did not answer within the time budget") from None
    except OSError:
        return b""


class BrokerProcess:
    """A broker run by this process: ``python -m palmyra_graph.workers`` on a private socket.

    Raises (from :meth:`start`):
        LoadError: the broker could not load the graph (its message says which file, where).
        WorkerError: it did not start.
    """

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.directory = Path(tempfile.mkdtemp(prefix="palmyra-broker-"))
        self.address = str(self.directory / "query.sock")
        self.process: subprocess.Popen[str] | None = None

    def start(self, *, timeout: float = READY_TIMEOUT) -> None:
        """Start the broker and wait until it has loaded the graph and listens."""
        paths = [arg for entry in sys.path if entry for arg in ("--path", entry)]
        command = [sys.executable, "-m", "palmyra_graph.workers", "--socket", self.address]
        self.process = subprocess.Popen(
            [*command, "--settings", self.settings.to_json(), *paths],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if line.strip() != "ready":
            error = self._failure()
            self.close()
            raise error
        _forward(self.process)

    def _failure(self) -> LoadError | WorkerError:
        assert self.process is not None and self.process.stderr is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        with self.process.stderr:
            errors = self.process.stderr.read()
        message = errors.strip().removeprefix("palmyra-graph: ") or "the query broker did not start"
        if self.process.returncode == 2:
            return LoadError(message)
        return WorkerError(message)

    def close(self) -> None:
        """Stop the broker (it stops its workers) and remove its socket."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.settings.drain + 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _forward(process: subprocess.Popen[str]) -> None:
    """Copy what the broker writes to stderr to ours, without blocking on it."""

    def copy() -> None:
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                sys.stderr.write(line)

    threading.Thread(target=copy, daemon=True, name="palmyra-broker-stderr").start()


@dataclass(eq=False)
class QueryPool:
    """Killable query workers behind one broker.

    Args:
        spec: the graph the workers answer from.
        size: workers that evaluate queries (the most evaluated at once).
        timeout: seconds a query may run, from the moment a worker takes it.
        address: the socket of a running broker (``serve`` starts one); None starts one here.
        federated_size: workers that may reach the network, for queries whose SERVICE
            endpoints are all allow-listed.
        memory: bytes a worker may allocate beyond its start (0: no cap).
        recycle: bytes a worker may make its own before a fresh fork takes its place (0: never).
        limits: what each client may use.
    """

    spec: EngineSpec
    size: int = 2
    timeout: float = 30.0
    address: str | None = None
    federated_size: int = 0
    memory: int = 0
    recycle: int = 0
    limits: ClientLimits = field(default_factory=ClientLimits)
    _broker: BrokerProcess | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _local: threading.local = field(default_factory=threading.local, init=False)
    _kept: set[socket.socket] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        weakref.finalize(self, _hang_up, self._kept, self._lock)

    def settings(self) -> BrokerSettings:
        """The settings a broker for this pool starts with."""
        return BrokerSettings(
            data_files=self.spec.data_files,
            store=self.spec.store,
            workers=self.size,
            federated_workers=self.federated_size,
            timeout=self.timeout,
            memory=self.memory,
            recycle=self.recycle,
            limits=self.limits,
        )

    def run(
        self, job: Job, payload: Any, *, client: str = "local", federated: bool = False
    ) -> Answer:
        """Run ``job(engine, payload)`` in a worker within the time budget.

        Raises:
            TooManyRequests: the client is over its limits (429, with ``retry_after``).
            QueryTimeout: no worker came free, or the job ran past the budget (stopped).
            WorkerError: the worker died (the message says why) or the broker is gone.
            PalmyraError: whatever the job raised on purpose (QueryError…), rebuilt here.
        """
        work = pickle.dumps((job, payload), protocol=pickle.HIGHEST_PROTOCOL)
        inline = work if len(work) <= messages.INLINE_JOB else None
        order = messages.pack(messages.QUERY, Order(client, federated, len(work), inline))
        conn, first = self._ask(order, b"" if inline else work)
        kind = first[:1]
        if kind == messages.META:
            return Answer(meta=messages.unpack(first), chunks=_Body(conn, self._keep))
        if kind == messages.WHOLE:
            self._keep(conn)
            meta, body = messages.unpack(first)
            return Answer(meta=meta, chunks=_Whole(body))
        conn.close()
        if kind == messages.ERROR:
            raise messages.rebuild(first)
        if kind == messages.REFUSED:
            message, retry_after = messages.unpack(first)
            raise TooManyRequests(message, retry_after=retry_after)
        raise WorkerError("the query broker closed the connection without an answer")

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and monitoring)."""
        return list(self.stats().get("workers", []))

    def stats(self) -> dict[str, Any]:
        """The broker's counters: ``workers`` (pids), ``retired`` (workers that made way
        for a fresh fork after copying their share of the graph) and ``admitted`` (queries
        given to a worker or queued for one)."""
        stats: dict[str, Any] = self._service("stats") or {}
        return stats

    def _service(self, request: str) -> Any:
        conn = self._connect()
        try:
            conn.send(messages.pack(messages.SERVICE, request))
            reply = _receive(conn)
        finally:
            conn.close()
        return messages.unpack(reply) if reply[:1] == messages.SERVICE else None

    def _ask(self, order: bytes, work: bytes) -> tuple[socket.socket, bytes]:
        """Send a query on this thread's kept connection (or a new one) and read the first
        message of its answer; a kept connection the broker has closed meanwhile is
        replaced, once."""
        kept: socket.socket | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if kept is not None:
            with self._lock:
                self._kept.discard(kept)
            first = self._send(kept, order, work)
            if first:
                return kept, first
            kept.close()  # the broker closed it meanwhile: a new connection
        conn = self._connect()
        return conn, self._send(conn, order, work)

    @staticmethod
    def _send(conn: socket.socket, order: bytes, work: bytes) -> bytes:
        try:
            conn.send(order)
            if work:
                messages.send_job(conn, work)
        except OSError:
            pass  # refused or timed out before the job was read: the answer says so
        return _receive(conn)

    def _keep(self, conn: socket.socket) -> None:
        """Keep a connection whose answer was read whole, for this thread's next query."""
        old = getattr(self._local, "conn", None)
        self._local.conn = conn
        with self._lock:
            self._kept.add(conn)
            if old is not None:
                self._kept.discard(old)
                old.close()

    def _connect(self) -> socket.socket:
        conn = messages.seqpacket()
        conn.settimeout(self.timeout + GRACE)
        try:
            conn.connect(self._address())
        except OSError as exc:
            conn.close()
            raise WorkerError(f"the query broker is not running ({exc.strerror})") from exc
        return conn

    def _address(self) -> str:
        if self.address:
            return self.address
        with self._lock:
            if self._broker is None:
                broker = BrokerProcess(self.settings())
                broker.start()
                self._broker = broker
                _POOLS.add(self)
            return self._broker.address

    def close(self) -> None:
        """Hang up the kept connections; stop the broker this pool started, if it did."""
        with self._lock:
            broker, self._broker = self._broker, None
        _hang_up(self._kept, self._lock)
        if broker is not None:
            broker.close()


_POOLS: weakref.WeakSet[QueryPool] = weakref.WeakSet()


def _hang_up(kept: set[socket.socket], lock: threading.Lock) -> None:
    """Hang up the connections a pool's threads kept (when it is closed or collected)."""
    with lock:
        for conn in kept:
            conn.close()
        kept.clear()


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()
