"""Dumps of the whole graph for download, and the JSON-LD context, at stable URLs.

``/dumps/`` lists them; ``/dumps/palmyra.ttl`` (``.nt``, ``.jsonld``, ``.rdf``, ``.nq``,
``.trig``) is exactly what ``palmyra-graph export`` writes for the served files. Each is
written once to a file under ``DUMPS_DIR``, keyed by the graph's fingerprint, by the first
request that wants it in any server process (:mod:`palmyra_graph.graph.dumpfiles`), and
streamed from that file with ``Content-Disposition``, a strong ``ETag`` (the fingerprint and
the format) and ``Last-Modified`` (the newest file's time), so a conditional GET is answered
``304 Not Modified`` (RFC 9110 §13.1, §15.4.5). No server process holds a dump's bytes.
``/context.jsonld`` is ``ontology/context.jsonld``, which the JSON-LD dumps are compacted
against.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
)

from palmyra_graph import __version__
from palmyra_graph.graph import dumpfiles, formats
from palmyra_graph.graph.dumpfiles import dump_filename
from palmyra_graph.graph.export import CONTEXT_FILE, QUAD_FORMATS
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.loader import fingerprint
from palmyra_graph.query.cache import request_key

bp = Blueprint("dumps", __name__)

#: Seconds browsers and proxies may reuse a dump (it changes only with the graph).
DUMP_MAX_AGE = 3600


@dataclass(frozen=True)
class Download:
    """Bytes to serve with their type, name and validators."""

    data: bytes
    content_type: str
    filename: str
    last_modified: datetime

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


def dump_key(config: Mapping[str, Any]) -> str:
    """What the dumps are keyed by: the data files' fingerprint and the package version (a new
    exporter writes new files)."""
    return request_key(__version__, fingerprint(config["DATA_FILES"]))


def _key_of(app: Flask) -> str:
    """The app's :func:`dump_key`, computed once: its files do not change while served (a
    stat of every data file on each request otherwise, three times for a download)."""
    key: str | None = app.extensions.get("palmyra.dump_key")
    if key is None:
        key = app.extensions["palmyra.dump_key"] = dump_key(app.config)
    return key


def dumps_dir(config: Mapping[str, Any]) -> Path:
    """``DUMPS_DIR``, or the user's cache directory when it is empty."""
    configured = config["DUMPS_DIR"]
    return Path(configured) if configured else dumpfiles.default_directory()


def dump_of(app: Flask, fmt: Format) -> Path:
    """The file of the app's dump in ``fmt``, exported from its data files on first use (by
    this or another process) and then kept on disk.

    Raises:
        LoadError: a data file cannot be read.
        OutputError: ``DUMPS_DIR`` cannot be written.
    """
    files = [Path(f) for f in app.config["DATA_FILES"]]
    directory, key = dumps_dir(app.config), _key_of(app)
    return dumpfiles.dump_file(files, fmt, directory=directory, key=key)


def writer_command(config: Mapping[str, Any]) -> list[str]:
    """The command that writes every dump not written yet (``serve`` runs it at start-up, so
    that no request has to wait for one), and first the store lookups are answered from when
    it is one of the dumps' neighbours (:func:`lookup_directory`)."""
    directory, key = dumps_dir(config), dump_key(config)
    store = ["--store"] if _lookups_beside_dumps(config) else []
    return [sys.executable, "-m", "palmyra_graph.graph.dumpfiles", *store, str(directory), key] + [
        str(f) for f in config["DATA_FILES"]
    ]


def lookup_directory(config: Mapping[str, Any]) -> Path | None:
    """The on-disk store ``serve``'s server processes answer one-pattern lookups from in the
    request thread (the app's LOOKUPS, :mod:`palmyra_graph.query.lookup`): the served store
    itself, else the one written beside the dumps; None where queries already run in the
    request thread (no workers) or are forwarded (a remote endpoint)."""
    if config["REMOTE"] or int(config["QUERY_WORKERS"]) <= 0:
        return None
    if config["STORE"]:
        return Path(config["STORE"])
    return dumpfiles.store_path(dumps_dir(config), dump_key(config))


def _lookups_beside_dumps(config: Mapping[str, Any]) -> bool:
    """Whether the lookups' store is one ``serve``'s writer must bulk-load beside the dumps
    (with workers, and no on-disk store or remote endpoint served instead)."""
    return not (config["REMOTE"] or config["STORE"]) and int(config["QUERY_WORKERS"]) > 0


def send_dump(app: Flask, fmt: Format) -> Response:
    """Stream the dump in ``fmt`` from its file, answering a conditional GET with 304."""
    path = dump_of(app, fmt)
    etag = hashlib.sha256(f"{_key_of(app)}\0{fmt.media_type}".encode()).hexdigest()[:32]
    files = [Path(f) for f in app.config["DATA_FILES"]]
    response = send_file(
        path,
        mimetype=fmt.content_type,
        etag=etag,
        last_modified=modified_time(files),
        max_age=DUMP_MAX_AGE,
        conditional=True,
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{dump_filename(fmt)}"'
    response.cache_control.public = True
    return response


def modified_time(files: list[Path]) -> datetime:
    newest = max((f.stat().st_mtime for f in files), default=0.0)
    return datetime.fromtimestamp(int(newest), tz=timezone.utc)


def send(download: Download, *, attachment: bool = True) -> Response:
    """Serve ``download`` with validators, answering a conditional GET or HEAD with 304."""
    response = Response(download.data, content_type=download.content_type)
    if attachment:
        response.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    response.set_etag(download.etag)
    response.last_modified = download.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.make_conditional(request)  # turns it into a 304 when the client's copy is current
    return response


@bp.get("/dumps/")
def index() -> str:
    """An HTML list of the dumps, with their media types, graphs, and the sizes of those
    written: N-Quads and TriG hold every triple in a named graph, none in the default graph,
    and the page says so."""
    directory, key = dumps_dir(current_app.config), _key_of(current_app)
    rows = [
        (fmt, dump_filename(fmt), dumpfiles.written(directory, key, fmt), fmt in QUAD_FORMATS)
        for fmt in formats.DUMP_FORMATS
    ]
    return render_template("dumps.html", rows=rows)


@bp.get("/dumps/<string:filename>")
def dump(filename: str) -> Response:
    """One dump, by file name; 404 for any other name."""
    for fmt in formats.DUMP_FORMATS:
        if filename == dump_filename(fmt):
            return send_dump(current_app, fmt)
    abort(404)


@bp.get("/context.jsonld")
def context() -> Response:
    """The project's JSON-LD context (CORS-enabled, as JSON-LD processors fetch contexts)."""
    download = Download(
        data=CONTEXT_FILE.read_bytes(),
        content_type=formats.JSONLD.content_type,
        filename=CONTEXT_FILE.name,
        last_modified=modified_time([CONTEXT_FILE]),
    )
    return send(download, attachment=False)
