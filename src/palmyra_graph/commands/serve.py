"""``palmyra-graph serve``: the app under granian, a production HTTP server with a WSGI interface.

Settings travel to the worker processes as ``PALMYRA_*`` environment variables, which
``create_app`` reads once; the graph is loaded in this process first, so a file that does not
parse stops start-up with exit 2 before any worker starts.

Concurrency: pyoxigraph releases the GIL while it evaluates, so a few threads per worker
serve queries in parallel; more threads than that only queue inside Python. Each worker runs
``--threads`` WSGI threads; up to ``MAX_CONNECTIONS`` connections per worker are held open,
waiting for a thread in granian's Rust side rather than as Python threads (granian's default
allows 512 threads, and warns about it).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from types import FrameType

import click

from palmyra_graph.app import create_app, engine_of, pool_of
from palmyra_graph.errors import PalmyraError
from palmyra_graph.workers import BrokerProcess, QueryPool

#: WSGI threads per worker: enough to overlap pyoxigraph (GIL released) with Python work.
DEFAULT_THREADS = 4
#: Connections each worker holds open at once. granian keeps a keep-alive connection's
#: permit while it idles, so a bound as low as the thread count let a dozen idle clients
#: lock everyone else out (measured: 12 idle connections delayed a new client 9.7 s).
MAX_CONNECTIONS = 256
#: Two workers served 1.0–1.7× the requests of one on this project's 2-core machine (light
#: queries are bound by Python's per-request work, one GIL per process), at the cost of one
#: copy of the graph per worker: ``--workers 1`` halves memory (bench/README.md).
DEFAULT_WORKERS = 2
#: The largest request line plus headers granian accepts, in bytes.
MAX_HEADER_BYTES = 64 * 1024
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
    help="Behind a reverse proxy: the client is the last X-Forwarded-For entry.",
)
def command(
    host: str,
    port: int,
    data_files: tuple[Path, ...],
    store: Path | None,
    remote: str | None,
    workers: int,
    threads: int,
    **settings: object,
) -> None:
    """Serve the graph: the SPARQL endpoint, entity pages and dumps. Stop with Ctrl-C."""
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
    broker = _start_broker(pool_of(app))
    del app  # the server processes load their own
    try:
        _run_granian(host, port, workers=workers, threads=threads, broker=broker)
    finally:
        if broker is not None:
            broker.close()


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
    host: str, port: int, *, workers: int, threads: int, broker: BrokerProcess | None
) -> None:
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    class Server(Granian):  # type: ignore[misc,valid-type]
        """Granian, telling the broker to drain as soon as the stop signal arrives."""

        def signal_handler_interrupt(self, *args: object, **kwargs: object) -> None:
            if broker is not None and broker.process is not None:
                broker.process.terminate()
            super().signal_handler_interrupt(*args, **kwargs)

    Server(
        "palmyra_graph.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=MAX_CONNECTIONS,
        websockets=False,
        # Request line and headers beyond 64 KiB are refused before reaching the app.
        http1_settings=HTTP1Settings(header_read_timeout=10_000, max_buffer_size=MAX_HEADER_BYTES),
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
    from palmyra_graph.validate import validate

    if triples > MAX_VALIDATED_TRIPLES:
        return f"{triples} triples: not validated at start-up (run palmyra-graph validate)"

    report = validate(files, ontology=True)
    violations, warnings = len(report.of("Violation")), len(report.of("Warning"))
    verdict = "conforms" if report.conforms else "does NOT conform (serving anyway)"
    return (
        f"data {verdict} to the shapes: {violations} violations, {warnings} warnings "
        "(palmyra-graph validate for the report)"
    )
