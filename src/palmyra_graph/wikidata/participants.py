"""Who took part in an event, as Wikidata's participant (P710), with its commanders as
commanded-by (P4791) qualifiers.

Identifiers (``../shared/wikidata.tsv``, checked): P710 participant; P4791 commanded by, "used
as a qualifier on participant (P710)", which is where Wikidata's model puts a commander.

A participant statement comes from every claim whose property the ontology aligns with P710
(``owl:equivalentProperty``, ``skos:closeMatch`` or ``skos:broadMatch wdt:P710``: belligerent,
unit involved, launched by, target, captured by, expelled) and whose value is a linked item.
A belligerent is a side (an infobox column), not an item: its members (``pal:sideMember``)
are the participants, and the statement is sourced by both claims. A commander qualifies the
participant the article flags before his line (``pal:allegiance``), else the one linked member
of his side; with several and no flag the article does not say whose he was, so he is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS
from rdflib.term import Node

from palmyra_graph.graph.namespaces import OWL, PAL, RDF, WDT
from palmyra_graph.wikidata.links import wikidata_item
from palmyra_graph.wikidata.statements import Skipped, Statement, label

PARTICIPANT = "P710"  # participant: wikidata.tsv
COMMANDED_BY = "P4791"  # commanded by, a qualifier on P710: wikidata.tsv
_ALIGNMENTS = (OWL.equivalentProperty, SKOS.closeMatch, SKOS.broadMatch)
_UNLINKED = "is not linked to Wikidata"


@dataclass
class Participants:
    """The participant statements of the linked events, the claims they used and skipped."""

    statements: dict[tuple[str, str], Statement] = field(default_factory=dict)
    used: set[URIRef] = field(default_factory=set)
    skipped: list[Skipped] = field(default_factory=list)

    def of(self, event: str) -> list[Statement]:
        return [s for (e, _), s in self.statements.items() if e == event]

    def add(self, event: str, participant: str, claims: list[URIRef]) -> Statement:
        statement = self.statements.setdefault(
            (event, participant), Statement(event, PARTICIPANT, participant)
        )
        for claim in claims:
            statement.add_claim(claim)
            self.used.add(claim)
        return statement

    def skip(self, claim: URIRef, reason: str) -> None:
        if claim not in self.used and all(s.claim != claim for s in self.skipped):
            self.skipped.append(Skipped(claim, reason))


def participant_properties(graph: Graph) -> set[Node]:
    """Our properties the ontology aligns with P710."""
    target = WDT[PARTICIPANT]
    return {p for link in _ALIGNMENTS for p in graph.subjects(link, target)}


def participants(graph: Graph, claims: list[URIRef]) -> Participants:
    """P710 statements (with P4791 qualifiers) from ``claims``; what they do not use is left
    for the other statements, except the claims this module names a reason for."""
    found = Participants()
    aligned = participant_properties(graph)
    for claim in claims:
        if graph.value(claim, RDF.predicate) in aligned:
            _participant(graph, claim, found)
    for claim in claims:
        if graph.value(claim, RDF.predicate) == PAL.commander:
            _commander(graph, claim, found)
    return found


def _participant(graph: Graph, claim: URIRef, found: Participants) -> None:
    event = wikidata_item(graph, graph.value(claim, RDF.subject))
    if event is None:
        return  # the generic path says "subject not linked"
    value = graph.value(claim, RDF.object)
    if (value, RDF.type, PAL.Side) in graph:
        _side(graph, claim, event, value, found)
        return
    qid = wikidata_item(graph, value)
    if qid is None:
        found.skip(claim, f"participant {label(graph, value)} {_UNLINKED}")
        return
    found.add(event, qid, [claim])


def _side(graph: Graph, claim: URIRef, event: str, side: Node | None, found: Participants) -> None:
    """A belligerent side: each linked member a participant, sourced by both claims."""
    members = _claims_of(graph, side, PAL.sideMember)
    for member_claim, member in members:
        qid = wikidata_item(graph, member)
        if qid is None:
            found.skip(member_claim, f"participant {label(graph, member)} {_UNLINKED}")
            continue
        found.add(event, qid, [claim, member_claim])
    if not any(wikidata_item(graph, m) for _, m in members):
        found.skip(claim, f"no member of {label(graph, side)} is linked to Wikidata")


def _commander(graph: Graph, claim: URIRef, found: Participants) -> None:
    event = wikidata_item(graph, graph.value(claim, RDF.subject))
    if event is None:
        return
    person = graph.value(claim, RDF.object)
    name = label(graph, person)
    qid = wikidata_item(graph, person)
    if qid is None:
        found.skip(claim, f"commander {name} is not linked to Wikidata")
        return
    target = _commanded(graph, claim, person, {s.value: s for s in found.of(event)})
    if isinstance(target, str):
        found.skip(claim, f"commander {name}: {target}")
        return
    statement, flag = target
    statement.add_qualifier(COMMANDED_BY, qid)
    for used in [claim, *flag]:
        statement.add_claim(used)
        found.used.add(used)


def _commanded(
    graph: Graph, claim: URIRef, person: Node | None, written: dict[str, Statement]
) -> tuple[Statement, list[URIRef]] | str:
    """The participant statement a commander qualifies, with the allegiance claim it rests on
    (if any); or why there is none."""
    for allegiance, state in _claims_of(graph, person, PAL.allegiance):
        qid = wikidata_item(graph, state)
        if qid in written:
            return written[qid], [allegiance]
    side = graph.value(claim, PAL.side)
    members = {wikidata_item(graph, m): m for _, m in _claims_of(graph, side, PAL.sideMember)}
    fought = sorted(qid for qid in members if qid in written)
    if len(fought) == 1:
        return written[fought[0]], []
    if not fought:
        return f"no participant of {label(graph, side)} is linked to Wikidata"
    names = ", ".join(sorted(label(graph, members[qid]) for qid in fought))
    return (
        f"{label(graph, side)} has {len(fought)} participants ({names}) and the article prints "
        "no flag before his line, so whose commander he was is not said"
    )


def _claims_of(graph: Graph, subject: Node | None, predicate: URIRef) -> list[tuple[URIRef, Node]]:
    """(claim, value) of each claim ``subject predicate value``, in claim order."""
    if subject is None:
        return []
    pairs = []
    for claim in graph.subjects(RDF.subject, subject):
        if isinstance(claim, URIRef) and graph.value(claim, RDF.predicate) == predicate:
            value = graph.value(claim, RDF.object)
            if value is not None:
                pairs.append((claim, value))
    return sorted(pairs, key=lambda pair: str(pair[0]))
