"""Jobs for the worker-pool tests, in a module the worker processes can import by name."""

from __future__ import annotations

import os
from typing import IO, Any

import pyoxigraph as ox


def count_job(engine: Any, sparql: str) -> tuple[str, Any]:
    """Run a query and write its SPARQL JSON results."""
    result = engine.query(sparql)

    def write(output: IO[bytes]) -> None:
        output.write(result.raw.serialize(format=ox.QueryResultsFormat.JSON))

    return "solutions", write


def big_job(engine: Any, size: int) -> tuple[str, Any]:
    """A body of ``size`` kilobytes, larger than one chunk."""

    def write(output: IO[bytes]) -> None:
        for _ in range(size):
            output.write(b"x" * 1000)

    return "bytes", write


def pid_job(engine: Any, _: object) -> tuple[int, Any]:
    """Which worker answered."""
    return os.getpid(), lambda output: None


def crash_job(engine: Any, signal_number: int) -> tuple[str, Any]:
    """A worker that dies of ``signal_number`` in the middle of a job: SIGSEGV by a real
    invalid read (a signal sent with kill() would be swallowed by Rust's fault handler, which
    the engine installs), any other by kill()."""
    import ctypes
    import signal

    if signal_number == signal.SIGSEGV:
        ctypes.string_at(0)
    os.kill(os.getpid(), signal.Signals(signal_number))
    return "never", lambda output: None


def connect_job(engine: Any, port: int) -> tuple[str, Any]:
    """Open a TCP connection from the worker itself: what a sealed worker cannot do."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            outcome = "connected"
    except OSError as error:
        outcome = f"refused: {error}"
    return outcome, lambda output: None


def failing_job(engine: Any, size: int) -> tuple[str, Any]:
    """``size`` kilobytes of an answer (more than one chunk), then a query error."""
    from palmyra_graph.errors import QueryError

    def write(output: IO[bytes]) -> None:
        for _ in range(size):
            output.write(b"x" * 1000)
        raise QueryError("the answer failed half-way")

    return "bytes", write
