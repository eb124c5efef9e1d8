"""The gate's reading of request heads and chunked bodies, table by table, and its handling of
a client that is already gone (no server: a stand-in transport)."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest

from palmyra_graph.server.client import ClientConnection
from palmyra_graph.server.gate import Gate, GateSettings, _parser, address_key, gate_arguments
from palmyra_graph.server.http1 import (
    ChunkedBody,
    Refusal,
    head_too_large,
    parse_head,
    plain_answer,
)

GET = b"GET /sparql HTTP/1.1\r\nHost: x\r\n"

#: (head, status of the refusal): framing the gate refuses rather than guess at (RFC 9112).
MALFORMED = [
    (b"GET /sparql HTTP/1.1\nHost: x\n\r\n\r\n", 400),  # bare LF line ends
    (b"GET /sparql\r\nHost: x\r\n\r\n", 400),  # no version (HTTP/0.9)
    (b"GET /sparql HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    (b"GET  /sparql HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # two spaces
    (b"G(T /sparql HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # not a token
    (GET + b"X-A: 1\r\n  folded\r\n\r\n", 400),  # obs-fold (§5.2)
    (GET + b"X-A : 1\r\n\r\n", 400),  # space before the colon (§5.1)
    (GET + b"X-A: a\rb\r\n\r\n", 400),  # bare CR in a value
    (b"GET /sparql HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),  # no Host
    (GET + b"Host: y\r\n\r\n", 400),  # two Hosts
    (GET + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (GET + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
    (GET + b"Content-Length: -5\r\n\r\n", 400),
    (GET + b"Content-Length: 0x10\r\n\r\n", 400),
    (b"POST /sparql HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (GET + b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (GET + b"Transfer-Encoding: chunked, chunked\r\n\r\n", 501),
]


@pytest.mark.parametrize(("head", "status"), MALFORMED)
def test_malformed_heads_are_refused(head: bytes, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        parse_head(head)
    assert refused.value.status == status


@pytest.mark.parametrize(
    ("head", "length", "chunked", "last"),
    [
        (GET + b"\r\n", 0, False, False),
        (GET + b"Content-Length: 12\r\n\r\n", 12, False, False),
        (GET + b"Content-Length: 12\r\ncontent-length: 12\r\n\r\n", 12, False, False),
        (GET + b"Transfer-Encoding: Chunked\r\n\r\n", 0, True, False),
        (GET + b"Connection: keep-alive, Close\r\n\r\n", 0, False, True),
        (b"GET / HTTP/1.0\r\n\r\n", 0, False, True),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, False, False),
    ],
)
def test_framing_is_read_from_the_head(head: bytes, length: int, chunked: bool, last: bool) -> None:
    request = parse_head(head)
    assert (request.content_length, request.chunked, request.last) == (length, chunked, last)


@pytest.mark.parametrize(
    "forged",
    [
        b"X-Palmyra-Client: 6.6.6.6\r\nx-palmyra-client: 7\r\n",
        b"X_Palmyra_Client: 6.6.6.6\r\n",  # the same WSGI variable, HTTP_X_PALMYRA_CLIENT
        b"x-palmyra_client:6.6.6.6\r\n",
    ],
)
def test_the_forwarded_head_names_the_client_once_and_drops_a_forged_one(forged: bytes) -> None:
    request = parse_head(GET + forged + b"X-Palmyra-Other: kept\r\n\r\n")
    forwarded = request.forward(b"192.0.2.1")
    assert forwarded == GET + b"X-Palmyra-Other: kept\r\nX-Palmyra-Client: 192.0.2.1\r\n\r\n"


def test_a_chunked_head_goes_on_with_a_content_length_and_no_expect() -> None:
    head = GET + b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    request = parse_head(head)
    assert request.expect_continue
    assert request.forward(b"a", content_length=3) == (
        GET + b"Content-Length: 3\r\nX-Palmyra-Client: a\r\n\r\n"
    )


def test_a_long_request_line_is_414_and_long_headers_431() -> None:
    assert head_too_large(b"GET /" + b"a" * 100, 64).status == 414
    assert head_too_large(GET + b"X: " + b"a" * 100, 64).status == 431
    assert "POST" in head_too_large(b"GET /" + b"a" * 100, 64).message


def decode(pieces: list[bytes], limit: int = 100) -> bytes:
    body = ChunkedBody(limit, trailer_limit=64)
    for piece in pieces:
        pos, whole = body.feed(piece, 0)
        if whole:
            assert pos == len(piece)
            return bytes(body.body)
    raise AssertionError("the body never ended")


@pytest.mark.parametrize(
    "pieces",
    [
        [b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"],
        [b"3\r", b"\nab", b"c\r", b"\n4;ext=1\r\nde", b"fg\r\n0\r\nTrailer: x\r\n", b"\r\n"],
        [bytes([c]) for c in b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"],
    ],
)
def test_a_chunked_body_is_decoded_however_it_is_cut(pieces: list[bytes]) -> None:
    assert decode(pieces) == b"abcdefg"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"65\r\n", 413),  # 101 bytes declared, over the limit of 100, before any is read
        (b"32\r\n" + b"a" * 50 + b"\r\n33\r\n", 413),  # the total counts
        (b"zz\r\nab\r\n", 400),
        (b"2\r\nabc\r\n", 400),  # no CRLF after the data
        (b"2\nab\r\n", 400),  # bare LF
        (b"0\r\n" + b"T: " + b"a" * 100 + b"\r\n\r\n", 431),
    ],
)
def test_bad_or_large_chunked_bodies_are_refused(raw: bytes, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        ChunkedBody(100, trailer_limit=64).feed(raw, 0)
    assert refused.value.status == status


def test_the_gates_own_answers_are_plain_text_with_cors_and_close() -> None:
    answer = plain_answer(429, "too many", retry_after=5)
    head, body = answer.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 429 Too Many Requests"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Connection"] == "close"
    assert headers["Retry-After"] == "5"
    assert int(headers["Content-Length"]) == len(body) and body == b"too many\n"


def test_settings_travel_to_the_child_process_and_back() -> None:
    settings = GateSettings(max_per_address=3, idle_timeout=2.5, trust_proxy=True)
    arguments = ["--listen-fd", "3", "--upstream", "/x", *gate_arguments(settings)]
    parsed = _parser().parse_args(arguments)
    assert GateSettings(**{k: getattr(parsed, k) for k in settings.__dataclass_fields__}) == (
        settings
    )


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
    ],
)
def test_the_per_address_cap_counts_an_ipv6_peer_by_its_64(address: str, key: str) -> None:
    assert address_key(address) == key


class ResetTransport(asyncio.Transport):
    """A client connection the peer has reset: shutting down its write side fails."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.aborted = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("192.0.2.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def write_eof(self) -> None:
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.aborted

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_a_refused_client_that_already_reset_is_aborted_quietly() -> None:
    # A regression: at 32 wrk connections, 17 refused ones raised ENOTCONN from write_eof in
    # connection_made (the client read its 429 and reset before the gate shut its side).
    async def refuse() -> tuple[ResetTransport, Gate]:
        gate = Gate(GateSettings(max_per_address=0), "/nonexistent.sock")
        transport = ResetTransport()
        ClientConnection(gate).connection_made(transport)
        return transport, gate

    transport, gate = asyncio.run(refuse())
    assert transport.written.startswith(b"HTTP/1.1 429 ")
    assert transport.aborted and not gate.lingering and not gate.connections
