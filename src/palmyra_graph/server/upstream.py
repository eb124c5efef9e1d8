"""The gate's connection to granian for one client: the answers relayed back as they come,
their framing followed (RFC 9112 §6.3) only to know where each ends."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from palmyra_graph.server.http1 import (
    HIGH_WATER,
    LOW_WATER,
    MAX_CHUNK_LINE,
    MAX_RESPONSE_HEAD,
    field_value,
)

if TYPE_CHECKING:
    from palmyra_graph.server.client import ClientConnection

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
        self.answers = 0  # answers relayed whole on this connection

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
        self.answers += 1
        if self.client is not None:
            self.client.response_done(close=self._close_after)
