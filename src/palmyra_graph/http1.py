"""The HTTP/1.1 message syntax the connection gate reads (RFC 9112), strictly.

A request head is parsed once, here, and refused when its framing is ambiguous (the cases that
let two parsers disagree about where a request ends: bare LF, obs-fold, a space before the
colon, two lengths, both Content-Length and Transfer-Encoding, RFC 9112 §2.2, §5.1–§5.2, §6.1,
§6.3); a chunked body (§7.1) is decoded as it arrives and counted against a limit; the gate's
own answers are complete ``Connection: close`` responses in plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate

REASONS = {
    100: "Continue",
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
#: Longest chunk-size line (with extensions) accepted.
MAX_CHUNK_LINE = 4096


def plain_answer(status: int, message: str, *, retry_after: int | None = None) -> bytes:
    """A complete ``Connection: close`` response whose body is ``message``."""
    body = (message + "\n").encode()
    lines = [
        f"HTTP/1.1 {status} {REASONS[status]}",
        f"Date: {formatdate(usegmt=True)}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Access-Control-Allow-Origin: *",
        "X-Content-Type-Options: nosniff",
        "Connection: close",
    ]
    if retry_after is not None:
        lines.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Refusal(Exception):
    """A request the gate answers itself, with ``status`` and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- request heads

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/1\.([01])")
_FIELD = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
#: Fields the gate reads; the others go on untouched.
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_CONNECTION = b"connection"
_HOST = b"host"
_EXPECT = b"expect"
_FORWARDED_FOR = b"x-forwarded-for"
_CLIENT = b"x-palmyra-client"
CLIENT_HEADER = b"X-Palmyra-Client"


@dataclass
class RequestHead:
    """One parsed request head and what the gate needs of it."""

    method: bytes
    #: The request line and every field line to forward (no X-Palmyra-Client), without CRLF.
    lines: list[bytes]
    content_length: int
    chunked: bool
    #: The connection ends after this request (``Connection: close``, or HTTP/1.0 without
    #: keep-alive).
    last: bool
    expect_continue: bool
    forwarded_for: list[bytes]

    def forward(self, client: bytes, *, content_length: int | None = None) -> bytes:
        """The head as sent upstream: the client header added; for a decoded chunked body,
        Transfer-Encoding (and Expect, answered here) replaced by ``Content-Length``."""
        lines = self.lines
        if content_length is not None:
            lines = [*lines, b"Content-Length: " + str(content_length).encode()]
        return b"\r\n".join(lines) + b"\r\n" + CLIENT_HEADER + b": " + client + b"\r\n\r\n"


def parse_head(head: bytes) -> RequestHead:
    """Parse a request head (ending in CRLF CRLF) strictly, as RFC 9112 §2–§6 asks of a server.

    Raises:
        Refusal: 400 for a malformed head or framing, 501 for an unknown transfer coding.
    """
    request_line, *fields = head[:-4].split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(request_line)
    if match is None:
        raise Refusal(400, "malformed request line: expected METHOD TARGET HTTP/1.1")
    method, http10 = match.group(1), match.group(3) == b"0"
    lines = [request_line]
    lengths: set[bytes] = set()
    codings: list[bytes] = []
    connection: list[bytes] = []
    forwarded_for: list[bytes] = []
    hosts = 0
    expect = False
    for line in fields:
        field = _FIELD.fullmatch(line)
        if field is None:
            raise Refusal(400, f"malformed header line: {line[:80]!r} (RFC 9112 §5)")
        name = field.group(1).lower()
        if name == _CLIENT:
            continue  # ours to set: a client's own is dropped
        if name == _CONTENT_LENGTH:
            lengths.add(field.group(2))
        elif name == _TRANSFER_ENCODING:
            codings += [c.strip().lower() for c in field.group(2).split(b",")]
            continue  # re-framed here: a chunked body goes on with a Content-Length
        elif name == _CONNECTION:
            connection += [c.strip().lower() for c in field.group(2).split(b",")]
        elif name == _HOST:
            hosts += 1
        elif name == _FORWARDED_FOR:
            forwarded_for.append(field.group(2))
        elif name == _EXPECT:
            expect = field.group(2).lower() == b"100-continue"
        lines.append(line)
    if hosts > 1 or (hosts == 0 and not http10):
        raise Refusal(400, "a request must have exactly one Host header (RFC 9112 §3.2)")
    content_length = _content_length(lengths)
    chunked = _chunked(codings, http10=http10, has_length=bool(lengths))
    if chunked and expect:  # the gate answers it, since it reads the body first
        lines = [line for line in lines if line.split(b":", 1)[0].lower() != _EXPECT]
    last = b"close" in connection or (http10 and b"keep-alive" not in connection)
    return RequestHead(method, lines, content_length, chunked, last, expect, forwarded_for)


def _content_length(lengths: set[bytes]) -> int:
    if not lengths:
        return 0
    if len(lengths) > 1:
        raise Refusal(400, "two different Content-Length headers (RFC 9112 §6.3)")
    (value,) = lengths
    if not value.isdigit() or len(value) > 18:
        raise Refusal(400, f"Content-Length is not a number of bytes: {value[:40]!r}")
    return int(value)


def _chunked(codings: list[bytes], *, http10: bool, has_length: bool) -> bool:
    if not codings:
        return False
    if http10:
        raise Refusal(400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)")
    if has_length:
        raise Refusal(400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.1)")
    if codings != [b"chunked"]:
        raise Refusal(501, "the only transfer coding accepted on a request is chunked")
    return True


def head_too_large(head: bytes | bytearray, limit: int) -> Refusal:
    """414 when the request line alone is over ``limit`` bytes, else 431."""
    if head.find(b"\r\n", 0, limit + 2) < 0:
        return Refusal(
            414,
            f"request line over the limit of {limit} bytes: send a long query with POST "
            "(Content-Type: application/sparql-query, or a form with query=) instead of GET",
        )
    return Refusal(431, f"request headers over the limit of {limit} bytes")


class ChunkedBody:
    """A chunked request body (RFC 9112 §7.1) decoded as it arrives, up to ``limit`` bytes."""

    def __init__(self, limit: int, trailer_limit: int) -> None:
        self.body = bytearray()
        self.limit = limit
        self.trailer_limit = trailer_limit
        self._line = bytearray()
        self._left = 0  # data bytes of the current chunk still to come
        self._state = "size"  # size | data | data-end | trailer
        self._trailer = 0

    def feed(self, data: bytes, pos: int) -> tuple[int, bool]:
        """Decode from ``data[pos:]``; returns where it stopped and whether the body is whole.

        Raises:
            Refusal: 413 past the limit, 400 for a malformed chunk, 431 for long trailers.
        """
        end = len(data)
        while pos < end:
            if self._state == "data":
                take = min(self._left, end - pos)
                self.body += data[pos : pos + take]
                self._left -= take
                pos += take
                if self._left == 0:
                    self._state = "data-end"
                continue
            line, pos = self._read_line(data, pos)
            if line is None:
                return pos, False
            if self._state == "data-end":
                if line:
                    raise Refusal(400, "malformed chunked body: no CRLF after a chunk's data")
                self._state = "size"
            elif self._state == "size":
                self._start_chunk(line)
            else:  # trailer fields, read and dropped; an empty line ends the body
                if not line:
                    return pos, True
                self._trailer += len(line) + 2
                if self._trailer > self.trailer_limit:
                    raise Refusal(431, f"trailer fields over the limit of {self.trailer_limit}")
        return pos, False

    def _read_line(self, data: bytes, pos: int) -> tuple[bytes | None, int]:
        newline = data.find(b"\n", pos)
        if newline < 0:
            self._line += data[pos:]
            if len(self._line) > MAX_CHUNK_LINE:
                raise Refusal(400, "malformed chunked body: a chunk-size line too long")
            return None, len(data)
        self._line += data[pos : newline + 1]
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(b"\r\n") or len(line) > MAX_CHUNK_LINE:
            raise Refusal(400, "malformed chunked body: lines must end in CRLF")
        return line[:-2], newline + 1

    def _start_chunk(self, line: bytes) -> None:
        size = line.split(b";", 1)[0].strip()
        if not size or len(size) > 16 or size.strip(b"0123456789abcdefABCDEF"):
            raise Refusal(400, f"malformed chunked body: bad chunk size {size[:20]!r}")
        self._left = int(size, 16)
        if len(self.body) + self._left > self.limit:
            raise Refusal(413, f"chunked request body over the limit of {self.limit} bytes")
        self._state = "data" if self._left else "trailer"


def field_value(head: bytes, name: bytes) -> bytes:
    """The value of field ``name`` in a lower-cased head, or b""."""
    start = head.find(b"\r\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 3
    return head[start : head.find(b"\r\n", start)].strip()
