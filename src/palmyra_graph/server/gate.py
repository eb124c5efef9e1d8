"""The connection gate: an HTTP/1.1 front on the public port, in front of granian on a Unix socket.

granian alone let hostile connections lock everyone out (issue 17 items 6–8): with 1,000 that
connect and send nothing, or send a head that never ends, or idle after a request, a new client
waited 7–10 s or for good (it holds a permit per connection, and its header timeout starts at
the first byte); it has no per-address limit and no idle timeout, and it cut a chunked body at
the limit and let the app evaluate the cut. The gate holds connections itself, at the cost of a
few kilobytes each, and only a complete, checked request reaches granian.

What it does (asyncio Protocols, standard library only):

- limits: at most ``max_connections`` at once (503 past it) and ``max_per_address`` from one
  peer address (429; an IPv6 peer counts by its /64), both answered with ``Retry-After`` and
  closed; the soft RLIMIT_NOFILE is raised to the hard one at start, and ``max_connections``
  lowered to fit if it must be;
- timeouts: a request head (request line and headers, RFC 9112 §2–§5) must arrive whole within
  ``header_timeout`` of its first byte (408); a connection on which nothing moves either way for
  ``idle_timeout`` while the gate is not waiting for the server is closed: an idle keep-alive
  connection, one that connected and sent nothing, one that stopped mid-body, one whose client
  stopped reading its answer;
- sizes: a request line over ``max_head_bytes`` is 414 (say POST instead), a head over it 431;
  ``Content-Length`` over ``max_body_bytes`` is 413 before any of the body is read; a chunked
  body (RFC 9112 §7.1) is decoded here, counted, and sent on with a ``Content-Length`` only once
  whole: over the limit it is 413 and the server never sees the request, so a cut body is never
  evaluated;
- framing: a head with bare LF line ends, obs-fold, a space before a colon, no Host (HTTP/1.1)
  or two, both Content-Length and Transfer-Encoding, or two different lengths is 400; a transfer
  coding other than chunked is 501. granian parses only what the gate has already parsed;
- per request, the head goes on with ``X-Palmyra-Client: <address>`` (a client's own is
  dropped, spelt with hyphens or underscores, which WSGI reads alike): the peer's address, or
  with ``trust_proxy`` the LAST entry of ``X-Forwarded-For``, the one the operator's own proxy
  appended (werkzeug ProxyFix's ``x_for=1``: the first hop as seen from the server; earlier
  entries are the client's to forge). With ``trust_proxy`` every connection comes from the
  proxy, so the per-address cap does not apply;
- relay: responses are relayed raw; the gate only follows their framing (RFC 9112 §6.3) to know
  when each ends. Keep-alive and pipelining work (at most ``max_pipelined`` requests ahead of
  their answers); reading stops on one side while the other's write buffer is over its
  high-water mark, so a slow reader of a huge result holds a bounded amount of memory;
- one upstream connection per client connection, opened when its first request head is complete
  and closed after ``upstream_idle_timeout`` without a request, so idle clients hold no
  connection (nor granian permit) upstream;
- everything the gate answers itself (400, 408, 413, 414, 429, 431, 501, 502, 503) is
  ``text/plain; charset=utf-8`` saying what and the limit, with
  ``Access-Control-Allow-Origin: *``, ``X-Content-Type-Options: nosniff`` and
  ``Connection: close``;
- SIGTERM or SIGINT: stop accepting, let requests in flight finish within ``shutdown_timeout``,
  exit 0.

Memory: per connection at most one head (``max_head_bytes``), one read (256 KiB), the write
buffers' high-water marks and, only while a chunked body arrives, that body (``max_body_bytes``);
chunked bodies together hold at most ``max_chunked_bytes`` (a new one past it is 503).

Integration (for ``serve``): bind the public socket in ``serve``, start granian on a private
Unix socket (``Granian(..., uds=Path(private_dir) / "granian.sock")``), then the gate as a
child, and close ``serve``'s own copy of the socket so that it closes when the gate stops::

    listen = socket.create_server((host, port), backlog=socket.SOMAXCONN)
    gate = subprocess.Popen(
        [sys.executable, "-m", "palmyra_graph.server.gate", "--listen-fd", str(listen.fileno()),
         "--upstream", str(uds), *gate_arguments(settings)],
        pass_fds=[listen.fileno()],
    )
    listen.close()

``palmyra_graph.testing.GateProcess`` does exactly this. The child dies with its parent
(``sandbox.die_with_parent``); SIGTERM stops it (exit 0). Each request reaches the app with
``X-Palmyra-Client`` (``REMOTE_ADDR`` is empty on a Unix socket; granian gives SERVER_NAME as
the socket's path). ``serve`` should set ``PALMYRA_SERVER_URL`` to ``app.server_url(host,
port)``, since nothing is built from the Host header any more. granian's limits then guard only
the Unix socket: its backpressure (per worker) and backlog should allow ``max_connections``
busy clients, as granian holds a permit per open connection (idle ones are released by the
gate); its buffer should exceed ``max_head_bytes`` by a little (the gate adds a header or two).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ipaddress
import resource
import signal
import socket
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from palmyra_graph.server.http1 import (
    MAX_CHUNK_LINE,
    ChunkedBody,
    Refusal,
    RequestHead,
    field_value,
    head_too_large,
    parse_head,
    plain_answer,
)


@dataclass(frozen=True)
class GateSettings:
    """Every limit of the gate, with its default. Times in seconds, sizes in bytes."""

    #: Client connections held at once (503 past it).
    max_connections: int = 4096
    #: Client connections from one address at once (429 past it); not with ``trust_proxy``.
    max_per_address: int = 64
    #: A request head must arrive whole within this, counted from its first byte (408).
    header_timeout: float = 10.0
    #: A connection on which nothing moves either way, the server owing nothing, is closed.
    idle_timeout: float = 15.0
    #: Request line plus headers (414 for a request line alone over it, else 431).
    max_head_bytes: int = 64 * 1024
    #: Request body, by Content-Length or decoded chunked (413 past it).
    max_body_bytes: int = 1_000_000
    #: Chunked bodies are held until whole: at most this much for all connections together,
    #: each counted at ``max_body_bytes`` (503 past it: send a Content-Length).
    max_chunked_bytes: int = 64 * 1024 * 1024
    #: Take the client's address from the last X-Forwarded-For entry (behind your own proxy).
    trust_proxy: bool = False
    #: Requests a client may send ahead of their answers; reading pauses past it.
    max_pipelined: int = 16
    #: An upstream connection with no request for this long is closed (reopened on the next).
    upstream_idle_timeout: float = 1.0
    #: The ``Retry-After`` of 429 and 503, in seconds.
    retry_after: int = 5
    #: On SIGTERM, how long requests in flight may take to finish.
    shutdown_timeout: float = 5.0


def gate_arguments(settings: GateSettings) -> list[str]:
    """The options of ``python -m palmyra_graph.server.gate`` that give ``settings``."""
    arguments = []
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if value == field.default:
            continue
        option = "--" + field.name.replace("_", "-")
        arguments += [option] if value is True else [] if value is False else [option, str(value)]
    return arguments


#: Seconds a connection the gate answered itself stays open to read what the client still
#: sends: closing with unread data makes the kernel send a reset, which can destroy the answer.
LINGER = 1.0
#: Write-buffer marks of both sides: reading from the other side pauses above HIGH_WATER.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
MAX_RESPONSE_HEAD = 256 * 1024  # granian's are a few hundred bytes


# ---------------------------------------------------------------- the gate and its connections


def address_key(address: str) -> str:
    """What the per-address cap counts for a peer: an IPv4 address, or an IPv6 address's /64
    (one subscriber's usual allocation, so one client cannot open 64 connections per address
    of its prefix)."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    except ValueError:
        return address


class Gate:
    """The connections of one listening socket, their limits and their clock."""

    def __init__(self, settings: GateSettings, upstream: str) -> None:
        self.settings = settings
        self.upstream = upstream
        self.loop = asyncio.get_running_loop()
        self.connections: set[ClientConnection] = set()
        self.lingering: set[ClientConnection] = set()
        self.per_address: dict[str, int] = {}
        #: Bytes reserved by the chunked bodies being read, ``max_body_bytes`` each.
        self.chunked_reserved = 0
        self.draining = False
        self._tick = min(0.5, settings.header_timeout / 4, settings.idle_timeout / 4)
        self._sweeper = self.loop.call_later(self._tick, self._sweep)

    def admit(self, connection: ClientConnection) -> Refusal | None:
        """Count a new connection in, or say why it is refused."""
        settings = self.settings
        if len(self.connections) >= settings.max_connections:
            return Refusal(
                503, f"the server holds its limit of {settings.max_connections} connections"
            )
        if not settings.trust_proxy:
            key = connection.address_key = address_key(connection.address)
            held = self.per_address.get(key, 0)
            if held >= settings.max_per_address:
                return Refusal(
                    429,
                    f"too many connections from {key}: at most {settings.max_per_address} at once",
                )
            self.per_address[key] = held + 1
        self.connections.add(connection)
        return None

    def reserve_chunked(self) -> None:
        """Hold room for one more chunked body, or refuse it (503).

        Raises:
            Refusal: all the room for chunked bodies is taken.
        """
        size, cap = self.settings.max_body_bytes, self.settings.max_chunked_bytes
        if self.chunked_reserved + size > cap:
            raise Refusal(
                503,
                f"too many chunked request bodies at once (at most {cap // size} of up to "
                f"{size} bytes); send the body with a Content-Length",
            )
        self.chunked_reserved += size

    def release_chunked(self) -> None:
        self.chunked_reserved -= self.settings.max_body_bytes

    def release(self, connection: ClientConnection) -> None:
        """Count a closed connection out."""
        connection.drop_chunks()
        self.lingering.discard(connection)
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        if not self.settings.trust_proxy:
            key = connection.address_key
            held = self.per_address[key] - 1
            if held:
                self.per_address[key] = held
            else:
                del self.per_address[key]

    def _sweep(self) -> None:
        """Apply the timeouts: one timer for the gate, not one per connection."""
        now = self.loop.time()
        for connection in list(self.connections) + list(self.lingering):
            connection.check(now)
        self._sweeper = self.loop.call_later(self._tick, self._sweep)

    async def drain(self) -> None:
        """Close idle connections, let the others finish their requests, then close them."""
        self.draining = True
        for connection in list(self.connections):
            connection.drain()
        deadline = self.loop.time() + self.settings.shutdown_timeout
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections) + list(self.lingering):
            connection.abort()
        self._sweeper.cancel()


# Why reading from a client is paused (several can hold at once).
_CONNECTING, _UPSTREAM_FULL, _PIPELINE, _HOLD = 1, 2, 4, 8
# What the client is sending.
_HEAD, _BODY, _CHUNKED, _DONE = range(4)


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
            self._feed(data)
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

    def _feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end:
            if self._pauses:
                self._pending = data[pos:]
                return
            if self._state == _HEAD:
                pos = self._read_head(data, pos)
            elif self._state == _BODY:
                take = min(self._body_left, end - pos)
                self._send_upstream(data[pos : pos + take] if pos or take < end else data)
                self._body_left -= take
                pos += take
                if not self._body_left:
                    self._request_sent()
            elif self._state == _CHUNKED:
                assert self._chunks is not None
                pos, whole = self._chunks.feed(data, pos)
                if whole:
                    self._forward_chunked()
            else:
                return  # after a last request: nothing more is read

    def _read_head(self, data: bytes, pos: int) -> int:
        """Take a head from ``data[pos:]`` (at most ``max_head_bytes`` with its final CRLF CRLF);
        returns where the head ended, or ``len(data)`` while it is incomplete."""
        limit = self.settings.max_head_bytes
        if not self._head_started:
            self._head_started = self.gate.loop.time()
        if not self._head:
            # Empty lines before a request line are ignored (RFC 9112 §2.2); they count
            # toward the header timeout, so a trickle of them does not hold a connection.
            if data.startswith((b"\r", b"\n"), pos):
                pos = len(data) - len(data[pos:].lstrip(b"\r\n"))
            end = data.find(b"\r\n\r\n", pos, pos + limit)
            if end >= 0:  # the usual case: a whole head in one read
                self._on_head(data[pos : end + 4])
                return end + 4
        search_from = max(0, len(self._head) - 3)
        before = len(self._head)
        self._head += data[pos:]
        end = self._head.find(b"\r\n\r\n", search_from, limit)
        if end >= 0:
            head = bytes(self._head[: end + 4])
            self._head.clear()
            self._on_head(head)
            return pos + end + 4 - before
        if len(self._head) > limit:
            raise head_too_large(self._head, limit)
        if self._head.find(b"\n\n", max(0, search_from - 1)) >= 0:
            raise Refusal(400, "malformed request head: lines must end in CRLF (RFC 9112 §2.2)")
        return len(data)

    def _on_head(self, raw: bytes) -> None:
        self._head_started = 0.0
        request = parse_head(raw)
        limit = self.settings.max_body_bytes
        if request.content_length > limit:
            raise Refusal(
                413,
                f"request body of {request.content_length} bytes (Content-Length) over the "
                f"limit of {limit} bytes",
            )
        if self.gate.draining:
            self._state = _DONE
            self._finish_if_done()
            return
        self._request = request
        if self.upstream is None and self._connecting is None:
            self._connect()
        if request.chunked:
            self.gate.reserve_chunked()
            self._state = _CHUNKED
            self._chunks = ChunkedBody(limit, self.settings.max_head_bytes)
            if request.expect_continue and not self.inflight:
                self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._send_upstream(request.forward(self._client_address(request)))
        self.inflight.append(request.method == b"HEAD")
        self._body_left = request.content_length
        if self._body_left:
            self._state = _BODY
        else:
            self._request_sent()

    def _forward_chunked(self) -> None:
        request, chunks = self._request, self._chunks
        assert request is not None and chunks is not None
        head = request.forward(self._client_address(request), content_length=len(chunks.body))
        self._send_upstream(head + bytes(chunks.body))
        self.drop_chunks()
        self.inflight.append(request.method == b"HEAD")
        self._request_sent()

    def drop_chunks(self) -> None:
        """Forget a chunked body being read, and give its room back."""
        if self._chunks is not None:
            self._chunks = None
            self.gate.release_chunked()

    def _request_sent(self) -> None:
        """A whole request went upstream: read the next, or stop after a last one."""
        assert self._request is not None
        self._state = _DONE if self._request.last or self.gate.draining else _HEAD
        self._request = None
        if self._state == _DONE:
            self._pause(_HOLD)
        elif len(self.inflight) >= self.settings.max_pipelined:
            self._pause(_PIPELINE)

    def _client_address(self, request: RequestHead) -> bytes:
        if self.settings.trust_proxy and request.forwarded_for:
            last = b",".join(request.forwarded_for).rsplit(b",", 1)[-1].strip()
            try:
                return str(ipaddress.ip_address(last.decode("ascii"))).encode()
            except ValueError:
                pass  # not an address: the proxy's own is the best we know
        return self.address.encode()

    # -- the upstream connection

    def _connect(self) -> None:
        self._pause(_CONNECTING)
        self._connecting = self.gate.loop.create_task(self._open_upstream())

    async def _open_upstream(self) -> None:
        try:
            _, upstream = await self.gate.loop.create_unix_connection(
                lambda: UpstreamConnection(self), self.gate.upstream
            )
        except OSError:
            self._connecting = None
            self.inflight.clear()
            self._refuse(Refusal(503, "the server behind the gate is not answering"))
            return
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
        if len(self.inflight) < self.settings.max_pipelined:
            self._resume(_PIPELINE)
        self._finish_if_done()

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
        self.drop_chunks()
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
                self._feed(pending)
            except Refusal as refusal:
                self._refuse(refusal)


# Where an answer is, as the upstream sends it.
_R_HEAD, _R_LENGTH, _R_CHUNK_LINE, _R_CHUNK_DATA, _R_TRAILER, _R_UNTIL_CLOSE = range(6)


class UpstreamConnection(asyncio.Protocol):
    """The connection to granian for one client: answers relayed raw, their ends followed
    (RFC 9112 §6.3) so the client side knows when each is complete."""

    def __init__(self, client: ClientConnection) -> None:
        self.client: ClientConnection | None = client
        self.transport: asyncio.Transport | None = None
        self._state = _R_HEAD
        self._head = bytearray()
        self._line = bytearray()
        self._left = 0
        self._close_after = False
        self._started = False  # some of the current answer went to the client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER, low=LOW_WATER)
        if self.client is not None and self.client._write_paused:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:
            return
        client.relay(data)
        self._started = True
        try:
            self._scan(data)
        except ValueError:  # a malformed answer from our own server: end both sides
            client.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        client, self.client = self.client, None
        if client is None or client.upstream is not self:
            return
        if self._state == _R_UNTIL_CLOSE:
            client.response_done(close=True)
        else:
            client.upstream_lost(answering=self._started)

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.upstream_paused(True)

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.upstream_paused(False)

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def pause_reading(self) -> None:
        if self.transport is not None and self.transport.is_reading():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def detach(self) -> None:
        """Stop relaying to the client, and close."""
        self.client = None
        self.close()

    def close(self) -> None:
        self.client = None
        if self.transport is not None:
            self.transport.close()

    # -- following the answers' framing

    def _scan(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end and self.client is not None:
            state = self._state
            if state in (_R_LENGTH, _R_CHUNK_DATA):
                take = min(self._left, end - pos)
                self._left -= take
                pos += take
                if not self._left:
                    if state == _R_LENGTH:
                        self._done()
                    else:
                        self._state = _R_CHUNK_LINE
            elif state == _R_HEAD:
                pos = self._scan_head(data, pos)
            elif state == _R_UNTIL_CLOSE:
                return
            else:
                pos = self._scan_line(data, pos)

    def _scan_head(self, data: bytes, pos: int) -> int:
        if not self._head:
            end = data.find(b"\r\n\r\n", pos)
            if end >= 0:
                self._on_head(data[pos : end + 4])
                return end + 4
        search_from = max(0, len(self._head) - 3)
        before = len(self._head)
        self._head += data[pos:]
        end = self._head.find(b"\r\n\r\n", search_from)
        if end < 0:
            if len(self._head) > MAX_RESPONSE_HEAD:
                raise ValueError("response head too large")
            return len(data)
        head = bytes(self._head[: end + 4])
        self._head.clear()
        self._on_head(head)
        return pos + end + 4 - before

    def _on_head(self, head: bytes) -> None:
        status = int(head[9:12])
        fields = head.lower()
        if 100 <= status < 200 and status != 101:
            return  # interim (100 Continue): the answer itself follows
        # The cheap test first: most answers say neither "close" nor "chunked" anywhere.
        self._close_after = b"close" in fields and b"close" in field_value(fields, b"connection")
        assert self.client is not None
        no_body = status in (204, 304) or (bool(self.client.inflight) and self.client.inflight[0])
        if status == 101:
            self._state = _R_UNTIL_CLOSE  # a tunnel (no protocol is offered): relayed as is
        elif no_body:
            self._done()
        elif b"chunked" in fields and b"chunked" in field_value(fields, b"transfer-encoding"):
            self._state = _R_CHUNK_LINE
        else:
            length = field_value(fields, b"content-length")
            if length:
                self._left = int(length)
                self._state = _R_LENGTH
                if not self._left:
                    self._done()
            else:
                self._state = _R_UNTIL_CLOSE

    def _scan_line(self, data: bytes, pos: int) -> int:
        newline = data.find(b"\n", pos)
        if newline < 0:
            self._line += data[pos:]
            if len(self._line) > MAX_CHUNK_LINE:
                raise ValueError("chunk line too long")
            return len(data)
        self._line += data[pos:newline]
        line = bytes(self._line).rstrip(b"\r")
        self._line.clear()
        if self._state == _R_TRAILER:
            if not line:
                self._done()
        else:
            size = int(line.split(b";", 1)[0], 16)
            if size:
                self._left = size + 2  # the data and its CRLF
                self._state = _R_CHUNK_DATA
            else:
                self._state = _R_TRAILER
        return newline + 1

    def _done(self) -> None:
        self._state = _R_HEAD
        self._started = False
        if self.client is not None:
            self.client.response_done(close=self._close_after)


# ---------------------------------------------------------------- running it


def raise_file_limit(settings: GateSettings) -> GateSettings:
    """Raise the soft RLIMIT_NOFILE to the hard one; lower ``max_connections`` to fit in it
    (two descriptors per connection, client and upstream, and some to spare)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    except (ValueError, OSError):  # an unlimited hard limit is more than the kernel allows
        pass
    fits = (soft - 64) // 2
    if fits < settings.max_connections:
        sys.stderr.write(
            f"palmyra-graph gate: {hard} file descriptors allow {fits} connections, "
            f"not {settings.max_connections}\n"
        )
        return dataclasses.replace(settings, max_connections=max(fits, 1))
    return settings


def run(settings: GateSettings, listen: socket.socket, upstream: str) -> None:
    """Serve on the listening socket ``listen``, forwarding to the Unix socket ``upstream``.

    Blocks until SIGTERM or SIGINT; then stops accepting, lets requests in flight finish for up
    to ``settings.shutdown_timeout`` s and returns. Call it in the main thread (signals).

    Raises:
        OSError: ``listen`` is not a listening stream socket.
    """
    settings = raise_file_limit(settings)
    asyncio.run(_serve(settings, listen, upstream))


async def _serve(settings: GateSettings, listen: socket.socket, upstream: str) -> None:
    loop = asyncio.get_running_loop()
    gate = Gate(settings, upstream)
    server = await loop.create_server(
        lambda: ClientConnection(gate), sock=listen, backlog=socket.SOMAXCONN
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    address = listen.getsockname()
    sys.stderr.write(
        f"palmyra-graph gate: on {address}, to {upstream}: at most {settings.max_connections} "
        f"connections, {settings.max_per_address} per address\n"
    )
    await stop.wait()
    server.close()
    await gate.drain()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m palmyra_graph.server.gate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--listen-fd", type=int, required=True, help="a bound, listening socket")
    parser.add_argument("--upstream", required=True, help="the Unix socket granian listens on")
    for field in dataclasses.fields(GateSettings):
        option = "--" + field.name.replace("_", "-")
        if field.default is False:
            parser.add_argument(option, action="store_true")
        else:
            kind = type(field.default)
            parser.add_argument(option, type=kind, default=field.default, metavar=kind.__name__)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The child entry: ``python -m palmyra_graph.server.gate --listen-fd N --upstream PATH``.

    Dies with its parent; exits 0 after SIGTERM or SIGINT, 2 on bad arguments.
    """
    from palmyra_graph.workers.sandbox import die_with_parent

    die_with_parent()
    args = _parser().parse_args(argv)
    settings = GateSettings(
        **{field.name: getattr(args, field.name) for field in dataclasses.fields(GateSettings)}
    )
    run(settings, socket.socket(fileno=args.listen_fd), args.upstream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
