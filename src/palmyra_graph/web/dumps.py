"""Dumps of the whole graph for download, and the JSON-LD context, at stable URLs.

``/dumps/`` lists them; ``/dumps/palmyra.ttl`` (``.nt``, ``.jsonld``, ``.rdf``, ``.nq``,
``.trig``) is exactly what ``palmyra-graph export`` writes for the served files. Each is built
once per process on first request and served with ``Content-Disposition``, a strong ``ETag``
(a hash of the bytes) and ``Last-Modified`` (the newest file's time), so a conditional GET is
answered ``304 Not Modified`` (RFC 9110 §13.1, §15.4.5). ``/context.jsonld`` is
``ontology/context.jsonld``, which the JSON-LD dumps are compacted against.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request

from palmyra_graph.graph import formats
from palmyra_graph.graph.export import CONTEXT_FILE, QUAD_FORMATS, export_files
from palmyra_graph.graph.formats import Format

bp = Blueprint("dumps", __name__)

#: The file name of every dump, before its suffix.
DUMP_STEM = "palmyra"
_LOCK = threading.Lock()


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


def dump_filename(fmt: Format) -> str:
    """The file name of the dump in ``fmt`` (``palmyra.ttl``)."""
    return DUMP_STEM + fmt.suffix


def dump_of(app: Flask, fmt: Format) -> Download:
    """The app's dump in ``fmt``, exported from its data files on first use and then kept."""
    cache: dict[Format, Download] = app.extensions.setdefault("palmyra.dumps", {})
    with _LOCK:
        if fmt not in cache:
            files = [Path(f) for f in app.config["DATA_FILES"]]
            cache[fmt] = Download(
                data=export_files(files, fmt),
                content_type=fmt.content_type,
                filename=dump_filename(fmt),
                last_modified=modified_time(files),
            )
        return cache[fmt]


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
    """An HTML list of the dumps, with their media types, graphs and sizes: N-Quads and TriG
    hold every triple in a named graph, none in the default graph, and the page says so."""
    rows = [(fmt, dump_of(current_app, fmt), fmt in QUAD_FORMATS) for fmt in formats.DUMP_FORMATS]
    return render_template("dumps.html", rows=rows)


@bp.get("/dumps/<string:filename>")
def dump(filename: str) -> Response:
    """One dump, by file name; 404 for any other name."""
    for fmt in formats.DUMP_FORMATS:
        if filename == dump_filename(fmt):
            return send(dump_of(current_app, fmt))
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
