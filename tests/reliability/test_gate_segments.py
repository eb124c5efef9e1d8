"""However TCP cuts a stream, the gate forwards the same requests and ends the same answers.

A pipelined stream of requests (no body, a Content-Length body, a chunked body) is fed to the
client side in random pieces, and a stream of answers (Content-Length, chunked with trailers,
an answer to HEAD, an interim 100) to the upstream side; what goes on, and where each answer
ends, must not depend on the cuts. No server: stand-in transports.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from palmyra_graph.server.client import ClientConnection
from palmyra_graph.server.gate import Gate, GateSettings
from palmyra_graph.server.upstream import UpstreamConnection


class Recorder(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("192.0.2.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


def request(kind: int, n: int, body: bytes) -> tuple[bytes, bytes]:
    """One request as a client sends it, and as the gate must forward it."""
    client = b"X-Palmyra-Client: 192.0.2.1\r\n"
    target = b"/echo?n=%d" % n
    if kind == 0:
        head = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n"
        return head + b"\r\n", head + client + b"\r\n"
    if kind == 1:
        head = b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(body)
        return head + b"\r\n" + body, head + client + b"\r\n" + body
    head = b"POST " + target + b" HTTP/1.1\r\nHost: x\r\n"
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 3]), body[i : i + 3]) for i in range(0, len(body), 3)
    )
    sent = head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-Trailer: 1\r\n\r\n"
    return sent, head + b"Content-Length: %d\r\n" % len(body) + client + b"\r\n" + body


def cut(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


REQUESTS = st.lists(
    st.tuples(st.integers(0, 2), st.binary(min_size=1, max_size=40)), min_size=1, max_size=6
)
CUTS = st.lists(st.integers(0, 10_000), max_size=30)


@settings(max_examples=200, deadline=None)
@given(requests=REQUESTS, points=CUTS)
def test_requests_are_forwarded_the_same_however_they_are_cut(
    requests: list[tuple[int, bytes]], points: list[int]
) -> None:
    pairs = [request(kind, n, body) for n, (kind, body) in enumerate(requests)]
    stream = b"".join(sent for sent, _ in pairs)

    async def feed() -> bytes:
        gate = Gate(GateSettings(max_pipelined=100), "/nonexistent.sock")
        client = ClientConnection(gate)
        client.connection_made(Recorder())
        upstream = UpstreamConnection(client)
        upstream_transport = Recorder()
        upstream.connection_made(upstream_transport)
        client.upstream = upstream
        for piece in cut(stream, points):
            client.data_received(piece)
        assert len(client.inflight) == len(requests)
        return bytes(upstream_transport.written)

    assert asyncio.run(feed()) == b"".join(forwarded for _, forwarded in pairs)


def answer(kind: int, body: bytes) -> tuple[bytes, bool]:
    """One answer as granian sends it, and whether it answers a HEAD."""
    if kind == 0:
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body, False
    if kind == 1:
        chunks = b"".join(
            b"%x;x=y\r\n%s\r\n" % (len(body[i : i + 5]), body[i : i + 5])
            for i in range(0, len(body), 5)
        )
        head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        return head + chunks + b"0\r\nx-trailer: 1\r\n\r\n", False
    if kind == 2:
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body), True
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    return interim + b"HTTP/1.1 204 No Content\r\n\r\n", False


@settings(max_examples=200, deadline=None)
@given(
    answers=st.lists(
        st.tuples(st.integers(0, 3), st.binary(min_size=1, max_size=40)), min_size=1, max_size=6
    ),
    points=CUTS,
)
def test_each_answer_ends_where_it_ends_however_it_is_cut(
    answers: list[tuple[int, bytes]], points: list[int]
) -> None:
    pairs = [answer(kind, body) for kind, body in answers]
    stream = b"".join(raw for raw, _ in pairs)

    async def relay() -> tuple[bytes, int]:
        gate = Gate(GateSettings(max_pipelined=100), "/nonexistent.sock")
        client = ClientConnection(gate)
        client_transport = Recorder()
        client.connection_made(client_transport)
        client.inflight.extend(is_head for _, is_head in pairs)
        upstream = UpstreamConnection(client)
        upstream.connection_made(Recorder())
        client.upstream = upstream
        for piece in cut(stream, points):
            upstream.data_received(piece)
        return bytes(client_transport.written), len(client.inflight)

    relayed, unanswered = asyncio.run(relay())
    assert relayed == stream  # raw
    assert unanswered == 0  # and every end seen, none too early (else a pop would fail)
