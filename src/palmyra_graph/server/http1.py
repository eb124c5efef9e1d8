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
_REQUEST_LINE = rb"(" + _TOKEN + rb") [^\x00-\x20\x7f]+ HTTP/1\.([01])\r\n"
#: A field line: a token, a colon, and a value of visible characters, spaces and tabs (§5).
_FIELD_LINE = _TOKEN + rb":[^\x00-\x08\x0a-\x1f\x7f]*\r\n"
#: A whole head, checked in one pass of the regular expression engine.
_HEAD = re.compile(_REQUEST_LINE + rb"(?:" + _FIELD_LINE + rb")*\r\n")
_REQUEST_LINE_ALONE = re.compile(_REQUEST_LINE)
_FIELD_ALONE = re.compile(_FIELD_LINE)
#: Fields the gate reads (as ``CRLF name:`` in the lower-cased head); the others go on as sent.
_CONTENT_LENGTH = b"\r\ncontent-length:"
_TRANSFER_ENCODING = b"\r\ntransfer-encoding:"
_CONNECTION = b"\r\nconnection:"
_HOST = b"\r\nhost:"
_EXPECT = b"\r\nexpect:"
_FORWARDED_FOR = b"\r\nx-forwarded-for:"
_CLIENT = b"\r\nx-palmyra-client:"
CLIENT_HEADER = b"X-Palmyra-Client"


@dataclass
class RequestHead:
    """One parsed request head and what the gate needs of it."""

    method: bytes
    #: The head as received, ending in CRLF CRLF.
    raw: bytes
    content_length: int
    chunked: bool
    #: The connection ends after this request (``Connection: close``, or HTTP/1.0 without
    #: keep-alive).
    last: bool
    expect_continue: bool
    forwarded_for: list[bytes]
    #: Fields not to forward (as ``CRLF name:``): a client's X-Palmyra-Client, and for a
    #: chunked body Transfer-Encoding (and Expect, answered by the gate).
    drop: tuple[bytes, ...] = ()

    def forward(self, client: bytes, *, content_length: int | None = None) -> bytes:
        """The head as sent upstream, with ``X-Palmyra-Client: client``; for a decoded chunked
        body, with ``Content-Length`` instead of Transfer-Encoding."""
        head = _without(self.raw, self.drop) if self.drop else self.raw
        extra = b"X-Palmyra-Client: " + client + b"\r\n\r\n"
        if content_length is not None:
            extra = b"Content-Length: " + str(content_length).encode() + b"\r\n" + extra
        return head[:-2] + extra


def parse_head(head: bytes) -> RequestHead:
    """Parse a request head (ending in CRLF CRLF) strictly, as RFC 9112 §2–§6 asks of a server.

    Raises:
        Refusal: 400 for a malformed head or framing, 501 for an unknown transfer coding.
    """
    match = _HEAD.fullmatch(head)
    if match is None:
        raise _malformed(head)
    method, http10 = match.group(1), match.group(2) == b"0"
    lower = head.lower()
    hosts = lower.count(_HOST)
    if hosts > 1 or (hosts == 0 and not http10):
        raise Refusal(400, "a request must have exactly one Host header (RFC 9112 §3.2)")
    lengths = set(_values(head, lower, _CONTENT_LENGTH))
    codings = [
        c.strip().lower() for v in _values(head, lower, _TRANSFER_ENCODING) for c in v.split(b",")
    ]
    connection = [c.strip() for v in _values(lower, lower, _CONNECTION) for c in v.split(b",")]
    content_length = _content_length(lengths)
    chunked = _chunked(codings, http10=http10, has_length=bool(lengths))
    expect = b"100-continue" in _values(lower, lower, _EXPECT)
    # WSGI servers read X_Palmyra_Client as X-Palmyra-Client: both spellings are dropped.
    drop: tuple[bytes, ...] = (_CLIENT,) if b"palmyra" in lower else ()
    if chunked:
        drop += (_TRANSFER_ENCODING, _EXPECT)
    last = b"close" in connection or (http10 and b"keep-alive" not in connection)
    forwarded_for = _values(head, lower, _FORWARDED_FOR)
    return RequestHead(method, head, content_length, chunked, last, expect, forwarded_for, drop)


def _values(head: bytes, lower: bytes, name: bytes) -> list[bytes]:
    """The values of every ``name`` field (``CRLF name:``), in order, without surrounding
    whitespace; ``lower`` is ``head`` lower-cased (same offsets)."""
    values = []
    start = lower.find(name)
    while start >= 0:
        start += len(name)
        end = lower.find(b"\r\n", start)
        values.append(head[start:end].strip(b" \t"))
        start = lower.find(name, end)
    return values


def _without(head: bytes, names: tuple[bytes, ...]) -> bytes:
    """``head`` without the fields ``names`` (as ``CRLF name:``), an underscore in a field's
    name read as a hyphen (as CGI and WSGI map both to the same variable)."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]]
    for line in lines[1:]:
        name = line.split(b":", 1)[0].lower().replace(b"_", b"-")
        if b"\r\n" + name + b":" not in names:
            kept.append(line)
    return b"\r\n".join(kept) + b"\r\n\r\n"


def _malformed(head: bytes) -> Refusal:
    """What is wrong with a head that does not match, said as precisely as it can be."""
    line_end = head.find(b"\r\n") + 2
    if not _REQUEST_LINE_ALONE.fullmatch(head[:line_end]):
        if b"\n" in head[: line_end - 2]:
            return Refusal(400, "malformed request head: lines must end in CRLF (RFC 9112 §2.2)")
        return Refusal(400, "malformed request line: expected METHOD TARGET HTTP/1.1")
    for line in head[line_end:-2].split(b"\r\n")[:-1]:
        if not _FIELD_ALONE.fullmatch(line + b"\r\n"):
            return Refusal(400, f"malformed header line: {line[:80]!r} (RFC 9112 §5)")
    return Refusal(400, "malformed request head (RFC 9112 §2–§5)")


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


#: Seconds a connection the gate answered itself stays open to read what the client still
#: sends: closing with unread data makes the kernel send a reset, which can destroy the answer.
LINGER = 1.0
#: Write-buffer marks of both sides: reading from the other side pauses above HIGH_WATER.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
MAX_RESPONSE_HEAD = 256 * 1024  # granian's are a few hundred bytes
