"""Reading a client's requests: each head parsed and checked, each body counted or decoded,
then the request sent on to granian with the client's address. Functions of the
:class:`palmyra_graph.server.client.ClientConnection` whose request side they are."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from palmyra_graph.server.http1 import ChunkedBody, Refusal, head_too_large, parse_head
from palmyra_graph.server.states import _BODY, _CHUNKED, _DONE, _HEAD, _HOLD, _PIPELINE

if TYPE_CHECKING:
    from palmyra_graph.server.client import ClientConnection
    from palmyra_graph.server.http1 import RequestHead


def feed(conn: ClientConnection, data: bytes) -> None:
    pos, end = 0, len(data)
    while pos < end:
        if conn._pauses:
            conn._pending = data[pos:]
            return
        if conn._state == _HEAD:
            pos = read_head(conn, data, pos)
        elif conn._state == _BODY:
            take = min(conn._body_left, end - pos)
            conn._send_upstream(data[pos : pos + take] if pos or take < end else data)
            conn._body_left -= take
            pos += take
            if not conn._body_left:
                request_sent(conn)
        elif conn._state == _CHUNKED:
            assert conn._chunks is not None
            pos, whole = conn._chunks.feed(data, pos)
            if whole:
                forward_chunked(conn)
        else:
            return  # after a last request: nothing more is read


def read_head(conn: ClientConnection, data: bytes, pos: int) -> int:
    """Take a head from ``data[pos:]`` (at most ``max_head_bytes`` with its final CRLF CRLF);
    returns where the head ended, or ``len(data)`` while it is incomplete."""
    limit = conn.settings.max_head_bytes
    if not conn._head_started:
        conn._head_started = conn.gate.loop.time()
    if not conn._head:
        # Empty lines before a request line are ignored (RFC 9112 §2.2); they count
        # toward the header timeout, so a trickle of them does not hold a connection.
        if data.startswith((b"\r", b"\n"), pos):
            pos = len(data) - len(data[pos:].lstrip(b"\r\n"))
        end = data.find(b"\r\n\r\n", pos, pos + limit)
        if end >= 0:  # the usual case: a whole head in one read
            on_head(conn, data[pos : end + 4])
            return end + 4
    search_from = max(0, len(conn._head) - 3)
    before = len(conn._head)
    conn._head += data[pos:]
    end = conn._head.find(b"\r\n\r\n", search_from, limit)
    if end >= 0:
        head = bytes(conn._head[: end + 4])
        conn._head.clear()
        on_head(conn, head)
        return pos + end + 4 - before
    if len(conn._head) > limit:
        raise head_too_large(conn._head, limit)
    if conn._head.find(b"\n\n", max(0, search_from - 1)) >= 0:
        raise Refusal(400, "malformed request head: lines must end in CRLF (RFC 9112 §2.2)")
    return len(data)


def on_head(conn: ClientConnection, raw: bytes) -> None:
    conn._head_started = 0.0
    request = parse_head(raw)
    limit = conn.settings.max_body_bytes
    if request.content_length > limit:
        raise Refusal(
            413,
            f"request body of {request.content_length} bytes (Content-Length) over the "
            f"limit of {limit} bytes",
        )
    if conn.gate.draining:
        conn._state = _DONE
        conn._finish_if_done()
        return
    conn._request = request
    if conn.upstream is None and conn._connecting is None:
        conn._connect()
    if request.chunked:
        conn.gate.reserve_chunked()
        conn._state = _CHUNKED
        conn._chunks = ChunkedBody(limit, conn.settings.max_head_bytes)
        if request.expect_continue and not conn.inflight:
            conn._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return
    conn._send_upstream(request.forward(client_address(conn, request)))
    conn.inflight.append(request.method == b"HEAD")
    conn._body_left = request.content_length
    if conn._body_left:
        conn._state = _BODY
    else:
        request_sent(conn)


def forward_chunked(conn: ClientConnection) -> None:
    request, chunks = conn._request, conn._chunks
    assert request is not None and chunks is not None
    head = request.forward(client_address(conn, request), content_length=len(chunks.body))
    conn._send_upstream(head + bytes(chunks.body))
    drop_chunks(conn)
    conn.inflight.append(request.method == b"HEAD")
    request_sent(conn)


def drop_chunks(conn: ClientConnection) -> None:
    """Forget a chunked body being read, and give its room back."""
    if conn._chunks is not None:
        conn._chunks = None
        conn.gate.release_chunked()


def request_sent(conn: ClientConnection) -> None:
    """A whole request went upstream: read the next, or stop after a last one."""
    assert conn._request is not None
    conn._state = _DONE if conn._request.last or conn.gate.draining else _HEAD
    conn._request = None
    if conn._state == _DONE:
        conn._pause(_HOLD)
    elif len(conn.inflight) >= conn.settings.max_pipelined:
        conn._pause(_PIPELINE)


def client_address(conn: ClientConnection, request: RequestHead) -> bytes:
    if conn.settings.trust_proxy and request.forwarded_for:
        last = b",".join(request.forwarded_for).rsplit(b",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last.decode("ascii"))).encode()
        except ValueError:
            pass  # not an address: the proxy's own is the best we know
    return conn.address.encode()
