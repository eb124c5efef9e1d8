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

Where it is: this module holds the settings, the gate (its limits and clock) and running it;
:mod:`~palmyra_graph.server.client` one client connection, :mod:`~palmyra_graph.server.reading`
its request side, :mod:`~palmyra_graph.server.upstream` its connection to granian,
:mod:`~palmyra_graph.server.http1` the strict HTTP/1.1 reading and the gate's own answers.

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
import resource
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from palmyra_graph.server import reading
from palmyra_graph.server.client import ClientConnection
from palmyra_graph.server.http1 import Refusal
from palmyra_graph.workers.fairness import client_key as address_key


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
    #: An upstream connection is closed after this many answers (reopened on the next), so
    #: that every server process gets a share of a busy client's requests.
    upstream_requests: int = 100
    #: A request waits this long for the server processes to accept it (they may be
    #: starting: no socket yet, or a full backlog), then 503.
    upstream_wait: float = 10.0
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


# ---------------------------------------------------------------- the gate and its connections


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
        reading.drop_chunks(connection)
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
