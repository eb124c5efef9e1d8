"""The Flask application factory: every default in one place, overrides from PALMYRA_* once."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Config, Flask, Response, has_request_context, redirect, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as BaseResponse

from palmyra_graph import __version__
from palmyra_graph.errors import PalmyraError, SettingError, TooManyRequests
from palmyra_graph.graph import resources
from palmyra_graph.graph.loader import fingerprint, graph_names
from palmyra_graph.graph.namespaces import BASE
from palmyra_graph.query.cache import AnswerCache, request_key
from palmyra_graph.query.engine import Engine, OxigraphEngine
from palmyra_graph.query.guard import allow_list
from palmyra_graph.query.iri import is_absolute
from palmyra_graph.query.lookup import LookupStore
from palmyra_graph.workers.fairness import ClientLimits
from palmyra_graph.workers.pool import EngineSpec, QueryPool

DEFAULTS: dict[str, Any] = {
    # Files loaded at start-up (each a named graph); default: ontology and data.
    "DATA_FILES": [str(p) for p in resources.default_data_files()],
    # An on-disk store to open read-only instead (`load --store DIR`), or a remote SPARQL
    # 1.1 query endpoint to forward queries to; DATA_FILES is then not loaded (for a remote,
    # the graphs they are pushed into are the dataset it serves).
    "STORE": "",
    "REMOTE": "",
    # The IRI base of the data, mapped onto this server's own paths for dereferencing; also
    # the base relative IRIs in a /sparql query resolve against (unless it declares a BASE).
    "BASE_IRI": BASE,
    # Seconds a query may run before it is stopped and answered 503.
    "QUERY_TIMEOUT": 30.0,
    # Worker processes that evaluate /sparql queries, so a query past QUERY_TIMEOUT can be
    # killed (pyoxigraph cannot cancel one); also the most queries evaluated at once. They
    # are forked by one query broker (serve starts it for all its server processes). 0
    # evaluates in the request thread, with no time budget, no fairness, no confinement.
    "QUERY_WORKERS": 4,
    # The Unix socket of a running query broker (set by serve); empty: the app starts its own.
    "QUERY_SERVICE": "",
    # An on-disk store (opened read-only once it exists) that one-pattern lookups with few
    # solutions are answered from in the request thread, without a worker; set by serve
    # (the served STORE, else the one it writes beside the dumps); empty: none.
    "LOOKUPS": "",
    # Megabytes a query worker may allocate beyond what it holds at start (503 past it).
    "QUERY_MEMORY": 1024,
    # Megabytes of the graph (shared with the broker that forked it) a worker may copy, by
    # writing to what it reads, before it makes way for a fresh fork after its query: so
    # every worker does not end up with a whole copy of the graph. 0: never. At 10^6 triples
    # 4 workers at 32 MB took the tree to 2.05-2.07x Oxigraph's PSS, at 16 MB to 1.84-1.87x;
    # a fork takes milliseconds (bench/README.md).
    "QUERY_RECYCLE": 16,
    # Per client (an address): queries running or waiting at once, and query seconds it may
    # use per minute; past either, 429 with Retry-After. 0 turns a limit off.
    "CLIENT_QUERIES": 2,
    "CLIENT_SECONDS": 60.0,
    # The client is the first hop of X-Forwarded-For (the entry the proxy appended) only when
    # the server runs behind a trusted reverse proxy; otherwise the peer address.
    "TRUST_PROXY": False,
    # Set by serve: requests come through its connection gate, which names the client in
    # X-Palmyra-Client.
    "BEHIND_GATE": False,
    # SERVICE endpoints a query may call; empty refuses every SERVICE clause. Queries that
    # call them run on FEDERATED_WORKERS workers that may reach the network.
    "ALLOW_SERVICE": [],
    "FEDERATED_WORKERS": 1,
    # The example questions of the query page (NAME.rq, with their answers beside them).
    "QUERIES_DIR": str(resources.QUERIES_DIR),
    # Where dumps are written once, under the graph's fingerprint, and streamed from (empty:
    # $XDG_CACHE_HOME/palmyra-graph/dumps).
    "DUMPS_DIR": "",
    # Bytes of whole answers each server process keeps to answer a repeated query without
    # evaluating it (the graph does not change while served); 0 turns the cache off. At 10^6
    # after 100,000 distinct lookups: 627 MB PSS with 16 MiB (level), 696 MB and rising with
    # 64 MiB, against 331 MB for Oxigraph's server.
    "CACHE_BYTES": 16 * 2**20,
    # Seconds browsers and proxies may reuse a GET answer (Cache-Control: public, max-age).
    "CACHE_MAX_AGE": 300,
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
    app = _App(__name__)
    configure(app.config, config)
    pool = query_pool(app.config)
    app.extensions["palmyra.pool"] = pool
    app.extensions["palmyra.engine"] = _engine(app.config, pool)
    fingerprint = graph_fingerprint(app.config)
    app.extensions["palmyra.fingerprint"] = fingerprint
    # Answers are kept only for a graph that cannot change while it is served.
    app.extensions["palmyra.cache"] = AnswerCache(
        int(app.config["CACHE_BYTES"]) if fingerprint else 0
    )
    lookups = app.config["LOOKUPS"] if pool is not None else ""
    app.extensions["palmyra.lookups"] = LookupStore(Path(lookups)) if lookups else None
    _register_blueprints(app)
    app.before_request(_relative_redirect)
    app.register_error_handler(PalmyraError, _palmyra_error)
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)
    return app


class _App(Flask):
    """Flask, with an ``OPTIONS`` answer that is an empty body with no content type: Flask's
    own is labelled ``text/html``, which would draw a page's CSP onto nothing."""

    def make_default_options_response(self) -> Response:
        response = super().make_default_options_response()
        del response.headers["Content-Type"]
        return response


def configure(target: Config, overrides: Mapping[str, Any] | None = None) -> Config:
    """Every setting: the defaults, then the ``PALMYRA_*`` environment, then ``overrides``,
    normalised and checked (``serve`` reads them without building an app).

    Raises:
        SettingError: a setting cannot be used.
    """
    target.from_mapping(DEFAULTS)
    target.from_prefixed_env("PALMYRA")
    if overrides:
        target.from_mapping(overrides)
    _normalise(target)
    return target


def settings(overrides: Mapping[str, Any] | None = None) -> Config:
    """The app's settings as :func:`create_app` would have them, without building it."""
    return configure(Config("."), overrides)


def _engine(config: Mapping[str, Any], pool: QueryPool | None) -> Engine:
    """The engine the settings ask for: an on-disk store, a remote endpoint, or DATA_FILES;
    under ``serve`` (a broker's socket given) the query workers, which hold the one graph."""
    if pool is not None and config["QUERY_SERVICE"]:
        from palmyra_graph.workers.engine import BrokerEngine

        return BrokerEngine(pool, client=_requester)
    if config["STORE"]:
        from palmyra_graph.query.store import open_engine

        return open_engine(config["STORE"])
    if config["REMOTE"]:
        from palmyra_graph.query.remote import RemoteEngine

        return RemoteEngine(
            config["REMOTE"],
            timeout=float(config["QUERY_TIMEOUT"]),
            graphs=graph_names(config["DATA_FILES"]),
        )
    return OxigraphEngine.from_files(config["DATA_FILES"])


def query_pool(config: Mapping[str, Any]) -> QueryPool | None:
    """Killable query workers over the same graph (none for a remote endpoint, which keeps
    its own time limit, or when QUERY_WORKERS is 0). They start on the first query."""
    if config["REMOTE"] or int(config["QUERY_WORKERS"]) <= 0:
        return None
    spec = EngineSpec(data_files=tuple(config["DATA_FILES"]), store=config["STORE"] or None)
    limits = ClientLimits(
        concurrency=int(config["CLIENT_QUERIES"]), budget=float(config["CLIENT_SECONDS"])
    )
    return QueryPool(
        spec,
        size=int(config["QUERY_WORKERS"]),
        timeout=config["QUERY_TIMEOUT"],
        address=config["QUERY_SERVICE"] or None,
        federated_size=int(config["FEDERATED_WORKERS"]) if config["ALLOW_SERVICE"] else 0,
        memory=int(config["QUERY_MEMORY"]) * 2**20,
        recycle=int(config["QUERY_RECYCLE"]) * 2**20,
        limits=limits,
    )


def graph_fingerprint(config: Mapping[str, Any]) -> str:
    """What identifies the served graph: the files (or the store) it is read from, and this
    version; "" for a remote store, whose data may change while it is served."""
    if config["REMOTE"]:
        return ""
    sources = [config["STORE"]] if config["STORE"] else config["DATA_FILES"]
    return request_key(__version__, fingerprint(sources))


def _requester() -> str:
    """Who a page view's queries are for: the client of the request being answered."""
    from palmyra_graph.web.context import client_address

    return client_address() if has_request_context() else "server"


def _normalise(config: Config) -> None:
    """Accept list-valued settings given as a space- or comma-separated string (env vars)."""
    for key in ("DATA_FILES", "ALLOW_SERVICE"):
        value = config[key]
        if isinstance(value, str):
            config[key] = [v for v in value.replace(",", " ").split() if v]
    config["QUERY_TIMEOUT"] = float(config["QUERY_TIMEOUT"])
    try:  # checked once here, not as a 500 on every request
        allow_list(config["ALLOW_SERVICE"])
    except ValueError as exc:
        raise SettingError(f"ALLOW_SERVICE (--allow-service): {exc}") from exc
    if not is_absolute(str(config["BASE_IRI"])):
        raise SettingError(f"BASE_IRI is not an absolute IRI: {config['BASE_IRI']!r}")


#: Modules that each expose a Flask blueprint ``bp``, registered in this order.
BLUEPRINTS = ("sparql", "dumps", "void", "linked_data", "quality", "pages", "headers")


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        module = importlib.import_module(f"palmyra_graph.web.{name}")
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


def _method_not_allowed(error: MethodNotAllowed) -> Response:
    """405 in plain text, with ``Allow`` listing what the route serves."""
    allowed = sorted(error.valid_methods or ())
    use = " or ".join(m for m in allowed if m not in ("HEAD", "OPTIONS"))
    body = f"method {request.method} is not allowed on {request.path}: use {use}\n"
    response = Response(body, status=405, mimetype="text/plain")
    response.allow.update(allowed)
    return response


def _palmyra_error(error: PalmyraError) -> Response:
    response = Response(str(error) + "\n", status=error.http_status, mimetype="text/plain")
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
