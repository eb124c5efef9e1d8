"""The graph's entities with their Wikidata item (or none), and how each link was made.

A link is ``id:x owl:sameAs wd:Q…``; its mapping node (``claim:x_sameAs_Q…``, a
``pal:Mapping``) records the SSSOM mapping justification, the date and the evidence
(see docs/data-model.md and https://mapping-commons.github.io/sssom/).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph import loader
from palmyra_graph.graph.claims import claim_iri
from palmyra_graph.graph.namespaces import DCTERMS, ID, OWL, PAL, RDF, RDFS, SKOS, WD

SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"
CONFIDENCE = URIRef(SSSOM + "confidence")
MAPPING_TOOL = URIRef(SSSOM + "mapping_tool")
REVIEWER_LABEL = URIRef(SSSOM + "reviewer_label")


@dataclass(frozen=True)
class Mapping:
    """How one link was made: the mapping node's justification, date, evidence and score."""

    node: URIRef
    justification: URIRef | None
    date: str | None
    comment: str | None
    confidence: float | None = None
    tool: str | None = None
    reviewer: str | None = None


@dataclass(frozen=True)
class Link:
    """One entity of the graph and its Wikidata item, if it has one."""

    entity: URIRef
    label: str
    classes: tuple[URIRef, ...]
    qid: str | None
    mapping: Mapping | None = None
    alt_labels: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return str(self.entity)[len(str(ID)) :]

    @property
    def item(self) -> URIRef | None:
        return WD[self.qid] if self.qid else None


def load_graph(paths: Sequence[Path | str] | None = None) -> Graph:
    """The ontology and data (default: the bundled files) merged into one rdflib Graph.

    Raises:
        LoadError: a file is missing or does not parse.
    """
    store = loader.load(paths).store
    triples = ox.serialize((quad.triple for quad in store), format=ox.RdfFormat.N_TRIPLES)
    graph = Graph()
    graph.parse(data=triples or b"", format="nt")
    return graph


def entities(graph: Graph) -> list[URIRef]:
    """Every entity: an IRI in the ``id:`` space with a type and a label, sorted."""
    found = {
        s
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(str(ID)) and (s, RDFS.label, None) in graph
    }
    return sorted(found, key=str)


def links(graph: Graph) -> list[Link]:
    """Every entity with its Wikidata item (``qid`` None when unlinked), sorted by IRI."""
    return [link_of(graph, entity) for entity in entities(graph)]


def link_of(graph: Graph, entity: URIRef) -> Link:
    """The entity's label, classes, Wikidata item and mapping node."""
    items = wikidata_items(graph, entity)
    qid = items[0] if items else None
    return Link(
        entity=entity,
        label=english_label(graph, entity),
        classes=tuple(sorted(_our_classes(graph, entity), key=str)),
        qid=qid,
        mapping=mapping_of(graph, entity, qid) if qid else None,
        alt_labels=tuple(sorted(str(o) for o in graph.objects(entity, SKOS.altLabel))),
    )


def wikidata_items(graph: Graph, entity: Node) -> list[str]:
    """The QIDs the entity is owl:sameAs, sorted."""
    prefix = str(WD)
    return sorted(
        str(o)[len(prefix) :]
        for o in graph.objects(entity, OWL.sameAs)
        if str(o).startswith(prefix)
    )


def wikidata_item(graph: Graph, node: Node | None) -> str | None:
    """The node's Wikidata item (``Q…``), if it is linked: the first of :func:`wikidata_items`."""
    items = wikidata_items(graph, node) if node is not None else []
    return items[0] if items else None


def english_label(graph: Graph, node: Node) -> str:
    """The node's English (or untagged) rdfs:label, or its IRI."""
    labels = [o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)]
    for label in labels:
        if label.language in ("en", None):
            return str(label)
    return str(labels[0]) if labels else str(node)


def mapping_of(graph: Graph, entity: URIRef, qid: str) -> Mapping | None:
    """The mapping node describing ``entity owl:sameAs wd:qid``, if the data has one."""
    node = claim_iri(entity, OWL.sameAs, WD[qid])
    if (node, RDF.subject, entity) not in graph:
        return None
    return Mapping(
        node=node,
        justification=_iri(graph.value(node, PAL.mappingJustification)),
        date=_text(graph.value(node, DCTERMS.date)),
        comment=_text(graph.value(node, RDFS.comment)),
        confidence=_number(graph.value(node, CONFIDENCE)),
        tool=_text(graph.value(node, MAPPING_TOOL)),
        reviewer=_text(graph.value(node, REVIEWER_LABEL)),
    )


def expected_types(graph: Graph, classes: Iterable[URIRef]) -> set[str]:
    """Wikidata classes our classes (or their superclasses) are aligned to, as QIDs.

    Alignments are ``owl:equivalentClass`` or ``skos:exactMatch`` to ``wd:Q…`` in the ontology.
    """
    found: set[str] = set()
    for cls in classes:
        for ancestor in graph.transitive_objects(cls, RDFS.subClassOf):
            for predicate in (OWL.equivalentClass, SKOS.exactMatch):
                found.update(
                    str(o)[len(str(WD)) :]
                    for o in graph.objects(ancestor, predicate)
                    if str(o).startswith(str(WD))
                )
    return found


def _our_classes(graph: Graph, entity: URIRef) -> set[URIRef]:
    return {o for o in graph.objects(entity, RDF.type) if isinstance(o, URIRef)}


def _iri(node: Node | None) -> URIRef | None:
    return node if isinstance(node, URIRef) else None


def _text(node: Node | None) -> str | None:
    return str(node) if node is not None else None


def _number(node: Node | None) -> float | None:
    if not isinstance(node, Literal):
        return None
    try:
        return float(node)
    except ValueError:
        return None
