"""Our sourced claims about linked entities as QuickStatements V1 commands.

Syntax: https://www.wikidata.org/wiki/Help:QuickStatements (command sequence, "V1"): one
statement per line, tab-separated ``item  property  value``, then qualifier pairs
(``P585  +2017-03-02T00:00:00Z/11``) and source pairs (``S248  Q…``). Every source pair on a
line is one reference, so a fact with two sources is two lines with the same statement, one
reference group each (:mod:`palmyra_graph.wikidata.references`); QuickStatements adds the
second reference to the statement the first made.

What is written (:mod:`palmyra_graph.wikidata.statements` holds the statements):

- participants (P710) with their commanders as P4791 qualifiers
  (:mod:`palmyra_graph.wikidata.participants`);
- casualty figures as P1120 / P1590, or why one cannot be
  (:mod:`palmyra_graph.wikidata.casualties`);
- every other claim whose property is ``owl:equivalentProperty`` to a Wikidata property in the
  ontology (start, end, part of, location, follows…), its value a linked item, a date, a number
  or a string, and its qualifiers aligned the same way (point in time, P585).

A claim is written when its subject is linked (owl:sameAs an item); everything else is skipped
with its reason, which ``summary`` lists (the command prints it on stderr).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.namespaces import PAL, RDF, local_name
from palmyra_graph.wikidata.casualties import casualty
from palmyra_graph.wikidata.links import wikidata_item
from palmyra_graph.wikidata.participants import participants
from palmyra_graph.wikidata.statements import (
    Skipped,
    Statement,
    label,
    literal_value,
    short,
    wikidata_property,
)

__all__ = ["Export", "Skipped", "Statement", "literal_value", "quickstatements"]


@dataclass
class Export:
    """The statements and their lines, the claims left out, and notes on references."""

    statements: list[Statement] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    exported: list[URIRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Each skipped claim with its reason, the notes, then the totals."""
        counts = Counter(s.reason for s in self.skipped)
        parts = [f"skipped {short(s.claim)}: {s.reason}" for s in self.skipped]
        parts += [f"note {note}" for note in self.notes]
        parts.append(
            f"{len(self.exported)} claims written as {len(self.statements)} statements "
            f"in {len(self.lines)} lines"
        )
        parts += [f"{n} skipped: {reason}" for reason, n in sorted(counts.items())]
        return "\n".join(parts)


def quickstatements(graph: Graph) -> Export:
    """Every claim node of ``graph`` as QuickStatements lines, or a reason it is skipped."""
    claims = sorted(_claims(graph), key=str)
    found = participants(graph, claims)
    statements = list(found.statements.values())
    skipped = {s.claim: s for s in found.skipped}
    for claim in claims:
        if claim in found.used or claim in skipped:
            continue
        made = _statement(graph, claim)
        if isinstance(made, str):
            skipped[claim] = Skipped(claim, made)
        else:
            statements.append(made)
    return _export(graph, statements, claims, skipped)


def _export(
    graph: Graph, statements: list[Statement], claims: list[URIRef], skipped: dict[URIRef, Skipped]
) -> Export:
    export = Export()
    for statement in sorted(statements, key=Statement.sort_key):
        lines, notes = statement.lines(graph)
        if not lines:
            for claim in statement.claims:
                skipped[claim] = Skipped(claim, "no source with a reference Wikidata can hold")
            continue
        export.statements.append(statement)
        export.lines += lines
        export.notes += notes
    written = {c for s in export.statements for c in s.claims}
    export.exported = [c for c in claims if c in written]
    export.skipped = [skipped[c] for c in claims if c in skipped and c not in written]
    return export


def _claims(graph: Graph) -> set[URIRef]:
    return {c for c in graph.subjects(RDF.type, PAL.Claim) if isinstance(c, URIRef)}


def _statement(graph: Graph, claim: URIRef) -> Statement | str:
    """The statement of one claim about a linked subject, or why there is none."""
    subject = wikidata_item(graph, graph.value(claim, RDF.subject))
    if subject is None:
        return "subject not linked to Wikidata"
    predicate = graph.value(claim, RDF.predicate)
    if predicate == PAL.casualties:
        return casualty(graph, claim)
    prop = wikidata_property(graph, predicate)
    if prop is None:
        return (
            f"property {local_name(predicate)} has no Wikidata counterpart (owl:equivalentProperty)"
        )
    obj = graph.value(claim, RDF.object)
    value = _value(graph, obj)
    if value is None:
        if isinstance(obj, URIRef):
            return f"value {label(graph, obj)} is not linked to Wikidata"
        return "value not expressible in QuickStatements"
    statement = Statement(subject, prop, value)
    for qualifier, qualifier_value in _qualifiers(graph, claim):
        statement.add_qualifier(qualifier, qualifier_value)
    statement.add_claim(claim)
    return statement


def _value(graph: Graph, node: Node | None) -> str | None:
    if isinstance(node, URIRef):
        return wikidata_item(graph, node)
    if isinstance(node, Literal):
        return literal_value(node)
    return None


def _qualifiers(graph: Graph, claim: URIRef) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for predicate, obj in sorted(graph.predicate_objects(claim)):
        prop = wikidata_property(graph, predicate)
        value = _value(graph, obj) if prop else None
        if prop and value:
            pairs.append((prop, value))
    return pairs
