"""``palmyra-graph serve``: the app under granian, a production HTTP server with a WSGI interface.

Settings travel to the worker processes as ``PALMYRA_*`` environment variables, which
``create_app`` reads once; the graph is loaded in this process first, so a file that does not
parse stops start-up with exit 2 before any worker starts.

Concurrency: pyoxigraph releases the GIL while it evaluates, so a few threads per worker
serve queries in parallel; more threads than that only queue inside Python. Each worker runs
``--threads`` WSGI threads and admits as many requests at once (granian's ``backpressure``);
further connections wait in granian's Rust accept queue instead of piling up as Python
threads (granian's default allows 512, and warns about it).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from types import FrameType

import click

from palmyra_graph.app import create_app

#: WSGI threads per worker: enough to overlap pyoxigraph (GIL released) with Python work.
DEFAULT_THREADS = 4
#: Two workers served 1.3–2.7× the requests of one on this project's 2-core machine (light
#: queries are bound by Python's per-request work, one GIL per process), at the cost of one
#: copy of the graph per worker: ``--workers 1`` halves memory (bench/README.md).
DEFAULT_WORKERS = 2


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
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="URL",
    help="SPARQL endpoint a SERVICE clause may call (repeatable); default: none.",
)
def command(
    host: str,
    port: int,
    data_files: tuple[Path, ...],
    store: Path | None,
    remote: str | None,
    workers: int,
    threads: int,
    allow_service: tuple[str, ...],
) -> None:
    """Serve the graph: the SPARQL endpoint, entity pages and dumps. Stop with Ctrl-C."""
    from granian import Granian
    from granian.constants import Interfaces

    # SIGTERM while the graph loads is a clean stop too (granian handles it once it runs).
    signal.signal(signal.SIGTERM, _stop)
    if data_files:
        os.environ["PALMYRA_DATA_FILES"] = json.dumps([str(p.resolve()) for p in data_files])
    if store:
        os.environ["PALMYRA_STORE"] = json.dumps(str(store.resolve()))
    if remote:
        os.environ["PALMYRA_REMOTE"] = json.dumps(remote)
    if allow_service:
        os.environ["PALMYRA_ALLOW_SERVICE"] = json.dumps(list(allow_service))
    create_app()  # loads and checks every file here, before any worker starts
    click.echo(f"palmyra-graph: serving on http://{host}:{port}/ (SPARQL at /sparql)", err=True)
    Granian(
        "palmyra_graph.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=threads,
        websockets=False,
        factory=True,
        log_access=False,
    ).serve()


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
