"""One query worker: a process forked by the broker that answers one job at a time.

A worker is confined before it takes a job: it dies with the broker, it cannot open a network
socket (unless it serves allow-listed SERVICE endpoints), and its address space is capped.
It evaluates on a thread with a large stack, so a deep query the guard let through ends in an
error message rather than a stack overflow.

A job is a module-level function ``job(engine, payload) -> (meta, write)``: ``meta`` is a small
picklable value sent before the body, ``write(output)`` writes the body to a binary file-like
object, which sends it in chunks of ``CHUNK_SIZE``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from palmyra_graph.errors import PalmyraError, QueryError, WorkerError
from palmyra_graph.workers import messages, sandbox
from palmyra_graph.workers.messages import CHUNK_SIZE

#: Exit status of a worker that found itself in a state it should not go on from.
EXIT_UNSOUND = 70


@dataclass(frozen=True)
class Confinement:
    """How a worker is confined: network, memory beyond its start, and its evaluation stack."""

    network: bool = False
    memory: int = 0
    stack: int = 256 * 1024 * 1024
    #: Bytes of memory a worker may make its own (copied from the graph it shares with the
    #: broker, or allocated) before it leaves after its job, for a fresh fork (0: never).
    recycle: int = 0


class _Writer:
    """A binary file-like object that sends what is written in ``C`` messages.

    The meta goes out just before the first chunk: pyoxigraph evaluates while it serializes,
    so a query that computes for long before its first result still ends in a clean error
    status. ``done`` is called after the last message, off the client's path; a client that
    hangs up in between is told apart by the broker (it finds ``done`` waiting).
    """

    def __init__(self, conn: socket.socket, meta: Any, done: Any) -> None:
        self.conn, self.meta, self.done = conn, meta, done
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
            self.conn.send(messages.pack(messages.META, self.meta))
            self.started = True
        self.conn.send(messages.CHUNK + chunk)

    def close(self) -> None:
        """Send what is left and the end; one ``W`` message when the answer fits one chunk."""
        if not self.started:
            self.conn.send(messages.pack(messages.WHOLE, (self.meta, bytes(self.buffer))))
            self.done()
            return
        if self.buffer:
            self._send(bytes(self.buffer))
        self.conn.send(messages.END)
        self.done()


def run(control: socket.socket, engine: Any, confinement: Confinement) -> None:
    """The worker's life, in the forked child: confine, then answer jobs; never returns."""
    sandbox.die_with_parent()
    if not confinement.network and not sandbox.forbid_network():
        print("palmyra-graph: query worker NOT confined: no seccomp here", file=sys.stderr)
    threading.stack_size(confinement.stack)
    thread = threading.Thread(target=_serve, args=(control, engine, confinement), daemon=True)
    thread.start()
    thread.join()
    os._exit(0)


def _serve(control: socket.socket, engine: Any, confinement: Confinement) -> None:
    if confinement.memory:
        sandbox.limit_memory(confinement.memory)
    if callable(engine):  # an on-disk store: each worker opens it read-only itself
        engine = engine()
    growth = _Growth(confinement.recycle)
    control.send(messages.READY)
    while True:
        try:
            message, fd = messages.receive_with_fd(control)
        except OSError:
            os._exit(0)
        if not message or fd is None:
            os._exit(0)
        conn = socket.socket(fileno=fd)
        try:
            sealed = not confinement.network
            _answer(conn, messages.unpack(message), engine, control, sealed=sealed, growth=growth)
        finally:
            conn.close()
        if growth.leaving:  # the broker has forked a fresh worker in its place
            os._exit(0)


def _answer(
    conn: socket.socket,
    order: dict[str, Any],
    engine: Any,
    control: socket.socket,
    *,
    sealed: bool,
    growth: _Growth,
) -> None:
    conn.settimeout(max(order["seconds"], 0.001))
    writer: _Writer | None = None

    def done() -> None:
        leaving = growth.past_limit()
        control.send(messages.RETIRING if leaving else messages.DONE)
        growth.leaving = leaving

    work = order.get("job")

    try:
        job, payload = pickle.loads(work or messages.receive_job(conn, order["size"]))
        meta, write = job(engine, payload)
        writer = _Writer(conn, meta, done)
        write(writer)
        writer.close()
    except (ConnectionError, TimeoutError):
        control.send(messages.ABANDONED)  # the client left, or stopped reading
    except PalmyraError as error:
        _failed(conn, writer, _sealed_reason(error, sealed), done)
    except MemoryError:
        shortage = WorkerError("the query needed more memory than a query may use")
        _failed(conn, writer, shortage, done)
    except BaseException as error:  # an engine panic or a bug: say so, then make way for a fork
        _last_word(conn, writer, WorkerError(f"the query failed in the engine: {error}"))
        os._exit(EXIT_UNSOUND)


class _Growth:
    """How much memory this worker has made its own since it was forked, counted in minor page
    faults: each is a page copied from the graph it shares with the broker (pyoxigraph's
    in-memory store writes to what it reads: a lock and reference counts in every quad node),
    or a page newly allocated. ``getrusage`` costs a microsecond; ``/proc/self/smaps_rollup``
    would say the same in milliseconds."""

    def __init__(self, limit: int) -> None:
        self.pages = limit // resource.getpagesize() if limit else 0
        self.start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        self.leaving = False

    def past_limit(self) -> bool:
        if not self.pages:
            return False
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - self.start
        return faults > self.pages


def _sealed_reason(error: PalmyraError, sealed: bool) -> PalmyraError:
    """In a sealed worker the only thing the engine is refused is a socket: say what that is."""
    if sealed and "Permission denied (os error 13)" in error.message:
        return QueryError(
            "the query tried to reach the network (a SERVICE call), which this endpoint's "
            "query workers cannot do: refused"
        )
    return error


def _last_word(conn: socket.socket, writer: _Writer | None, error: PalmyraError) -> None:
    if writer is None or not writer.started:
        with contextlib.suppress(OSError):
            conn.send(messages.error_message(error))


def _failed(conn: socket.socket, writer: _Writer | None, error: PalmyraError, done: Any) -> None:
    """Say why a query failed, and that this worker is free: before the error message, so
    the client cannot hang up before the broker knows. Mid-answer the status is sent: the
    connection is shut for everyone (the broker's copy too), so the client sees the body end
    short rather than wait for more, and is never handed a truncated body as whole."""
    if writer is None or not writer.started:
        done()
        with contextlib.suppress(OSError):
            conn.send(messages.error_message(error))
        return
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    done()
