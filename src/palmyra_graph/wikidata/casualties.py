"""Casualty figures as Wikidata's number of deaths (P1120) or number of casualties (P1590), or
the reason a figure cannot be written as Wikidata models it.

What a figure counts picks the property: its measure's ``skos:closeMatch`` in the ontology
(``pal:Killed`` P1120, ``pal:KilledAndWounded`` P1590; both checked in
``../shared/wikidata.tsv``). The amount is a quantity without unit or bounds (QuickStatements
V1: the bare number). Three things the figures say have no written form here, so a figure
that says one of them is skipped with the reason, never written without it:

- a lower bound ("283+"): a Wikidata quantity's bounds come as a pair around the amount (V1
  writes them only as ``amount~tolerance``), and "at least" would need a qualifier;
- whose losses (``pal:party``: "Syria 115 killed" is not the offensive's death toll), and
- who claims it (``pal:accordingTo``, "per SOHR"):

each needs a qualifier, and no identifier for one is among the checked ones of
``wikidata.tsv``. A statement without them would state a different fact.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from palmyra_graph.graph.namespaces import PAL, RDF
from palmyra_graph.wikidata.links import wikidata_item
from palmyra_graph.wikidata.statements import Statement, aligned, label


def casualty(graph: Graph, claim: URIRef) -> Statement | str:
    """The statement of a ``pal:casualties`` claim about a linked event, or why it is skipped
    (every reason that applies, so an editor sees all that is missing)."""
    event = wikidata_item(graph, graph.value(claim, RDF.subject))
    figure = graph.value(claim, RDF.object)
    if event is None or figure is None:
        return "subject not linked to Wikidata"
    measure = graph.value(figure, PAL.measure)
    prop = aligned(graph, measure, (SKOS.exactMatch, SKOS.closeMatch))
    amount = graph.value(figure, PAL.amount)
    reasons = []
    if prop is None:
        reasons.append(f"it counts {label(graph, measure)}: no Wikidata property for that")
    if not isinstance(amount, Literal):
        reasons.append("no amount is printed")
    wanted = []
    if graph.value(figure, PAL.isLowerBound) == Literal(True):
        wanted.append(
            f"'at least' ({label(graph, figure)!r} is a lower bound; a quantity's bounds come "
            "as a pair around the amount, V1 amount~tolerance)"
        )
    party = graph.value(figure, PAL.party)
    if party is not None:
        wanted.append(f"whose losses ({label(graph, party)})")
    wanted += [f"who claims it ({label(graph, c)})" for c in graph.objects(claim, PAL.accordingTo)]
    if wanted:
        reasons.append(
            f"it needs qualifiers for {', '.join(wanted)}, and wikidata.tsv checks no identifier "
            "for them"
        )
    if reasons or prop is None or not isinstance(amount, Literal):
        return "; ".join(reasons)
    statement = Statement(event, prop, str(int(amount)))
    statement.add_claim(claim)
    return statement
