"""The broker's event loop: timers fire for what still exists, and keep nothing alive."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

from palmyra_graph.workers.loop import EventLoop


class _Job:
    """Something a timer is set for (a job, a worker)."""


class _Recording(EventLoop):
    def __init__(self) -> None:
        super().__init__()
        self.fired: list[Any] = []

    def on_timer(self, what: Any, now: float) -> None:
        self.fired.append(what)


def test_a_due_timer_fires_for_what_still_exists() -> None:
    loop = _Recording()
    try:
        job = _Job()
        loop.later(time.monotonic(), job)
        loop.turn()
        assert loop.fired == [job]
    finally:
        loop.close()


def test_a_timer_does_not_keep_a_finished_job_until_its_deadline() -> None:
    # Each query sets a timer at its deadline (30 s by default); held strongly, every job of
    # the last 30 s (its connection, its pickled query) stayed in the broker's memory.
    loop = _Recording()
    try:
        job = _Job()
        gone = weakref.ref(job)
        loop.later(time.monotonic() + 0.05, job)
        del job
        gc.collect()
        assert gone() is None
        time.sleep(0.06)
        loop.turn()
        assert loop.fired == [] and loop.timers == []
    finally:
        loop.close()
