"""Why a query worker died, read from its exit status and the last thing it wrote to stderr.

The engine is native code: a Rust panic in the middle of a sort, a failed allocation under
the memory cap or a stack overflow ends the process, not a Python exception. The broker keeps
the tail of each worker's stderr, and the client gets the cause instead of "the worker died".
"""

from __future__ import annotations

import os
import signal

from palmyra_graph.errors import PalmyraError, QueryError, WorkerError

#: How much of a worker's stderr the broker keeps.
TAIL_BYTES = 8192

#: Oxigraph 0.5's ORDER BY comparator mixes value order (numbers, dates) with lexical order
#: (other literals), which is not transitive; Rust's sort detects it and panics (docs/).
_SORT_PANIC = b"does not correctly implement a total order"
_ALLOCATION = (b"memory allocation of", b"MemoryError", b"out of memory")
_STACK = b"has overflowed its stack"


def explain(status: int, tail: bytes, *, memory: int = 0) -> PalmyraError:
    """The error to give the client of a worker that ended with ``status`` (``os.waitpid``)."""
    if _SORT_PANIC in tail:
        return QueryError(
            "the engine stopped while sorting: ORDER BY compared values of different kinds "
            "(numbers or dates with other literals) in an order that is not consistent, a known "
            "Oxigraph 0.5 bug (docs/engine-bugs.md); order by STR(...) or by one kind of value"
        )
    if any(marker in tail for marker in _ALLOCATION):
        cap = f" of {memory // 2**20} MB" if memory else ""
        return WorkerError(
            f"the query needed more memory than the cap{cap} per query (--query-memory) "
            "and was stopped"
        )
    if _STACK in tail or _signal(status) == signal.SIGSEGV:
        return WorkerError(
            "the query worker crashed (stack overflow or segmentation fault) while evaluating "
            "the query; it was not answered"
        )
    return WorkerError(f"the query worker {_ending(status)}; the query was not answered")


def _signal(status: int) -> int | None:
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


def _ending(status: int) -> str:
    number = _signal(status)
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return f"died of signal {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


def stopped(timeout: float) -> str:
    """Why a query was stopped at the time budget."""
    return f"the query ran past the time budget of {timeout:g} s and was stopped"


def all_busy(workers: int, timeout: float) -> str:
    """Why a query that waited for a worker was refused."""
    return f"all {workers} query workers stayed busy for {timeout:g} s; try again"
