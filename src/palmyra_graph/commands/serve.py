"""``palmyra-graph serve``: the app under granian, a production HTTP server with a WSGI interface.

Settings travel to the worker processes as ``PALMYRA_*`` environment variables, which
``create_app`` reads once; the graph is loaded in this process first, so a file that does not
parse stops start-up with exit 2 before any worker starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from palmyra_graph.app import create_app


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
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="PALMYRA_WORKERS",
    help="Worker processes, each with its own copy of the graph.",
)
def command(host: str, port: int, data_files: tuple[Path, ...], workers: int) -> None:
    """Serve the graph: the SPARQL endpoint, entity pages and dumps."""
    from granian import Granian
    from granian.constants import Interfaces

    if data_files:
        os.environ["PALMYRA_DATA_FILES"] = json.dumps([str(p.resolve()) for p in data_files])
    create_app()  # loads and checks every file here, before any worker starts
    click.echo(f"palmyra-graph: serving on http://{host}:{port}/ (SPARQL at /sparql)", err=True)
    Granian(
        "palmyra_graph.app:create_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        factory=True,
        log_access=False,
    ).serve()
