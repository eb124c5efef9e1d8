"""One client connection of the gate: its limits, its timeouts, relaying the answers granian
gives, and how it ends (see :mod:`palmyra_graph.server.gate`)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from palmyra_graph.server import reading
from palmyra_graph.server.http1 import (
    HIGH_WATER,
    LINGER,
    LOW_WATER,
    ChunkedBody,
    Refusal,
    RequestHead,
    plain_answer,
)
from palmyra_graph.server.states import (
    _BODY,
    _CONNECTING,
    _DONE,
    _HEAD,
    _HOLD,
    _PIPELINE,
    _UPSTREAM_FULL,
)
from palmyra_graph.server.upstream import UpstreamConnection

#: Seconds between attempts to reach server processes that are not accepting yet.
UPSTREAM_RETRY = 0.05

if TYPE_CHECKING:
    from palmyra_graph.server.gate import Gate


class ClientConnection(asyncio.Protocol):
    """One client: its requests parsed, checked and forwarded; the answers relayed back."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.settings = gate.settings
        self.transport: asyncio.Transport | None = None
        self.address = "unknown"
        #: What the per-address cap counts: the address, or its /64 for IPv6.
        self.address_key = ""
        self.upstream: UpstreamConnection | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []  # for the upstream, while it connects
        #: Per request forwarded and not yet answered: whether it was a HEAD.
        self.inflight: deque[bool] = deque()
        self._state = _HEAD
        self._head = bytearray()
        self._head_started = 0.0
        self._body_left = 0
        self._request: RequestHead | None = None
        self._chunks: ChunkedBody | None = None
        self._pending = b""
        self._pauses = 0
        self._write_paused = False
        self._error: bytes | None = None  # the gate's answer, once earlier answers are out
        self._linger_until = 0.0
        self._client_eof = False
        self.last_active = gate.loop.time()

    # -- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER, low=LOW_WATER)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.address = str(peer[0]).removeprefix("::ffff:")  # IPv4 on a dual-stack socket
        refusal = self.gate.admit(self)
        if refusal is not None:
            retry = self.settings.retry_after
            self._linger(plain_answer(refusal.status, refusal.message, retry_after=retry))

    def data_received(self, data: bytes) -> None:
        self.last_active = self.gate.loop.time()
        if self._linger_until:
            return  # answered and closing: what still comes is read and dropped
        if self._pending:
            data, self._pending = self._pending + data, b""
        try:
            reading.feed(self, data)
        except Refusal as refusal:
            self._refuse(refusal)

    def eof_received(self) -> bool:
        self._client_eof = True
        # A client that half-closes after its requests still gets their answers.
        return bool(self.inflight) and self._state in (_HEAD, _DONE) and not self._head

    def connection_lost(self, exc: Exception | None) -> None:
        self.gate.release(self)
        self._drop_upstream()

    def pause_writing(self) -> None:
        self._write_paused = True
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self.last_active = self.gate.loop.time()
        if self.upstream is not None:
            self.upstream.resume_reading()

    # -- reading requests

    # -- the upstream connection

    def _connect(self) -> None:
        self._pause(_CONNECTING)
        self._connecting = self.gate.loop.create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        """Connect to the server processes; while they start (no socket yet, or a full
        backlog) the request waits for them, up to ``upstream_wait`` seconds, then 503."""
        deadline = self.gate.loop.time() + self.gate.settings.upstream_wait
        while True:
            try:
                _, upstream = await self.gate.loop.create_unix_connection(
                    lambda: UpstreamConnection(self), self.gate.upstream
                )
                break
            except OSError:
                if self.gate.loop.time() >= deadline:
                    self._connecting = None
                    self.inflight.clear()
                    self._refuse(Refusal(503, "the server behind the gate is not answering"))
                    return
                await asyncio.sleep(UPSTREAM_RETRY)
        self._connecting = None
        if self.transport is None or self.transport.is_closing():
            upstream.close()
            return
        self.upstream = upstream
        for data in self._outbox:
            upstream.write(data)
        self._outbox.clear()
        self._resume(_CONNECTING)

    def _send_upstream(self, data: bytes) -> None:
        if self.upstream is not None:
            self.upstream.write(data)
            return
        if self._connecting is None:  # the upstream closed an idle connection meanwhile
            self._connect()
        self._outbox.append(data)

    def _drop_upstream(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        if self.upstream is not None:
            upstream, self.upstream = self.upstream, None
            upstream.close()

    def upstream_paused(self, paused: bool) -> None:
        """The upstream's write buffer went over (or back under) its high-water mark."""
        if paused:
            self._pause(_UPSTREAM_FULL)
        else:
            self._resume(_UPSTREAM_FULL)

    def relay(self, data: bytes) -> None:
        """Bytes of an answer, sent to the client as they came."""
        self.last_active = self.gate.loop.time()
        self._write(data)

    def response_done(self, *, close: bool) -> None:
        """The upstream finished an answer; ``close``: the connection ends with it."""
        if self.inflight:
            self.inflight.popleft()
        if close:
            if self.upstream is not None:
                self.upstream.detach()
                self.upstream = None
            if self.inflight or self._error is None:
                self._close()
                return
        elif self._upstream_used_up():
            self._drop_upstream()  # the next request connects anew, to any server process
        if len(self.inflight) < self.settings.max_pipelined:
            self._resume(_PIPELINE)
        self._finish_if_done()

    def _upstream_used_up(self) -> bool:
        """An upstream connection with nothing owed that has carried ``upstream_requests``
        answers: granian's server processes share one listening socket and a connection stays
        with the one that accepted it, so kept connections would leave the others idle."""
        upstream = self.upstream
        return (
            upstream is not None
            and not self.inflight
            and upstream.answers >= self.settings.upstream_requests
        )

    def upstream_lost(self, *, answering: bool) -> None:
        """The upstream closed without ending the answers owed (``answering``: mid-answer)."""
        self.upstream = None
        if not self.inflight:
            return  # it closed an idle connection: the next request opens another
        if answering:
            self._close()
        else:
            self.inflight.clear()
            self._refuse(Refusal(502, "the server behind the gate closed without answering"))

    # -- ending

    def _refuse(self, refusal: Refusal) -> None:
        retry = self.settings.retry_after if refusal.status == 503 else None
        answer = plain_answer(refusal.status, refusal.message, retry_after=retry)
        self._state = _DONE
        self._request = None
        reading.drop_chunks(self)
        self._head.clear()
        self._head_started = 0.0
        if self.inflight:  # earlier requests are answered first, in order
            self._error = answer
            self._pause(_HOLD)
        else:
            self._linger(answer)

    def _linger(self, answer: bytes) -> None:
        """Send the gate's answer, then read and drop input for up to LINGER s, and close."""
        assert self.transport is not None
        self._drop_upstream()
        self.gate.release(self)
        self.transport.write(answer)
        # Nothing more will come, or too many linger already (a flood past the caps).
        if self._client_eof or len(self.gate.lingering) >= self.settings.max_connections:
            self.transport.close()
            return
        try:
            self.transport.write_eof()
        except OSError:  # the client is gone already (it read the answer and reset)
            self.abort()
            return
        self.gate.lingering.add(self)
        self._linger_until = self.gate.loop.time() + LINGER
        self._pauses = 0
        self.transport.resume_reading()

    def _finish_if_done(self) -> None:
        if self.inflight or self._connecting is not None:
            return
        if self._error is not None:
            self._linger(self._error)
        elif self._state == _DONE or (self._client_eof and not self._head):
            self._close()

    def drain(self) -> None:
        """Shutting down: close now if no request is in progress, else once it is answered."""
        if self._state == _HEAD and not self._head and not self.inflight:
            self._close()
        elif self._state == _HEAD:
            self._state = _DONE
            self._pause(_HOLD)
            self._finish_if_done()

    def check(self, now: float) -> None:
        """The timeouts, applied by the gate's sweep."""
        settings = self.settings
        if self._linger_until:
            if now > self._linger_until:
                self.abort()
            return
        if self._head_started and now - self._head_started > settings.header_timeout:
            if self._head:
                seconds = f"{settings.header_timeout:g}"
                self._refuse(Refusal(408, f"request head not received whole within {seconds} s"))
            else:
                self._close()
            return
        quiet = now - self.last_active
        if self._waiting_for_server():
            return
        if quiet > settings.idle_timeout and self._write_paused:
            self.abort()  # its client stopped reading: what is buffered would never go out
        elif quiet > settings.idle_timeout:
            self._close()
        elif (
            self.upstream is not None
            and not self.inflight
            and quiet > settings.upstream_idle_timeout
        ):
            self._drop_upstream()

    def _waiting_for_server(self) -> bool:
        """Whether the gate waits for the server (then nothing moving is not the client's
        doing): it connects upstream, or does not take the body, or owes an answer that the
        client reads while it sends no body."""
        if self._connecting is not None or self._pauses & _UPSTREAM_FULL:
            return True
        return bool(self.inflight) and not self._write_paused and self._state != _BODY

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _close(self) -> None:
        self._drop_upstream()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping whatever is buffered."""
        self._drop_upstream()
        if self.transport is not None:
            self.transport.abort()

    def _pause(self, reason: int) -> None:
        if not self._pauses and self.transport is not None:
            self.transport.pause_reading()
        self._pauses |= reason

    def _resume(self, reason: int) -> None:
        if not self._pauses & reason:
            return
        self._pauses &= ~reason
        if self._pauses or self.transport is None or self.transport.is_closing():
            return
        self.transport.resume_reading()
        if self._pending:
            pending, self._pending = self._pending, b""
            try:
                reading.feed(self, pending)
            except Refusal as refusal:
                self._refuse(refusal)
