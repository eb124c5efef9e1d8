"""The Flask application factory: every default in one place, overrides from PALMYRA_* once."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as BaseResponse

from palmyra_graph import resources
from palmyra_graph.engine import Engine, OxigraphEngine
from palmyra_graph.errors import PalmyraError
from palmyra_graph.namespaces import BASE
from palmyra_graph.workers import EngineSpec, QueryPool

DEFAULTS: dict[str, Any] = {
    # Files loaded at start-up (each a named graph); default: ontology and data.
    "DATA_FILES": [str(p) for p in resources.default_data_files()],
    # An on-disk store to open read-only instead (`load --store DIR`), or a remote SPARQL
    # 1.1 query endpoint to forward queries to; DATA_FILES is then not loaded.
    "STORE": "",
    "REMOTE": "",
    # The IRI base of the data, mapped onto this server's own paths for dereferencing.
    "BASE_IRI": BASE,
    # Seconds a query may run before it is stopped and answered 503.
    "QUERY_TIMEOUT": 30.0,
    # Worker processes that evaluate /sparql queries, so a query past QUERY_TIMEOUT can be
    # killed (pyoxigraph cannot cancel one); also the most queries evaluated at once per
    # server process. 0 evaluates in the request thread, with no time budget.
    "QUERY_WORKERS": 2,
    # SERVICE endpoints a query may call; empty refuses every SERVICE clause.
    "ALLOW_SERVICE": [],
    # Largest request body accepted, in bytes (413 beyond).
    "MAX_CONTENT_LENGTH": 1_000_000,
    # The URL the app's root is published at (``https://palmyra.example/``): the base of every
    # absolute self-link (the service description's sd:endpoint, VoID's document, endpoint and
    # dumps). Self-links are never built from the Host header, which the client chooses.
    "PUBLIC_URL": "",
    # The base used when PUBLIC_URL is unset: `serve` sets it from the address it binds (the
    # loopback name for a wildcard bind); this default suits the Flask test client.
    "SERVER_URL": "http://localhost/",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: load the graph once, register the blueprints and the error mapping.

    Args:
        config: overrides applied after the defaults and the ``PALMYRA_*`` environment.

    Raises:
        LoadError: a data file is missing or does not parse (the app is never built on a
            partial graph).
    """
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PALMYRA")
    if config:
        app.config.from_mapping(config)
    _normalise(app)
    app.extensions["palmyra.engine"] = _engine(app.config)
    app.extensions["palmyra.pool"] = _pool(app.config)
    _register_blueprints(app)
    app.before_request(_relative_redirect)
    app.register_error_handler(PalmyraError, _palmyra_error)
    return app


def _engine(config: Mapping[str, Any]) -> Engine:
    """The engine the settings ask for: an on-disk store, a remote endpoint, or DATA_FILES."""
    if config["STORE"]:
        from palmyra_graph.store import open_engine

        return open_engine(config["STORE"])
    if config["REMOTE"]:
        from palmyra_graph.remote import RemoteEngine

        return RemoteEngine(config["REMOTE"], timeout=float(config["QUERY_TIMEOUT"]))
    return OxigraphEngine.from_files(config["DATA_FILES"])


def _pool(config: Mapping[str, Any]) -> QueryPool | None:
    """Killable query workers over the same graph (none for a remote endpoint, which keeps
    its own time limit, or when QUERY_WORKERS is 0). They start on the first query."""
    if config["REMOTE"] or int(config["QUERY_WORKERS"]) <= 0:
        return None
    spec = EngineSpec(data_files=tuple(config["DATA_FILES"]), store=config["STORE"] or None)
    return QueryPool(spec, size=int(config["QUERY_WORKERS"]), timeout=config["QUERY_TIMEOUT"])


def _normalise(app: Flask) -> None:
    """Accept list-valued settings given as a space- or comma-separated string (env vars)."""
    for key in ("DATA_FILES", "ALLOW_SERVICE"):
        value = app.config[key]
        if isinstance(value, str):
            app.config[key] = [v for v in value.replace(",", " ").split() if v]
    app.config["QUERY_TIMEOUT"] = float(app.config["QUERY_TIMEOUT"])


#: Modules that each expose a Flask blueprint ``bp``, registered in this order.
BLUEPRINTS = ("sparql_protocol", "dumps", "void", "linked_data", "pages", "headers")


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        module = importlib.import_module(f"palmyra_graph.{name}")
        app.register_blueprint(module.bp)


def _relative_redirect() -> BaseResponse | None:
    """Answer werkzeug's routing redirect (``/dumps`` -> ``/dumps/``) with a relative Location:
    werkzeug builds it absolute from the Host header, which would echo a forged host."""
    routing = request.routing_exception
    if not isinstance(routing, RequestRedirect):
        return None
    target = urlsplit(routing.new_url)
    path = target.path + (f"?{target.query}" if target.query else "")
    return redirect(path, code=routing.code)


def public_url(app: Flask, endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` (``"sparql.sparql"``) from PUBLIC_URL, else SERVER_URL.

    Never from the request: the Host header is the client's to choose. The path is the app's
    own (no SCRIPT_NAME): PUBLIC_URL names what the app's root is published as.

    Raises:
        werkzeug.routing.BuildError: no such endpoint, or ``values`` do not fit it.
    """
    base = app.config["PUBLIC_URL"] or app.config["SERVER_URL"]
    path = app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + path


def server_url(host: str, port: int) -> str:
    """The SERVER_URL for a server bound to ``host``:``port``; a wildcard bind is named by the
    loopback name, an IPv6 address is bracketed (``server_url("::1", 80)`` is
    ``http://[::1]:80/``)."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _palmyra_error(error: PalmyraError) -> Response:
    return Response(str(error) + "\n", status=error.http_status, mimetype="text/plain")


def pool_of(app: Flask) -> QueryPool | None:
    """The app's query workers, or None when queries run in the request thread."""
    pool: QueryPool | None = app.extensions["palmyra.pool"]
    return pool


def engine_of(app: Flask) -> Engine:
    """The engine an app was built with."""
    engine: Engine = app.extensions["palmyra.engine"]
    return engine
