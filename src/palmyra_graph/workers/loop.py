"""A single-threaded event loop on ``epoll``: descriptors with their handlers, timers, and a
signal that wakes it; the broker is one (forking is only safe from a single thread)."""

from __future__ import annotations

import heapq
import itertools
import os
import select
import signal
import socket
import time
import weakref
from collections.abc import Callable
from typing import Any

#: The loop wakes at least this often (to look at its parent, its timers).
TICK = 1.0


class EventLoop:
    """Handlers by descriptor, level-triggered; timers by deadline; SIGTERM and SIGINT call
    :meth:`on_stop_signal` from the loop, not from the signal handler."""

    def __init__(self) -> None:
        self.epoll = select.epoll()
        self.handlers: dict[int, Callable[[], None]] = {}
        self._stale: set[int] = set()
        self.timers: list[tuple[float, int, weakref.ref[Any]]] = []
        self._order = itertools.count()
        self._wakeup_r, self._wakeup_w = os.pipe()
        os.set_blocking(self._wakeup_w, False)
        self.watch(self._wakeup_r, select.EPOLLIN, self._woken)

    def watch(self, fd: int, events: int, handler: Callable[[], None]) -> None:
        """Call ``handler()`` whenever ``fd`` has one of ``events``."""
        self.epoll.register(fd, events)
        self.handlers[fd] = handler

    def unwatch(self, fd: int) -> None:
        """Forget ``fd`` (before it is closed)."""
        if self.handlers.pop(fd, None) is not None:
            self.epoll.unregister(fd)
            self._stale.add(fd)

    def later(self, when: float, what: Any) -> None:
        """Have :meth:`on_timer` called with ``what`` at ``when`` (``time.monotonic``), if
        it still exists then: the timer holds it weakly, so a job that ended long before its
        deadline is not kept until then (at a thousand queries a second and a 30 s budget,
        sixty thousand of them)."""
        heapq.heappush(self.timers, (when, next(self._order), weakref.ref(what)))

    def catch_stop_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def turn(self) -> None:
        """One turn: the descriptors that are ready, then the timers that are due."""
        self._stale.clear()
        for fd, _events in self.epoll.poll(self._next_timeout()):
            # A descriptor closed by an earlier event of this batch may already name a new
            # connection: its event is not the new one's (level-triggered, that one recurs).
            handler = None if fd in self._stale else self.handlers.get(fd)
            if handler is not None:
                handler()
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            what = heapq.heappop(self.timers)[2]()
            if what is not None:
                self.on_timer(what, now)

    def on_timer(self, what: Any, now: float) -> None:
        """A timer set with :meth:`later` is due."""

    def on_stop_signal(self) -> None:
        """SIGTERM or SIGINT arrived."""

    def close(self) -> None:
        """Close what the loop holds, the sockets its handlers were given included (also in
        a forked child, which keeps none of them)."""
        for handler in list(self.handlers.values()):
            conn = getattr(handler, "args", (None,))[0]
            if isinstance(conn, socket.socket):
                conn.close()
        self.handlers.clear()
        self.epoll.close()
        os.close(self._wakeup_r)
        os.close(self._wakeup_w)

    def _next_timeout(self) -> float:
        if not self.timers:
            return TICK
        return min(max(self.timers[0][0] - time.monotonic(), 0.0), TICK)

    def _on_signal(self, signum: int, frame: object) -> None:
        os.write(self._wakeup_w, b"!")

    def _woken(self) -> None:
        os.read(self._wakeup_r, 64)
        self.on_stop_signal()
