"""Every IRI of the dataset dereferences on this server (https://www.w3.org/TR/cooluris/).

The data's base IRI (config ``BASE_IRI``, ``https://w3id.org/palmyra/``) is mapped onto this
server's paths: ``/id/x`` answers for ``{BASE_IRI}id/x``, and likewise ``/claim/``,
``/source/``, ``/figure/``, ``/dataset`` and ``/ontology``, so the same data serves on localhost
and in production. A resource's representation is its description (``engine.describe``): own
triples, the claims about it with their sources, figures and labels.

Content negotiation (RFC 9110 §12.5.1) picks HTML for a browser and Turtle, JSON-LD,
N-Triples or RDF/XML for a machine (Turtle for ``*/*``); a suffix (``.ttl``, ``.jsonld``,
``.nt``, ``.rdf``, ``.html``) names one representation outright. Responses carry
``Vary: Accept``, ``Content-Location`` of the chosen representation and ``Link`` headers to
the others (RFC 8288). An unknown IRI is a 404 with a page that suggests near names.

Paths are only ever turned into IRIs, never into file names, and a slug must match
``[A-Za-z0-9][A-Za-z0-9._~-]*``: nothing else reaches a query.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, render_template, request

from palmyra_graph.errors import NotAcceptable
from palmyra_graph.graph import formats
from palmyra_graph.graph.export import export_files, graph_from_triples, serialize_graph
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.namespaces import RDFS
from palmyra_graph.web.context import engine_of
from palmyra_graph.web.dumps import Download, modified_time, send
from palmyra_graph.web.entity import build_page
from palmyra_graph.web.findings import REPORT_LABEL, Quality, quality_of

bp = Blueprint("linked_data", __name__)

#: The IRI spaces that dereference, as path prefixes under the base IRI.
SPACES = ("id", "claim", "source", "figure")
#: Representations offered, the first for ``*/*`` or no Accept.
OFFERED: tuple[Format, ...] = (
    formats.TURTLE,
    formats.HTML,
    formats.JSONLD,
    formats.NTRIPLES,
    formats.RDFXML,
)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")
SUFFIXES = {fmt.suffix: fmt for fmt in OFFERED}


def _resource(space: str, slug: str) -> Response:
    stem, fmt = _split_suffix(slug)
    base = current_app.config["BASE_IRI"]
    engine = engine_of(current_app)
    if _SLUG.fullmatch(slug) and _exists(base + space + slug):
        stem, fmt = slug, None  # a slug that itself contains a suffix-like dot
    iri = base + space + stem
    if not _SLUG.fullmatch(stem) or not _exists(iri):
        return _not_found(space, stem)
    path = "/" + space + stem
    chosen = fmt or negotiate(OFFERED)
    quality = quality_of(current_app)
    triples = [*engine.describe(iri).triples(), *_report_link(quality, iri)]
    if chosen == formats.HTML:
        findings = quality.about(iri)
        page = build_page(engine, iri, triples, local=_local, findings=findings)
        body = render_template("entity.html", page=page, alternates=alternates(path), base_iri=base)
        response = Response(body, content_type=formats.HTML.content_type)
    else:
        graph = graph_from_triples(triples)
        response = Response(serialize_graph(graph, chosen), content_type=chosen.content_type)
    return linked(response, path, chosen, negotiated=fmt is None)


def _report_link(quality: Quality, iri: str) -> list[ox.Triple]:
    """For the dataset's description: ``rdfs:seeAlso`` its validation report (``/quality``)."""
    if iri != quality.base + "dataset" or not quality.available:
        return []
    dataset, report = ox.NamedNode(iri), ox.NamedNode(quality.iri)
    label = ox.Literal(REPORT_LABEL, language="en")
    return [
        ox.Triple(dataset, ox.NamedNode(str(RDFS.seeAlso)), report),
        ox.Triple(report, ox.NamedNode(str(RDFS.label)), label),
    ]


def _split_suffix(slug: str) -> tuple[str, Format | None]:
    for suffix, fmt in SUFFIXES.items():
        if slug.endswith(suffix) and len(slug) > len(suffix):
            return slug[: -len(suffix)], fmt
    return slug, None


def _exists(iri: str) -> bool:
    if any(ch in iri for ch in '<>"{}|^`\\ \n\t'):
        return False
    return engine_of(current_app).query(f"ASK {{ <{iri}> ?p ?o }}").boolean


def negotiate(offered: tuple[Format, ...]) -> Format:
    """The representation the request's Accept header prefers among ``offered``.

    Raises:
        NotAcceptable: none of ``offered`` is acceptable (406).
    """
    chosen = formats.negotiate(request.headers.get("Accept"), offered)
    if chosen is None:
        names = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(f"{request.path} is offered as {names}")
    return chosen


def _local(iri: str) -> str | None:
    """This server's path for one of our IRIs (``{BASE_IRI}id/x`` -> ``/id/x``), else None."""
    base = current_app.config["BASE_IRI"]
    if not iri.startswith(base):
        return None
    return request.script_root + "/" + iri[len(base) :]


def alternates(path: str) -> list[tuple[Format, str]]:
    """Each offered representation of ``path`` with its URL (the path and the format's suffix)."""
    return [(fmt, request.script_root + path + fmt.suffix) for fmt in OFFERED]


def linked(response: Response, path: str, chosen: Format, *, negotiated: bool) -> Response:
    """Vary, Content-Location and Link headers: where this representation and the others are."""
    root = request.script_root
    links = [
        f'<{url}>; rel="alternate"; type="{fmt.media_type}"'
        for fmt, url in alternates(path)
        if fmt != chosen
    ]
    links.append(f'<{root}{path}>; rel="canonical"')
    response.headers["Link"] = ", ".join(links)
    response.headers["Content-Location"] = root + path + chosen.suffix
    if negotiated:
        response.headers["Vary"] = "Accept"
    return response


def _not_found(space: str, stem: str) -> Response:
    """404: a page naming the IRI and the nearest known names, or plain text for machines."""
    iri = current_app.config["BASE_IRI"] + space + stem
    wants = formats.negotiate(request.headers.get("Accept"), (_PLAIN, formats.HTML))
    if wants != formats.HTML:
        body = f"not found: no resource {iri} in this graph\n"
        return Response(body, status=404, content_type=_PLAIN.content_type)
    page = render_template("not_found.html", iri=iri, suggestions=_near(space, stem))
    response = Response(page, status=404, content_type=formats.HTML.content_type)
    response.headers["Vary"] = "Accept"
    return response


_PLAIN = Format("text/plain", ("text",), ".txt")


def _near(space: str, stem: str) -> list[tuple[str, str]]:
    """Up to five (path, label) of resources in ``space`` whose slug is close to ``stem``."""
    base = current_app.config["BASE_IRI"] + space
    query = (
        "SELECT DISTINCT ?s ?label WHERE { ?s ?p ?o "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}")) '
        "OPTIONAL { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } }"
    )
    labels: dict[str, str] = {}
    for row in engine_of(current_app).query(query).solutions():
        slug = row["s"].value[len(base) :]
        labels.setdefault(slug, row["label"].value if row["label"] is not None else slug)
    close = difflib.get_close_matches(stem.lower(), list(labels), n=5, cutoff=0.5)
    return [(f"{request.script_root}/{space}{slug}", labels[slug]) for slug in close]


#: The IRI spaces of the graph, each dereferenced under its own path: ``/id/palmyra`` (an
#: entity), ``/claim/…`` (a claim node), ``/source/3`` (reference 3 of the article), ``/figure/…``.
SPACES = ("id", "claim", "source", "figure")


@bp.get(f"/<any({', '.join(SPACES)}):space>/<path:slug>")
def resource(space: str, slug: str) -> Response:
    """A resource of the graph, as a page or as RDF: ``/id/palmyra``, ``/source/3``."""
    return _resource(f"{space}/", slug)


@bp.get(
    "/<any(dataset, 'dataset.ttl', 'dataset.jsonld', 'dataset.nt', 'dataset.rdf', "
    "'dataset.html'):slug>"
)
def dataset(slug: str) -> Response:
    """The dataset's own description (title, licence, derivation); VoID has the statistics."""
    return _resource("", slug)


@bp.get("/ontology")
@bp.get("/ontology<any('.ttl', '.jsonld', '.nt', '.rdf', '.html'):suffix>")
def ontology(suffix: str = "") -> Response:
    """The ontology document: the whole vocabulary file, or a page listing its terms."""
    fmt = SUFFIXES[suffix] if suffix else negotiate(OFFERED)
    path = _ontology_file(current_app)
    if path is None:
        return _not_found("", "ontology")
    if fmt == formats.HTML:
        terms = _ontology_terms(current_app.config["BASE_IRI"])
        body = render_template("ontology.html", terms=terms, alternates=alternates("/ontology"))
        return linked(
            Response(body, content_type=fmt.content_type), "/ontology", fmt, negotiated=not suffix
        )
    download = Download(
        data=_ontology_export(current_app, path, fmt),
        content_type=fmt.content_type,
        filename="ontology" + fmt.suffix,
        last_modified=modified_time([path]),
    )
    response = send(download, attachment=False)
    return linked(response, "/ontology", fmt, negotiated=not suffix)


def _ontology_file(app: Flask) -> Path | None:
    """The loaded file whose graph holds ``{BASE_IRI}ontology a owl:Ontology``."""
    iri = app.config["BASE_IRI"] + "ontology"
    engine = engine_of(app)
    query = (
        "SELECT ?g WHERE { GRAPH ?g { <" + iri + "> a <http://www.w3.org/2002/07/owl#Ontology> } }"
    )
    graphs = getattr(getattr(engine, "loaded", None), "graphs", {})
    for row in engine.query(query).solutions():
        found = graphs.get(row["g"].value)
        if found is not None:
            return Path(found)
    return None


def _ontology_export(app: Flask, path: Path, fmt: Format) -> bytes:
    cache: dict[Format, bytes] = app.extensions.setdefault("palmyra.ontology", {})
    if fmt not in cache:
        cache[fmt] = export_files([path], fmt)
    return cache[fmt]


_TERMS = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term (SAMPLE(?l) AS ?label) (SAMPLE(?c) AS ?comment)
       (GROUP_CONCAT(DISTINCT STR(?k); separator=" ") AS ?kinds)
       (GROUP_CONCAT(DISTINCT STR(?eq); separator=" ") AS ?equivalents)
WHERE {
  ?term a ?k . FILTER(STRSTARTS(STR(?term), "VOCAB"))
  OPTIONAL { ?term rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }
  OPTIONAL { ?term rdfs:comment ?c }
  OPTIONAL { ?term owl:equivalentProperty|owl:equivalentClass|skos:exactMatch ?eq }
}
GROUP BY ?term ORDER BY ?term
"""


_COLUMNS = ("term", "label", "comment", "kinds", "equivalents")


def _ontology_terms(base: str) -> list[dict[str, str]]:
    """Each term of the vocabulary with its label, comment, kinds and equivalents."""
    vocabulary = base + "ontology#"
    terms = []
    for row in engine_of(current_app).query(_TERMS.replace("VOCAB", vocabulary)).solutions():
        text = {name: row[name].value if row[name] is not None else "" for name in _COLUMNS}
        terms.append(
            {
                **text,
                "name": text["term"][len(vocabulary) :],
                "kinds": " ".join(k.rsplit("#", 1)[-1] for k in text["kinds"].split()),
            }
        )
    return terms
