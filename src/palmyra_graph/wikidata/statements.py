"""Wikidata statements built from our claims, and their QuickStatements V1 lines.

A statement is an item, a property and a value, with qualifier pairs, the reference groups of
every claim it states (:mod:`palmyra_graph.wikidata.references`), and those claims. V1
(https://www.wikidata.org/wiki/Help:QuickStatements): one line per reference group, tab-
separated ``item  property  value``, then the qualifier pairs, then the group; QuickStatements
adds each further line's reference (and qualifiers) to the statement the first line made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.namespaces import CLAIM, OWL, PROV, RDFS, WDT, XSD, local_name
from palmyra_graph.wikidata.references import quoted, references, time_value

_INTEGERS = {XSD.integer, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.int, XSD.long}


@dataclass(frozen=True)
class Skipped:
    """A claim that was not exported, and why."""

    claim: URIRef
    reason: str


@dataclass
class Statement:
    """One Wikidata statement and the claims of ours it states."""

    item: str
    prop: str
    value: str
    qualifiers: list[tuple[str, str]] = field(default_factory=list)
    claims: list[URIRef] = field(default_factory=list)

    def add_claim(self, claim: URIRef) -> None:
        if claim not in self.claims:
            self.claims.append(claim)

    def add_qualifier(self, prop: str, value: str) -> None:
        if (prop, value) not in self.qualifiers:
            self.qualifiers.append((prop, value))

    def lines(self, graph: Graph) -> tuple[list[str], list[str]]:
        """One V1 line per reference group of its claims' sources, and notes on sources that
        stood in for others (see ``references``)."""
        sources = [s for c in self.claims for s in graph.objects(c, PROV.wasDerivedFrom)]
        found = references(graph, sources)
        head = [self.item, self.prop, self.value, *(x for pair in self.qualifiers for x in pair)]
        notes = [f"{self.item} {self.prop} {self.value}: {note}" for note in found.notes]
        return ["\t".join(head + list(group)) for group in found.groups], notes

    def sort_key(self) -> tuple[str, int, str]:
        return (self.item, int(self.prop[1:]), self.value)


def wikidata_property(graph: Graph, predicate: Node | None) -> str | None:
    """``P…`` when the ontology says ``predicate owl:equivalentProperty wdt:P…``."""
    return aligned(graph, predicate, (OWL.equivalentProperty,))


def aligned(graph: Graph, node: Node | None, links: tuple[URIRef, ...]) -> str | None:
    """The ``P…`` that ``node`` is aligned to in the ontology by one of ``links``."""
    if node is None:
        return None
    for link in links:
        for other in sorted(graph.objects(node, link), key=str):
            if str(other).startswith(str(WDT)):
                return str(other)[len(str(WDT)) :]
    return None


def literal_value(literal: Literal) -> str | None:
    """A literal in QuickStatements syntax: time, quantity, monolingual text or string."""
    if literal.datatype == XSD.date:
        return time_value(str(literal))
    if literal.datatype in _INTEGERS:
        return str(int(literal))
    if literal.language:
        return f'{literal.language}:"{quoted(str(literal))}"'
    if literal.datatype in (None, XSD.string):
        return f'"{quoted(str(literal))}"'
    return None


def label(graph: Graph, node: Node | None) -> str:
    """The node's label, else its IRI's last segment."""
    found = graph.value(node, RDFS.label) if node is not None else None
    return str(found) if found is not None else local_name(node)


def short(claim: URIRef) -> str:
    return "claim:" + str(claim).removeprefix(str(CLAIM))
