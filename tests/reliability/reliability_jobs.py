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
