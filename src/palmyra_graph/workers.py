"""Queries evaluated in worker processes that can be killed: a time budget that holds.

pyoxigraph cannot cancel a running query, so a query that must be stoppable runs in a
separate process. The pool keeps a few workers, each with its own copy of the engine; a
request borrows one, sends it a job, and streams the answer back in chunks. When the time
budget runs out the worker is killed (its CPU freed at once) and a fresh one takes its
place, while the other workers go on serving.

A job is a module-level function ``job(engine, payload) -> (meta, write)``: ``meta`` is any
small picklable value (kind, content type…) sent before the body, and ``write(output)``
writes the body to a binary file-like object. The body travels in chunks of
``CHUNK_SIZE`` bytes, so neither side holds a large result whole.
"""

from __future__ import annotations

import atexit
import multiprocessing
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import IO, Any

from palmyra_graph import errors
from palmyra_graph.errors import PalmyraError, QueryTimeout

CHUNK_SIZE = 64 * 1024
#: Seconds a new worker may take to build its engine (load the graph) before it counts as dead.
READY_TIMEOUT = 300.0

Writer = Callable[[IO[bytes]], None]
Job = Callable[[Any, Any], tuple[Any, Writer]]


@dataclass(frozen=True)
class EngineSpec:
    """How a worker builds its engine: data files to load, or an on-disk store to open."""

    data_files: tuple[str, ...] = ()
    store: str | None = None

    def build(self) -> Any:
        """A new engine; runs in the worker process."""
        if self.store:
            from palmyra_graph import store

            return store.open_engine(self.store)
        from palmyra_graph.engine import OxigraphEngine

        return OxigraphEngine.from_files(list(self.data_files) or None)


class _PipeWriter:
    """A binary file-like object that sends what is written in chunks of ``CHUNK_SIZE``.

    The answer's ``meta`` (which becomes the status and headers) goes out just before the
    first chunk, not before: pyoxigraph evaluates while it serializes, so a query that
    computes for long before its first result still ends in a clean 503, and an error found
    before any output still reaches the client as its own status.
    """

    def __init__(self, conn: Connection, meta: Any) -> None:
        self.conn = conn
        self.meta = meta
        self.started = False
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= CHUNK_SIZE:
            self._send(bytes(self.buffer[:CHUNK_SIZE]))
            del self.buffer[:CHUNK_SIZE]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: chunks leave as they fill (serializers call this)."""

    def _send(self, chunk: bytes) -> None:
        if not self.started:
            self.conn.send(("meta", self.meta))
            self.started = True
        self.conn.send_bytes(chunk)

    def close(self) -> None:
        """Send what is left and the empty chunk that ends the body."""
        if not self.started:  # the whole answer fits one chunk: one message, the common case
            self.conn.send(("whole", (self.meta, bytes(self.buffer))))
            self.started = True
            return
        if self.buffer:
            self._send(bytes(self.buffer))
            self.buffer.clear()
        self.conn.send_bytes(b"")


def _worker_main(conn: Connection, spec: EngineSpec) -> None:
    """The worker's loop: build the engine once, then answer jobs until the pipe closes."""
    engine = spec.build()
    conn.send(("ready", None))
    while True:
        try:
            job, payload = conn.recv()
        except (EOFError, OSError):
            return
        writer: _PipeWriter | None = None
        try:
            meta, write = job(engine, payload)
            writer = _PipeWriter(conn, meta)
            write(writer)
        except PalmyraError as error:
            if writer is not None and writer.started:
                raise  # mid-answer: ending this process aborts the response, never truncates
            conn.send(("error", (type(error).__name__, error.message, error.where)))
            continue
        writer.close()


def _rebuild(name: str, message: str, where: str | None) -> PalmyraError:
    cls = getattr(errors, name, PalmyraError)
    if not (isinstance(cls, type) and issubclass(cls, PalmyraError)):
        cls = PalmyraError
    return cls(message, where=where)


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: bool = False

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class _Body(Iterator[bytes]):
    """The chunks of one answer. Closing it early (a client that went away) or running out of
    time leaves the worker mid-answer, so the worker is replaced; reading it to the end gives
    the worker back to the pool."""

    def __init__(self, pool: QueryPool, worker: _Worker, deadline: float) -> None:
        self.pool, self.worker, self.deadline = pool, worker, deadline
        self.done = False

    def __next__(self) -> bytes:
        if self.done:
            raise StopIteration
        try:
            if not self.worker.conn.poll(max(self.deadline - time.monotonic(), 0)):
                raise self.pool._timeout()
            chunk = self.worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._finish(replace=True)
            raise PalmyraError("the query failed while its result was being written") from None
        except BaseException:
            self._finish(replace=True)
            raise
        if not chunk:
            self._finish(replace=False)
            raise StopIteration
        return chunk

    def _finish(self, *, replace: bool) -> None:
        self.done = True
        if replace:
            self.pool._replace(self.worker)
        else:
            self.pool._idle.put(self.worker)

    def close(self) -> None:
        """Give up on the rest of the answer (WSGI servers call this when a client leaves)."""
        if not self.done:
            self._finish(replace=True)

    def __del__(self) -> None:
        # An answer dropped unread still holds a worker; at interpreter exit the pool is
        # already closed and there is nothing to give back.
        if not self.done and self.worker.process.is_alive():
            self.close()


class _Whole(Iterator[bytes]):
    """An answer that came in one message: its worker is already back in the pool."""

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


@dataclass(eq=False)
class QueryPool:
    """A fixed number of worker processes, started on first use, each with its own engine.

    Args:
        spec: how each worker builds its engine.
        size: number of workers (the number of queries evaluated at once).
        timeout: seconds a job may take, from borrowing a worker to the last chunk.
    """

    spec: EngineSpec
    size: int = 2
    timeout: float = 30.0
    _idle: queue.Queue[_Worker] = field(default_factory=queue.Queue, init=False)
    _started: bool = field(default=False, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _all: list[_Worker] = field(default_factory=list, init=False)

    def run(self, job: Job, payload: Any) -> Answer:
        """Run ``job(engine, payload)`` in a worker within the time budget.

        Raises:
            QueryTimeout: no worker came free, or the job ran past the budget (the worker is
                killed and replaced).
            PalmyraError: whatever the job raised on purpose (QueryError…), rebuilt here.
        """
        worker = self._borrow(time.monotonic() + self.timeout)
        deadline = time.monotonic() + self.timeout  # the query's own time starts now
        try:
            worker.conn.send((job, payload))
            kind, value = self._receive(worker, deadline)
        except BaseException:
            self._replace(worker)
            raise
        if kind == "error":
            self._idle.put(worker)
            raise _rebuild(*value)
        if kind == "whole":
            self._idle.put(worker)
            meta, body = value
            return Answer(meta=meta, chunks=_Whole(body))
        return Answer(meta=value, chunks=_Body(self, worker, deadline))

    def _borrow(self, deadline: float) -> _Worker:
        self._start()
        try:
            worker = self._idle.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise QueryTimeout(
                f"all {self.size} query workers stayed busy for {self.timeout:g} s; try again"
            ) from None
        if not worker.ready:  # a new worker still loading the graph: its own, longer limit
            try:
                self._receive(worker, time.monotonic() + READY_TIMEOUT)
            except QueryTimeout:
                self._replace(worker)
                raise QueryTimeout(
                    f"a query worker did not load the graph within {READY_TIMEOUT:g} s"
                ) from None
            except BaseException:
                self._replace(worker)
                raise
            worker.ready = True
        return worker

    def _receive(self, worker: _Worker, deadline: float) -> tuple[str, Any]:
        if not worker.conn.poll(max(deadline - time.monotonic(), 0)):
            raise self._timeout()
        try:
            message: tuple[str, Any] = worker.conn.recv()
        except (EOFError, OSError):
            raise PalmyraError("the query worker died; the query was not answered") from None
        return message

    def _timeout(self) -> QueryTimeout:
        return QueryTimeout(
            f"the query ran past the time budget of {self.timeout:g} s and was stopped"
        )

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for _ in range(self.size):
            self._idle.put(self._spawn())
        _POOLS.add(self)

    def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("forkserver")
        # The fork server would import the parent's __main__ (pytest, granian…) by default;
        # it needs only this package, and forks every worker from that clean process.
        context.set_forkserver_preload(["palmyra_graph.workers"])
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker_main, args=(child, self.spec), daemon=True, name="palmyra-query"
        )
        process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        with self._lock:
            self._all.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        self._idle.put(self._spawn())

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and monitoring)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]


_POOLS: weakref.WeakSet[QueryPool] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for pool in list(_POOLS):
        pool.close()
