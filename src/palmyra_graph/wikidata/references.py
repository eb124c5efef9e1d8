"""The QuickStatements reference groups of a fact: one group (``S…`` pairs) per source.

QuickStatements V1 (https://www.wikidata.org/wiki/Help:QuickStatements) writes a reference
property P… as S…, and every source pair on one line is one reference: a fact with two sources
is two lines, each with one group. Identifiers, and where each comes from:

- ``S248`` stated in (P248), ``S854`` reference URL (P854), ``S813`` retrieved (P813),
  ``S1476`` title (P1476): checked, ``../shared/wikidata.tsv``;
- ``S143`` imported from Wikimedia project (P143), with the article's URL (S854): what issue 13
  asks for facts the article states without a reference marker; P143 is the reference property
  Wikidata uses for data taken from a Wikimedia project, written S143 by QuickStatements
  (magnusmanske/wikidata-todo issue 46, ``S143 Q565``). It is not among the checked
  identifiers of ``wikidata.tsv``; its value, English Wikipedia Q328, is.

A source's group holds S248 with its publisher's item (when linked), S854 its URL (when it has
one), S813 its retrieval date, and S1476 its title when the article prints it in quotation
marks (an unquoted title may be a translation; P1476 wants the title in its own language).
A reference that gives none of these is cited as the fact reached this graph: imported from the
article (S143 Q328, S854 its URL), with a note saying which reference stood behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.namespaces import PAL, PAV, SCHEMA, SOURCE, XSD
from palmyra_graph.wikidata.links import wikidata_item

STATED_IN, REFERENCE_URL, RETRIEVED, TITLE = "S248", "S854", "S813", "S1476"
IMPORTED_FROM = "S143"
#: The article itself, the source of every fact it states without a marker (docs/data-model.md).
ARTICLE = SOURCE["wikipedia-article"]

Group = tuple[str, ...]


@dataclass
class References:
    """The reference groups of one fact, each once, and notes on sources that stood in."""

    groups: list[Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, group: Group) -> None:
        if group and group not in self.groups:
            self.groups.append(group)


def references(graph: Graph, sources: Iterable[Node]) -> References:
    """The groups of ``sources``, in the article's reference order (the article last)."""
    found = References()
    for source in sorted(set(sources), key=lambda s: _order(graph, s)):
        group = _group(graph, source)
        if group:
            found.add(group)
            continue
        stand_in = _group(graph, ARTICLE)
        number = graph.value(source, PAL.referenceNumber)
        mark = f"reference [{number}]" if number is not None else f"source {source}"
        if stand_in:
            found.add(stand_in)
            found.notes.append(
                f"{mark} prints no publisher item, URL, retrieval date or quoted title: "
                "cited as imported from the article"
            )
        else:
            found.notes.append(f"{mark} gives Wikidata nothing to cite: left out")
    return found


def _order(graph: Graph, source: Node) -> tuple[int, str]:
    number = graph.value(source, PAL.referenceNumber)
    return (int(number) if isinstance(number, Literal) else 10**9, str(source))


def _group(graph: Graph, source: Node) -> Group:
    """The pairs of one source's reference; empty when it gives nothing to cite."""
    if source == ARTICLE:
        return _article(graph)
    pairs: list[str] = []
    publisher = wikidata_item(graph, graph.value(source, SCHEMA.publisher))
    if publisher:
        pairs += [STATED_IN, publisher]
    pairs += _url(graph, source)
    retrieved = graph.value(source, PAV.retrievedOn)
    if isinstance(retrieved, Literal) and retrieved.datatype == XSD.date:
        pairs += [RETRIEVED, time_value(str(retrieved))]
    title = graph.value(source, SCHEMA.headline)
    unquoted = graph.value(source, PAL.titleQuoted) == Literal(False)
    if isinstance(title, Literal) and not unquoted:
        pairs += [TITLE, f'{title.language or "en"}:"{quoted(str(title))}"']
    return tuple(pairs)


def _article(graph: Graph) -> Group:
    """Imported from the article's Wikipedia (its publisher's item) with the article's URL."""
    project = wikidata_item(graph, graph.value(ARTICLE, SCHEMA.publisher))
    url = _url(graph, ARTICLE)
    return (IMPORTED_FROM, project, *url) if project and url else ()


def _url(graph: Graph, source: Node) -> list[str]:
    url = graph.value(source, SCHEMA.url)
    return [REFERENCE_URL, f'"{url}"'] if isinstance(url, URIRef) else []


def time_value(iso_date: str) -> str:
    """``2017-03-02`` as ``+2017-03-02T00:00:00Z/11`` (precision 11: day)."""
    return f"+{iso_date}T00:00:00Z/11"


def quoted(text: str) -> str:
    """Text for a V1 string: V1 has no escape for a double quote, so the typographic one."""
    return text.replace('"', "\u201d").replace("\t", " ").replace("\n", " ")
