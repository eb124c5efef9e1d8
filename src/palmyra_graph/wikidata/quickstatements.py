"""Our sourced claims about linked entities as QuickStatements V1 commands.

Syntax: https://www.wikidata.org/wiki/Help:QuickStatements (command sequence, "V1"): one
statement per line, tab-separated ``item  property  value``, then qualifier pairs
(``P585  +2017-03-02T00:00:00Z/11``) and source pairs (``S248  Q…``). Every source pair on a
line is one reference, so a claim with two sources is written as two lines with the same
statement; QuickStatements adds the second reference to the statement the first made.

A claim is exported when its subject is linked (owl:sameAs an item), its property is
``owl:equivalentProperty`` to a Wikidata property in the ontology, and its value can be
written (a linked item, a date, a number, a string). References carry S248 "stated in"
(the publisher's item, when linked), S854 "reference URL" (only when the source has a URL),
S813 "retrieved" and S1476 "title" (only a title the article prints in quotation marks: an
unquoted one may be a translation, and P1476 wants the title in its own language).
Everything else is skipped with its reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.namespaces import CLAIM, OWL, PAL, PAV, PROV, RDF, SCHEMA, WDT, XSD
from palmyra_graph.wikidata.links import wikidata_items

STATED_IN, REFERENCE_URL, RETRIEVED, TITLE = "S248", "S854", "S813", "S1476"
_INTEGERS = {XSD.integer, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.int, XSD.long}


@dataclass(frozen=True)
class Skipped:
    """A claim that was not exported, and why."""

    claim: URIRef
    reason: str


@dataclass
class Export:
    """The commands and the claims left out."""

    lines: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    exported: list[URIRef] = field(default_factory=list)

    def summary(self) -> str:
        """Each skipped claim with its reason, then the totals."""
        counts = Counter(s.reason for s in self.skipped)
        parts = [f"skipped {_short(s.claim)}: {s.reason}" for s in self.skipped]
        parts.append(f"{len(self.exported)} claims written as {len(self.lines)} lines")
        parts += [f"{n} skipped: {reason}" for reason, n in sorted(counts.items())]
        return "\n".join(parts)


def quickstatements(graph: Graph) -> Export:
    """Every claim node of ``graph`` as QuickStatements lines, or a reason it is skipped."""
    export = Export()
    for claim in sorted(_claims(graph), key=str):
        lines_or_reason = _claim_lines(graph, claim)
        if isinstance(lines_or_reason, str):
            export.skipped.append(Skipped(claim, lines_or_reason))
        else:
            export.lines.extend(lines_or_reason)
            export.exported.append(claim)
    return export


def _claims(graph: Graph) -> set[URIRef]:
    return {c for c in graph.subjects(RDF.type, PAL.Claim) if isinstance(c, URIRef)}


def _claim_lines(graph: Graph, claim: URIRef) -> list[str] | str:
    subject = graph.value(claim, RDF.subject)
    predicate = graph.value(claim, RDF.predicate)
    obj = graph.value(claim, RDF.object)
    item = _item(graph, subject)
    if item is None:
        return "subject not linked to Wikidata"
    prop = wikidata_property(graph, predicate)
    if prop is None:
        return f"property {_local(predicate)} has no Wikidata counterpart (owl:equivalentProperty)"
    value = _value(graph, obj)
    if value is None:
        return "value not expressible (an unlinked entity or a figure node)"
    statement = [item, prop, value, *_qualifiers(graph, claim)]
    sources = sorted(graph.objects(claim, PROV.wasDerivedFrom), key=str)
    references = [_reference(graph, s) for s in sources]
    references = [r for r in references if r]
    if not references:
        return "no source with a reference Wikidata can hold"
    return ["\t".join(statement + ref) for ref in references]


def wikidata_property(graph: Graph, predicate: Node | None) -> str | None:
    """``P…`` when the ontology says ``predicate owl:equivalentProperty wdt:P…``."""
    if predicate is None:
        return None
    for other in graph.objects(predicate, OWL.equivalentProperty):
        if str(other).startswith(str(WDT)):
            return str(other)[len(str(WDT)) :]
    return None


def _item(graph: Graph, node: Node | None) -> str | None:
    items = wikidata_items(graph, node) if node is not None else []
    return items[0] if items else None


def _value(graph: Graph, node: Node | None) -> str | None:
    if isinstance(node, URIRef):
        return _item(graph, node)
    if isinstance(node, Literal):
        return literal_value(node)
    return None


def literal_value(literal: Literal) -> str | None:
    """A literal in QuickStatements syntax: time, quantity, monolingual text or string."""
    if literal.datatype == XSD.date:
        return time_value(str(literal))
    if literal.datatype in _INTEGERS:
        return str(int(literal))
    if literal.language:
        return f'{literal.language}:"{_quoted(str(literal))}"'
    if literal.datatype in (None, XSD.string):
        return f'"{_quoted(str(literal))}"'
    return None


def time_value(iso_date: str) -> str:
    """``2017-03-02`` as ``+2017-03-02T00:00:00Z/11`` (precision 11: day)."""
    return f"+{iso_date}T00:00:00Z/11"


def _qualifiers(graph: Graph, claim: URIRef) -> list[str]:
    pairs: list[str] = []
    for predicate, obj in sorted(graph.predicate_objects(claim)):
        prop = wikidata_property(graph, predicate)
        value = _value(graph, obj) if prop else None
        if prop and value:
            pairs += [prop, value]
    return pairs


def _reference(graph: Graph, source: Node) -> list[str]:
    """The source pairs of one reference; empty when the source gives nothing to cite."""
    pairs: list[str] = []
    publisher = _item(graph, graph.value(source, SCHEMA.publisher))
    if publisher:
        pairs += [STATED_IN, publisher]
    url = graph.value(source, SCHEMA.url)
    if isinstance(url, URIRef):
        pairs += [REFERENCE_URL, f'"{url}"']
    retrieved = graph.value(source, PAV.retrievedOn)
    if isinstance(retrieved, Literal) and retrieved.datatype == XSD.date:
        pairs += [RETRIEVED, time_value(str(retrieved))]
    title = graph.value(source, SCHEMA.headline)
    unquoted = graph.value(source, PAL.titleQuoted) == Literal(False)
    if isinstance(title, Literal) and not unquoted:
        pairs += [TITLE, f'{title.language or "en"}:"{_quoted(str(title))}"']
    return pairs


def _quoted(text: str) -> str:
    # V1 has no escape for a double quote inside a string: use the typographic one.
    return text.replace('"', "\u201d").replace("\t", " ").replace("\n", " ")


def _short(claim: URIRef) -> str:
    return "claim:" + str(claim).removeprefix(str(CLAIM))


def _local(node: Node | None) -> str:
    return str(node).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
