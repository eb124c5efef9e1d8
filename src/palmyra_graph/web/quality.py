"""``/quality``: source criticism where readers look. The SHACL validation report of the served
data (:mod:`palmyra_graph.web.findings`, computed once per process) as a page grouped by rule,
each finding with its message, sources and what it is about linked, and by content negotiation
as an ``sh:ValidationReport`` (Turtle, JSON-LD, N-Triples, RDF/XML), negotiated as every
resource of :mod:`palmyra_graph.web.linked_data` is (a suffix names one outright).

Every reference marker on the pages points its findings out (``finding_marks``), and each
source page lists its own.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from palmyra_graph.graph import formats
from palmyra_graph.graph.export import serialize_graph
from palmyra_graph.graph.formats import Format
from palmyra_graph.web.findings import PATH, Finding, Quality, quality_of
from palmyra_graph.web.linked_data import OFFERED, SUFFIXES, alternates, linked, negotiate

bp = Blueprint("quality", __name__)

_ROUTE = "/" + PATH
_SUFFIX_RULE = "<any(" + ", ".join(f"'{s}'" for s in SUFFIXES) + "):suffix>"


@bp.get(_ROUTE)
@bp.get(_ROUTE + _SUFFIX_RULE)
def quality(suffix: str = "") -> Response:
    """The validation report, as a page or as RDF; 404 (with the reason) when there is none."""
    fmt = SUFFIXES[suffix] if suffix else negotiate(OFFERED)
    report = quality_of(current_app)
    if fmt == formats.HTML:
        body = render_template("quality.html", report=report, alternates=alternates(_ROUTE))
        response = Response(body, content_type=fmt.content_type)
    elif not report.available:
        text = f"no validation report: {report.reason}\n"
        response = Response(text, status=404, content_type="text/plain; charset=utf-8")
    else:
        response = Response(_serialized(report, fmt), content_type=fmt.content_type)
    return linked(response, _ROUTE, fmt, negotiated=not suffix)


def _serialized(report: Quality, fmt: Format) -> bytes:
    """The report graph in ``fmt``, serialized once (the report does not change)."""
    if fmt not in report.serialized:
        report.serialized[fmt] = serialize_graph(report.graph, fmt)
    return report.serialized[fmt]


@bp.app_template_global("finding_marks")
def finding_marks(source: str, claim: str | None = None) -> list[Finding]:
    """The findings a reference marker of ``source`` (on ``claim``) points out."""
    return quality_of(current_app).marks(source, claim)
