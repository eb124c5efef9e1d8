"""The SPARQL 1.1 Service Description of ``/sparql`` (https://www.w3.org/TR/sparql11-service-description/).

Returned by a GET on the endpoint without a query, in the negotiated RDF format. It names the
endpoint (``sd:endpoint``, from the PUBLIC_URL setting, never the Host header), the language,
the result formats, the ``sd:UnionDefaultGraph`` feature (the default graph is the union of the
named graphs), a ``sd:namedGraph`` for each loaded file with its triple count
(``void:triples``), and, as ``rdfs:comment``, the base IRI relative IRIs in a query resolve
against and what a call to an unknown function gives.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from palmyra_graph.graph.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from palmyra_graph.query.engine import Engine

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: W3C's format IRIs (https://www.w3.org/ns/formats/) for the media types we serve.
FORMAT_IRIS: dict[str, str] = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def _triples(node: ox.BlankNode, count: int) -> ox.Triple:
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    return ox.Triple(node, ox.NamedNode(VOID + "triples"), ox.Literal(str(count), datatype=integer))


def service_description(
    endpoint: str, engine: Engine, *, federated: bool = False, base: str | None = None
) -> list[ox.Triple]:
    """The triples describing the service at ``endpoint`` over the graphs of ``engine``.

    Args:
        endpoint: the endpoint's absolute URL, as the client reached it.
        engine: the engine the endpoint queries (its named graphs are listed).
        federated: whether some SERVICE endpoints are allowed (``sd:BasicFederatedQuery``).
        base: the IRI relative IRIs in a query resolve against (the vocabulary has no term
            for it, so an ``rdfs:comment`` says it).
    """
    service = ox.BlankNode("service")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        _comment(service, UNKNOWN_FUNCTIONS),
    ]
    if base is not None:
        triples.append(_comment(service, BASE_COMMENT.format(base=base)))
    if federated:
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    triples += _result_formats(service, (*RESULT_FORMATS, *GRAPH_FORMATS))
    triples += _dataset(service, engine)
    return triples


#: What the comments of the service say.
BASE_COMMENT = (
    "Relative IRIs in a query resolve against <{base}>, the base IRI of the dataset, unless "
    "the query declares a BASE of its own."
)
UNKNOWN_FUNCTIONS = (
    "A call to a function this service does not know is an expression error (SPARQL 1.1 "
    "section 17.3): a FILTER drops the solution, a BIND leaves its variable unbound."
)


def _comment(service: ox.BlankNode, text: str) -> ox.Triple:
    comment = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
    return ox.Triple(service, comment, ox.Literal(text, language="en"))


def _result_formats(service: ox.BlankNode, formats: Iterable[Format]) -> list[ox.Triple]:
    return [
        ox.Triple(
            service,
            _sd("resultFormat"),
            ox.NamedNode("http://www.w3.org/ns/formats/" + FORMAT_IRIS[fmt.media_type]),
        )
        for fmt in formats
    ]


def _dataset(service: ox.BlankNode, engine: Engine) -> list[ox.Triple]:
    counts = engine.counts()
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("default")
    triples = [
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _sd("Graph")),
        _triples(default, counts["triples"]),
    ]
    for index, name in enumerate(engine.graph_names()):
        named, graph = ox.BlankNode(f"named{index}"), ox.BlankNode(f"graph{index}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(name)),
            ox.Triple(named, _sd("graph"), graph),
            ox.Triple(graph, RDF_TYPE, _sd("Graph")),
            _triples(graph, counts.get(name, 0)),
        ]
    return triples
