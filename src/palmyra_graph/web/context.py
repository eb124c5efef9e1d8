"""What every part of the web app reads about the app it runs in: its engine, its query
workers, who sent the request, and its own public URLs (never built from the Host header)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request

from palmyra_graph.query.cache import AnswerCache
from palmyra_graph.query.engine import Engine
from palmyra_graph.query.lookup import LookupStore
from palmyra_graph.workers.pool import QueryPool


def cache_of(app: Flask) -> AnswerCache:
    """The app's answer cache (empty and storing nothing when CACHE_BYTES is 0)."""
    cache: AnswerCache = app.extensions["palmyra.cache"]
    return cache


def fingerprint_of(app: Flask) -> str:
    """What identifies the graph the app serves ("" for a remote store, which may change)."""
    fingerprint: str = app.extensions["palmyra.fingerprint"]
    return fingerprint


def pool_of(app: Flask) -> QueryPool | None:
    """The app's query workers, or None when queries run in the request thread."""
    pool: QueryPool | None = app.extensions["palmyra.pool"]
    return pool


def lookups_of(app: Flask) -> LookupStore | None:
    """The store one-pattern lookups are answered from in the request thread, if any."""
    lookups: LookupStore | None = app.extensions["palmyra.lookups"]
    return lookups


def engine_of(app: Flask) -> Engine:
    """The engine an app was built with."""
    engine: Engine = app.extensions["palmyra.engine"]
    return engine


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


def client_address() -> str:
    """Who sent this request, for the per-client limits: the address the connection gate
    names, the entry a trusted proxy appended to X-Forwarded-For, or the peer address."""
    config = current_app.config
    if config["BEHIND_GATE"] and "X-Palmyra-Client" in request.headers:
        return request.headers["X-Palmyra-Client"]
    forwarded = request.headers.get("X-Forwarded-For", "")
    if config["TRUST_PROXY"] and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.remote_addr or "unknown"
