"""A VoID description of the dataset at ``/.well-known/void`` (https://www.w3.org/TR/void/).

Every number is counted by SPARQL over the served graph at request time (§4.6 statistics):
triples, entities, distinct subjects and objects, properties and classes, class partitions
(§4.6.1, instances per class) and property partitions (triples per property). Subsets with a
``void:uriSpace`` count the entities, claims, sources and figures (§4.5); a ``void:Linkset``
counts the ``owl:sameAs`` links into Wikidata (§3). The SPARQL endpoint and every dump are
given as URLs on this server (§6.1, §6.3), built from PUBLIC_URL, never from the Host header;
each dump with its media type, and the N-Quads and TriG dumps with a note that they hold every
triple in a named graph and none in the default graph. The title, licence and derivation come
from the dataset's own triples in the data (§4.1); the SHACL validation report of the data
(``/quality``) is ``rdfs:seeAlso``.
Turtle unless the client asks for another format.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import rdflib
from flask import Blueprint, Flask, Response, current_app, request
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, VOID, XSD

from palmyra_graph.errors import NotAcceptable
from palmyra_graph.graph import formats
from palmyra_graph.graph.export import QUAD_FORMATS, graph_from_triples, serialize_graph
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.namespaces import PAL, WD
from palmyra_graph.query.engine import Engine
from palmyra_graph.web.context import engine_of, public_url
from palmyra_graph.web.dumps import dump_filename
from palmyra_graph.web.findings import REPORT_LABEL, quality_of

bp = Blueprint("void", __name__)

PATH = "/.well-known/void"
FOAF_HOMEPAGE = URIRef("http://xmlns.com/foaf/0.1/homepage")
#: W3C format IRIs (https://www.w3.org/ns/formats/) for ``void:feature``.
FEATURES = {
    formats.TURTLE: "Turtle",
    formats.NTRIPLES: "N-Triples",
    formats.JSONLD: "JSON-LD",
    formats.RDFXML: "RDF_XML",
    formats.NQUADS: "N-Quads",
    formats.TRIG: "TriG",
}
#: The subsets counted by IRI space: (fragment, space under the base IRI, title).
SUBSETS = (
    ("entities", "id/", "Entities: events, places, states, groups, units, people, publishers"),
    ("claims", "claim/", "Claims: one sourced statement node per fact"),
    ("sources", "source/", "Sources: the article's references and the article itself"),
    ("figures", "figure/", "Figures: counts with their measure, party and bounds"),
)


@bp.get(PATH)
def void() -> Response:
    """The VoID description, negotiated (Turtle by default); 406 for an unknown format."""
    fmt = formats.negotiate(request.headers.get("Accept"), formats.GRAPH_FORMATS)
    if fmt is None:
        offered = ", ".join(f.media_type for f in formats.GRAPH_FORMATS)
        raise NotAcceptable(f"the VoID description is offered as {offered}")
    graph = describe_dataset(
        engine_of(current_app),
        base=current_app.config["BASE_IRI"],
        document=public_url(current_app, "void.void"),
        endpoint=public_url(current_app, "sparql.sparql"),
        dumps={_dump_url(dump): dump for dump in FEATURES},
        report=_report(current_app),
    )
    response = Response(serialize_graph(graph, fmt), content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    return response


def _dump_url(fmt: Format) -> str:
    return public_url(current_app, "dumps.dump", filename=dump_filename(fmt))


def _report(app: Flask) -> str | None:
    """The validation report's IRI, when the served data was validated."""
    quality = quality_of(app)
    return quality.iri if quality.available else None


def describe_dataset(
    engine: Engine,
    *,
    base: str,
    document: str,
    endpoint: str,
    dumps: dict[str, Format],
    report: str | None = None,
) -> rdflib.Graph:
    """The VoID graph of the dataset ``{base}dataset``, described by the document at ``document``.

    Args:
        engine: the graph to count in.
        base: the base IRI of the data (``https://w3id.org/palmyra/``).
        document: the URL of the VoID document; subsets and linksets are fragments of it.
        endpoint: the URL of the SPARQL endpoint.
        dumps: the URL of each dump, with its format.
        report: the IRI of the SHACL validation report (``/quality``), linked with
            ``rdfs:seeAlso``.
    """
    dataset = URIRef(base + "dataset")
    graph = graph_from_triples(_own_triples(engine, str(dataset)))
    graph.bind("foaf", "http://xmlns.com/foaf/0.1/")
    graph.bind("dcat", "http://www.w3.org/ns/dcat#")
    add = graph.add
    add((dataset, RDF.type, VOID.Dataset))
    add((dataset, VOID.uriSpace, Literal(base)))
    add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    add((dataset, VOID.vocabulary, URIRef(str(PAL))))
    for url, fmt in dumps.items():
        add((dataset, VOID.dataDump, URIRef(url)))
        _add_dump(graph, URIRef(url), fmt)
    for name in FEATURES.values():
        add((dataset, VOID.feature, URIRef(f"http://www.w3.org/ns/formats/{name}")))
    if report is not None:
        _add_report(graph, dataset, URIRef(report))
    _add_statistics(graph, engine, dataset)
    _add_subsets(graph, engine, dataset, base, document)
    _add_wikidata_linkset(graph, engine, dataset, document)
    return graph


def _add_report(graph: rdflib.Graph, dataset: URIRef, report: URIRef) -> None:
    graph.add((dataset, RDFS.seeAlso, report))
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, RDFS.label, Literal(REPORT_LABEL, lang="en")))


#: What a quad dump's description says, since a store whose default graph is not the union of
#: its named graphs shows none of its triples to a query without GRAPH or FROM.
NAMED_GRAPHS_NOTE = (
    "Every triple of this dump is in a named graph, one per file the graph is built from (the "
    "ontology, the data), and none is in the default graph: load it into a store whose default "
    "graph is the union of its named graphs, or query it with GRAPH or FROM; the Turtle, "
    "N-Triples, JSON-LD and RDF/XML dumps hold the same triples as one graph."
)


def _add_dump(graph: rdflib.Graph, dump: URIRef, fmt: Format) -> None:
    graph.add((dump, DCTERMS["format"], Literal(fmt.media_type)))
    if fmt in QUAD_FORMATS:
        graph.add((dump, RDFS.comment, Literal(NAMED_GRAPHS_NOTE, lang="en")))


def _own_triples(engine: Engine, dataset: str) -> Iterator[ox.Triple]:
    result = engine.query(f"CONSTRUCT {{ <{dataset}> ?p ?o }} WHERE {{ <{dataset}> ?p ?o }}")
    yield from result.triples()


def _add_statistics(graph: rdflib.Graph, engine: Engine, dataset: URIRef) -> None:
    for prop, expression in (
        (VOID.triples, "(COUNT(*) AS ?n)"),
        (VOID.distinctSubjects, "(COUNT(DISTINCT ?s) AS ?n)"),
        (VOID.properties, "(COUNT(DISTINCT ?p) AS ?n)"),
        (VOID.distinctObjects, "(COUNT(DISTINCT ?o) AS ?n)"),
    ):
        graph.add((dataset, prop, _integer(_count(engine, expression, "?s ?p ?o"))))
    graph.add(
        (dataset, VOID.classes, _integer(_count(engine, "(COUNT(DISTINCT ?o) AS ?n)", "?s a ?o")))
    )
    for cls, n in _rows(
        engine, "SELECT ?k (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?k } GROUP BY ?k"
    ):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], cls))
        graph.add((partition, VOID.entities, _integer(n)))
    for prop, n in _rows(engine, "SELECT ?k (COUNT(*) AS ?n) WHERE { ?s ?k ?o } GROUP BY ?k"):
        partition = BNode()
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, prop))
        graph.add((partition, VOID.triples, _integer(n)))


def _add_subsets(
    graph: rdflib.Graph, engine: Engine, dataset: URIRef, base: str, document: str
) -> None:
    for fragment, space, title in SUBSETS:
        subset = URIRef(f"{document}#{fragment}")
        where = f'?s ?p ?o FILTER(STRSTARTS(STR(?s), "{base}{space}"))'
        graph.add((dataset, VOID.subset, subset))
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, DCTERMS.title, Literal(title, lang="en")))
        graph.add((subset, VOID.uriSpace, Literal(base + space)))
        graph.add(
            (subset, VOID.entities, _integer(_count(engine, "(COUNT(DISTINCT ?s) AS ?n)", where)))
        )
        graph.add((subset, VOID.triples, _integer(_count(engine, "(COUNT(*) AS ?n)", where))))


def _add_wikidata_linkset(
    graph: rdflib.Graph, engine: Engine, dataset: URIRef, document: str
) -> None:
    linkset, wikidata = URIRef(f"{document}#wikidata-links"), URIRef(f"{document}#wikidata")
    where = f'?s owl:sameAs ?o FILTER(STRSTARTS(STR(?o), "{WD}"))'
    links = _count(engine, "(COUNT(*) AS ?n)", where)
    graph.add((dataset, VOID.subset, linkset))
    graph.add((linkset, RDF.type, VOID.Linkset))
    graph.add((linkset, VOID.linkPredicate, OWL.sameAs))
    graph.add((linkset, VOID.subjectsTarget, dataset))
    graph.add((linkset, VOID.objectsTarget, wikidata))
    graph.add((linkset, VOID.triples, _integer(links)))
    graph.add((wikidata, RDF.type, VOID.Dataset))
    graph.add((wikidata, DCTERMS.title, Literal("Wikidata", lang="en")))
    graph.add((wikidata, VOID.uriSpace, Literal(str(WD))))
    graph.add((wikidata, FOAF_HOMEPAGE, URIRef("https://www.wikidata.org/")))
    graph.add((wikidata, VOID.sparqlEndpoint, URIRef("https://query.wikidata.org/sparql")))


_PREFIXES = (
    "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
)


def _count(engine: Engine, expression: str, where: str) -> int:
    result = engine.query(f"{_PREFIXES}SELECT {expression} WHERE {{ {where} }}")
    for solution in result.solutions():
        return int(solution["n"].value)
    return 0


def _rows(engine: Engine, sparql: str) -> list[tuple[URIRef, int]]:
    """(IRI, count) rows of a grouped count, IRIs only (blank node classes are not counted)."""
    rows = []
    for solution in engine.query(_PREFIXES + sparql).solutions():
        key = solution["k"]
        if isinstance(key, ox.NamedNode):
            rows.append((URIRef(key.value), int(solution["n"].value)))
    return rows


def _integer(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)
