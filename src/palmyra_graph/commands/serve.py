"""``palmyra-graph serve``: the app behind a connection gate, under granian, a production HTTP
server with a WSGI interface, with one query broker for all of it.

The process tree: this process (granian's supervisor) binds the public socket and hands it to
the connection gate (:mod:`palmyra_graph.server.gate`: per-address and total connection limits,
header and idle timeouts, size limits), which forwards checked requests to granian's server
processes on a private Unix socket; they send every /sparql query to the query broker
(:mod:`palmyra_graph.workers.broker`), which forks the workers that evaluate them. Every child
dies with its parent; SIGTERM drains: light queries in flight finish, runaways are stopped,
exit 0.

Settings travel to the server processes as ``PALMYRA_*`` environment variables, which
``create_app`` reads once; the graph is loaded in this process first, so a file that does not
parse stops start-up with exit 2 before anything starts.

Concurrency: pyoxigraph releases the GIL while it evaluates, so a few threads per server
process serve requests in parallel; more threads than that only queue inside Python.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import click

from palmyra_graph.errors import PalmyraError
from palmyra_graph.server.addresses import server_url
from palmyra_graph.server.gate import GateSettings, gate_arguments
from palmyra_graph.web import create_app
from palmyra_graph.web.context import engine_of, pool_of
from palmyra_graph.workers.pool import BrokerProcess, QueryPool

#: WSGI threads per worker: enough to overlap pyoxigraph (GIL released) with Python work.
DEFAULT_THREADS = 4
#: Two workers served 1.0–1.7× the requests of one on this project's 2-core machine (light
#: queries are bound by Python's per-request work, one GIL per process), at the cost of one
#: copy of the graph per worker: ``--workers 1`` halves memory (bench/README.md).
DEFAULT_WORKERS = 2
#: Seconds granian waits for a worker to stop before it kills it.
WORKERS_KILL_TIMEOUT = 5
#: Larger graphs are not validated at start-up (pySHACL would delay it by minutes).
MAX_VALIDATED_TRIPLES = 100_000


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="PALMYRA_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PALMYRA_PORT")
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="RDF file to serve (repeatable); default: the bundled ontology and data.",
)
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help="Serve an on-disk store (made by `load --store DIR`), opened read-only.",
)
@click.option("--remote", metavar="URL", help="Front a remote SPARQL 1.1 query endpoint.")
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="PALMYRA_WORKERS",
    help="Worker processes, each with its own copy of the graph.",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="PALMYRA_THREADS",
    help="WSGI threads per worker, and requests each worker admits at once.",
)
@click.option(
    "--query-timeout",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Stop a query past this many seconds and answer 503 (default 30; PALMYRA_QUERY_TIMEOUT).",
)
@click.option(
    "--query-workers",
    type=click.IntRange(min=0),
    help="Killable processes that evaluate queries, for all server workers together (default "
    "4; 0: in the request thread, with no time budget; PALMYRA_QUERY_WORKERS).",
)
@click.option(
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="URL",
    help="SPARQL endpoint a SERVICE clause may call (repeatable); default: none.",
)
@click.option(
    "--query-memory",
    type=click.IntRange(min=0),
    metavar="MB",
    help="Megabytes a query may allocate before it is stopped with 503 (default 1024; 0: no "
    "cap; PALMYRA_QUERY_MEMORY).",
)
@click.option(
    "--client-queries",
    type=click.IntRange(min=0),
    help="Queries one client may have running or waiting at once (default 2; 0: no limit; "
    "PALMYRA_CLIENT_QUERIES).",
)
@click.option(
    "--client-seconds",
    type=click.FloatRange(min=0),
    help="Query seconds one client may use per minute (default 60; 0: no limit; "
    "PALMYRA_CLIENT_SECONDS).",
)
@click.option(
    "--trust-proxy",
    is_flag=True,
    default=None,
    envvar="PALMYRA_TRUST_PROXY",
    help="Behind a reverse proxy: the client is the last X-Forwarded-For entry (the one the "
    "proxy appended), and connections are not counted per address.",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The URL this server is published at, for absolute self-links (PALMYRA_PUBLIC_URL).",
)
@click.option(
    "--max-connections",
    envvar="PALMYRA_MAX_CONNECTIONS",
    type=click.IntRange(min=1),
    default=GateSettings.max_connections,
    show_default=True,
    help="Client connections held at once (503 past it).",
)
@click.option(
    "--max-per-address",
    envvar="PALMYRA_MAX_PER_ADDRESS",
    type=click.IntRange(min=1),
    default=GateSettings.max_per_address,
    show_default=True,
    help="Client connections from one address at once (429 past it).",
)
@click.option(
    "--header-timeout",
    envvar="PALMYRA_HEADER_TIMEOUT",
    type=click.FloatRange(min=0.1),
    default=GateSettings.header_timeout,
    show_default=True,
    metavar="SECONDS",
    help="A request head must arrive whole within this, from its first byte (408).",
)
@click.option(
    "--idle-timeout",
    envvar="PALMYRA_IDLE_TIMEOUT",
    type=click.FloatRange(min=0.1),
    default=GateSettings.idle_timeout,
    show_default=True,
    metavar="SECONDS",
    help="A connection on which nothing moves for this long is closed.",
)
def command(
    host: str,
    port: int,
    data_files: tuple[Path, ...],
    store: Path | None,
    remote: str | None,
    workers: int,
    threads: int,
    max_connections: int,
    max_per_address: int,
    header_timeout: float,
    idle_timeout: float,
    **settings: object,
) -> None:
    """Serve the graph: the SPARQL endpoint, entity pages and dumps. Stop with Ctrl-C."""
    gate = GateSettings(
        max_connections=max_connections,
        max_per_address=max_per_address,
        header_timeout=header_timeout,
        idle_timeout=idle_timeout,
        trust_proxy=bool(settings["trust_proxy"]),
    )
    # SIGTERM while the graph loads is a clean stop too (granian handles it once it runs).
    signal.signal(signal.SIGTERM, _stop)
    if data_files:
        os.environ["PALMYRA_DATA_FILES"] = json.dumps([str(p.resolve()) for p in data_files])
    if store:
        os.environ["PALMYRA_STORE"] = json.dumps(str(store.resolve()))
    if remote:
        os.environ["PALMYRA_REMOTE"] = json.dumps(remote)
    for name, value in settings.items():
        if value not in (None, ()):
            os.environ[f"PALMYRA_{name.upper()}"] = json.dumps(value)
    app = create_app()  # loads and checks every file here, before any worker starts
    click.echo(f"palmyra-graph: serving on http://{host}:{port}/ (SPARQL at /sparql)", err=True)
    if not store and not remote:
        triples = len(engine_of(app).store)  # type: ignore[attr-defined]
        click.echo(f"palmyra-graph: {_shapes_summary(app.config['DATA_FILES'], triples)}", err=True)
    gate = replace(gate, max_body_bytes=int(app.config["MAX_CONTENT_LENGTH"]))
    listen = _bind(host, port)
    broker = _start_broker(pool_of(app))
    del app  # the server processes load their own
    os.environ["PALMYRA_BEHIND_GATE"] = "true"
    os.environ["PALMYRA_SERVER_URL"] = json.dumps(server_url(host, port))
    with tempfile.TemporaryDirectory(prefix="palmyra-serve-") as private:
        upstream = Path(private) / "http.sock"
        front = _start_gate(gate, listen, upstream)
        children = [c for c in (front, broker.process if broker else None) if c is not None]
        try:
            _run_granian(upstream, gate, workers=workers, threads=threads, children=children)
        finally:
            _stop_child(front)
            if broker is not None:
                broker.close()


def _bind(host: str, port: int) -> socket.socket:
    """The public socket, bound here so that a port in use is a clear error before anything
    starts; the gate gets it."""
    try:
        return socket.create_server((host, port), backlog=socket.SOMAXCONN)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _start_gate(
    settings: GateSettings, listen: socket.socket, upstream: Path
) -> subprocess.Popen[bytes]:
    """The connection gate (:mod:`palmyra_graph.server.gate`) on the public socket, in front of the
    server processes' Unix socket; this process keeps no copy of the public socket."""
    command = [
        sys.executable,
        "-m",
        "palmyra_graph.server.gate",
        "--listen-fd",
        str(listen.fileno()),
    ]
    command += ["--upstream", str(upstream), *gate_arguments(settings)]
    try:
        return subprocess.Popen(command, pass_fds=[listen.fileno()])
    finally:
        listen.close()


def _stop_child(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=GateSettings.shutdown_timeout + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start_broker(pool: QueryPool | None) -> BrokerProcess | None:
    """The one query broker of this server, whose socket every server process is given."""
    if pool is None:
        return None
    broker = BrokerProcess(pool.settings())
    try:
        broker.start()
    except PalmyraError as error:
        raise click.ClickException(str(error)) from error
    os.environ["PALMYRA_QUERY_SERVICE"] = json.dumps(broker.address)
    return broker


def _run_granian(
    upstream: Path,
    gate: GateSettings,
    *,
    workers: int,
    threads: int,
    children: list[subprocess.Popen[Any]],
) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    class Server(Granian):  # type: ignore[misc,valid-type]
        """Granian, telling the gate and the broker to drain as soon as the stop signal
        arrives, so that runaway queries are stopped while light ones finish."""

        def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            super().signal_handler_interrupt(*args, **kwargs)

    Server(
        "palmyra_graph.web:create_app",
        uds=upstream,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        # The gate holds the clients; granian holds a permit per connection it opens.
        backpressure=gate.max_connections,
        websockets=False,
        # The gate has checked every head (at most max_head_bytes) and adds a header or two.
        http1_settings=HTTP1Settings(
            header_read_timeout=10_000, max_buffer_size=gate.max_head_bytes + 4096
        ),
        factory=True,
        log_access=False,
        # A worker signalled while it still starts up can hang in granian's shutdown (seen: 9
        # of 20 SIGTERMs sent right after the socket was bound); kill it after this many s.
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
    ).serve()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _shapes_summary(files: list[str], triples: int) -> str:
    """One line about shape violations: users serve their own data, so it is served anyway."""
    from palmyra_graph.graph.validate import validate

    if triples > MAX_VALIDATED_TRIPLES:
        return f"{triples} triples: not validated at start-up (run palmyra-graph validate)"

    report = validate(files, ontology=True)
    violations, warnings = len(report.of("Violation")), len(report.of("Warning"))
    verdict = "conforms" if report.conforms else "does NOT conform (serving anyway)"
    return (
        f"data {verdict} to the shapes: {violations} violations, {warnings} warnings "
        "(palmyra-graph validate for the report)"
    )
