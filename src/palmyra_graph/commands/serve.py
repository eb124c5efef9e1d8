"""``palmyra-graph serve``: the options of the server (:mod:`palmyra_graph.server.supervisor`).

Every default is the app's own (``palmyra_graph.web.DEFAULTS``) or the gate's
(``GateSettings``); each option also reads its ``PALMYRA_*`` variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from palmyra_graph.commands._options import data_option
from palmyra_graph.server.gate import GateSettings
from palmyra_graph.server.supervisor import ServeSettings, serve
from palmyra_graph.web import DEFAULTS

#: WSGI threads per server process: enough to overlap pyoxigraph (GIL released) with Python.
DEFAULT_THREADS = 4
#: Two server processes served 1.0–1.7× the requests of one on this project's 2-core machine
#: (light queries are bound by Python's per-request work, one GIL per process), at the cost of
#: one copy of the graph for the pages of each (bench/README.md).
DEFAULT_WORKERS = 2

#: Options that set the app, by setting: (option, type, metavar, help).
APP_OPTIONS: dict[str, tuple[str, Any, str | None, str]] = {
    "QUERY_TIMEOUT": (
        "--query-timeout",
        click.FloatRange(min=0.1),
        "SECONDS",
        "Stop a query past this many seconds and answer 503.",
    ),
    "QUERY_WORKERS": (
        "--query-workers",
        click.IntRange(min=0),
        None,
        "Killable processes that evaluate queries, for all server processes together (0: in "
        "the request thread, with no time budget, no per-client limits, no confinement).",
    ),
    "QUERY_MEMORY": (
        "--query-memory",
        click.IntRange(min=0),
        "MB",
        "Megabytes a query may allocate before it is stopped with 503 (0: no cap).",
    ),
    "QUERY_RECYCLE": (
        "--query-recycle",
        click.IntRange(min=0),
        "MB",
        "Megabytes of the shared graph a worker may copy before a fresh fork replaces it "
        "after its query (0: never).",
    ),
    "CACHE_BYTES": (
        "--cache-bytes",
        click.IntRange(min=0),
        "BYTES",
        "Bytes of whole answers each server process keeps for repeated queries, each counted "
        "with what keeping it costs (0: no cache).",
    ),
    "CACHE_MAX_AGE": (
        "--cache-max-age",
        click.IntRange(min=0),
        "SECONDS",
        "How long browsers and proxies may reuse a GET answer (Cache-Control max-age).",
    ),
    "CLIENT_QUERIES": (
        "--client-queries",
        click.IntRange(min=0),
        None,
        "Queries one client may have running or waiting at once (0: no limit).",
    ),
    "CLIENT_SECONDS": (
        "--client-seconds",
        click.FloatRange(min=0),
        None,
        "Query seconds one client may use per minute (0: no limit).",
    ),
    "DUMPS_DIR": (
        "--dumps-dir",
        str,
        "DIR",
        "Where the dumps are written once, keyed by the data files, and served from "
        "(empty: ~/.cache/palmyra-graph/dumps).",
    ),
    "PUBLIC_URL": (
        "--public-url",
        str,
        "URL",
        "The URL this server is published at, for absolute self-links.",
    ),
}
#: Options that set the gate, by field of GateSettings: (option, type, metavar, help).
GATE_OPTIONS: dict[str, tuple[str, Any, str | None, str]] = {
    "max_connections": (
        "--max-connections",
        click.IntRange(min=1),
        None,
        "Client connections held at once (503 past it).",
    ),
    "max_per_address": (
        "--max-per-address",
        click.IntRange(min=1),
        None,
        "Client connections from one address at once (429 past it).",
    ),
    "header_timeout": (
        "--header-timeout",
        click.FloatRange(min=0.1),
        "SECONDS",
        "A request head must arrive whole within this, from its first byte (408).",
    ),
    "idle_timeout": (
        "--idle-timeout",
        click.FloatRange(min=0.1),
        "SECONDS",
        "A connection on which nothing moves for this long is closed.",
    ),
}


def _options(table: dict[str, tuple[str, Any, str | None, str]], defaults: Any) -> Any:
    """click options for a table of settings, their defaults from ``defaults(name)``."""

    def decorate(function: Any) -> Any:
        for name, (option, kind, metavar, help_text) in reversed(table.items()):
            function = click.option(
                option,
                name.lower(),
                type=kind,
                metavar=metavar,
                default=defaults(name),
                show_default=True,
                envvar=f"PALMYRA_{option[2:].upper().replace('-', '_')}",
                help=help_text,
            )(function)
        return function

    return decorate


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="PALMYRA_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PALMYRA_PORT")
@data_option("RDF file to serve (repeatable); default: the bundled ontology and data.")
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
    help="Server processes (with --query-workers 0, each holds the graph itself).",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="PALMYRA_THREADS",
    help="WSGI threads per server process, and requests each admits at once.",
)
@click.option(
    "--allow-service",
    "allow_service",
    multiple=True,
    metavar="URL",
    envvar="PALMYRA_ALLOW_SERVICE",
    help="SPARQL endpoint a SERVICE clause may call (repeatable); default: none.",
)
@click.option(
    "--trust-proxy",
    is_flag=True,
    envvar="PALMYRA_TRUST_PROXY",
    help="Behind a reverse proxy: the client is the last X-Forwarded-For entry (the one the "
    "proxy appended), and connections are not counted per address.",
)
@_options(APP_OPTIONS, lambda name: DEFAULTS[name])
@_options(GATE_OPTIONS, lambda name: getattr(GateSettings, name))
def command(**options: Any) -> None:
    """Serve the graph: the SPARQL endpoint, entity pages and dumps. Stop with Ctrl-C."""
    app: dict[str, Any] = {name: options[name.lower()] for name in APP_OPTIONS}
    app["ALLOW_SERVICE"] = list(options["allow_service"])
    app["TRUST_PROXY"] = options["trust_proxy"]
    if options["data_files"]:
        app["DATA_FILES"] = [str(path.resolve()) for path in options["data_files"]]
    if options["store"]:
        app["STORE"] = str(options["store"].resolve())
    if options["remote"]:
        app["REMOTE"] = options["remote"]
    gate = GateSettings(
        trust_proxy=options["trust_proxy"], **{name: options[name] for name in GATE_OPTIONS}
    )
    settings = ServeSettings(
        host=options["host"],
        port=options["port"],
        workers=options["workers"],
        threads=options["threads"],
        gate=gate,
        app=app,
    )
    serve(settings, say=lambda line: click.echo(line, err=True))
