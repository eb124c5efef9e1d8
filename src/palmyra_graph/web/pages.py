"""The human pages: the home page (``/``) and the query page (``/query``).

The home page is built from the graph by SPARQL at each request (:mod:`palmyra_graph.web.home`,
drawn with :mod:`palmyra_graph.web.charts`). The query page is an editor whose script calls
``/sparql`` over the SPARQL 1.1 Protocol like any other client
(https://www.w3.org/TR/sparql11-protocol/#query-operation).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, request

from palmyra_graph.graph.namespaces import PREFIXES
from palmyra_graph.web import charts, figures, home
from palmyra_graph.web.context import engine_of
from palmyra_graph.web.examples import find, load_examples

bp = Blueprint("pages", __name__)

DEFAULT_QUERY = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX pal: <https://w3id.org/palmyra/ontology#>

# Everything the graph names, with its label
SELECT ?entity ?label WHERE {
  ?entity rdfs:label ?label .
  FILTER(STRSTARTS(STR(?entity), "https://w3id.org/palmyra/id/"))
}
ORDER BY ?label
"""


@bp.app_template_filter("local")
def local_path(iri: str | None) -> str:
    """Our IRI ``https://w3id.org/palmyra/id/x`` as this server's path ``/id/x``; others as is."""
    if not iri:
        return ""
    base = str(current_app.config["BASE_IRI"])
    return "/" + iri[len(base) :] if iri.startswith(base) else iri


@bp.app_template_filter("long_date")
def long_date(iso: str | None) -> str:
    """``2017-01-13`` as ``13 January 2017``."""
    return charts.long_date(iso or "")


@bp.get("/")
def index() -> str:
    """The offensive at a glance, every item read from the graph now."""
    engine = engine_of(current_app)
    counts = figures.figures(engine)
    dated = figures.dated_claims(engine)
    return render_template(
        "home.html",
        title=home.title(engine),
        about=home.about(engine),
        overview=home.overview(engine),
        sides=home.sides(engine),
        commanders=home.commanders(engine),
        figures=counts,
        dated=dated,
        timeline=charts.timeline(dated),
        chart=charts.casualty_chart(counts["casualties"]),
        offensive=home.OFFENSIVE,
        examples=load_examples(_queries_dir()),
    )


@bp.get("/query")
def query() -> str:
    """The query editor, filled from ``?query=`` (a shared link), ``?example=`` or a default."""
    examples = load_examples(_queries_dir())
    chosen = find(examples, request.args.get("example"))
    text = request.args.get("query") or (chosen.sparql if chosen else DEFAULT_QUERY)
    return render_template(
        "query.html",
        examples=examples,
        chosen=chosen,
        sparql=text,
        run_on_load="query" in request.args,
        base_iri=current_app.config["BASE_IRI"],
        prefixes=PREFIXES,
    )


def _queries_dir() -> Path:
    """Where the example questions are (the ``QUERIES_DIR`` setting)."""
    return Path(current_app.config["QUERIES_DIR"])
