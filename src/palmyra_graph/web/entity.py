"""What an entity page shows, read from the resource's description (``engine.describe``,
read by :mod:`palmyra_graph.web.description`).

The page holds the label and kinds, the Wikidata link, each fact with its value (a label, not
an IRI), the numbered references and qualifiers of its claim, the figures side by side per
party with their claimants, the claims that point here (:mod:`palmyra_graph.web.backlinks`),
for a source the claims that cite it, and the findings of the validation report about it.
Nothing here is HTML; the template escapes every string.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from palmyra_graph.graph.namespaces import OWL, PAL, RDFS, SCHEMA, SKOS, WD
from palmyra_graph.query.engine import Engine
from palmyra_graph.web.backlinks import CitingClaim, citing, incoming
from palmyra_graph.web.description import (
    LABEL,
    TYPE,
    Description,
    Key,
    Node,
    PropertyValues,
    Reference,
    SourcedValue,
    Term,
    curie,
    key,
    text_order,
)
from palmyra_graph.web.findings import Finding

_ALT = SKOS.altLabel
_FIGURE = str(PAL.Figure)
#: Shown in the page head, not among the facts.
_HEAD = {str(TYPE), str(LABEL), str(_ALT), str(OWL.sameAs)}

__all__ = [
    "EntityPage",
    "FigureCard",
    "FigureGroup",
    "PropertyValues",
    "SourcedValue",
    "build_page",
]


@dataclass
class FigureCard:
    """A figure as the infobox prints it, with who claims it and where."""

    figure: Term
    amount: str
    measure: Term | None
    claimants: list[Term]
    references: list[Reference]


@dataclass
class FigureGroup:
    """The figures one property gives for one party: more than one means contested."""

    predicate: Term
    party: Term | None
    cards: list[FigureCard]

    @property
    def contested(self) -> bool:
        """Two or more claimants give figures here ("per SOHR" against "per Russian MOD");
        several figures without claimants (reinforcements from two places) are not."""
        claimants = {tuple(c.text for c in card.claimants) for card in self.cards if card.claimants}
        return len(claimants) > 1


@dataclass
class EntityPage:
    """Everything ``entity.html`` shows about one resource."""

    iri: str
    label: str
    kinds: list[Term]
    alt_labels: list[str]
    wikidata: list[Term]
    same_as: list[Term]
    facts: list[PropertyValues]
    figures: list[FigureGroup]
    incoming: list[PropertyValues]
    citing: list[CitingClaim]
    findings: list[Finding] = field(default_factory=list)


def build_page(
    engine: Engine,
    iri: str,
    triples: Iterable[ox.Triple],
    *,
    local: Callable[[str], str | None],
    findings: Sequence[Finding] = (),
) -> EntityPage:
    """The page of ``iri`` from its description; ``local`` maps our IRIs to this server's
    paths; ``findings`` are the validation report's findings about the resource."""
    desc = Description(triples, local=local)
    _add_predicate_labels(engine, desc)
    facts, figures = _facts(desc, iri, desc.claims(subject=iri))
    same_as = [desc.term(o) for o in desc.values(iri, str(OWL.sameAs))]
    return EntityPage(
        iri=iri,
        label=_page_label(desc, iri),
        kinds=sorted((desc.iri_term(t) for t in desc.types(iri)), key=text_order),
        alt_labels=sorted(o.value for o in desc.values(iri, str(_ALT))),
        wikidata=[t for t in same_as if (t.href or "").startswith(str(WD))],
        same_as=[t for t in same_as if not (t.href or "").startswith(str(WD))],
        facts=facts,
        figures=figures,
        incoming=incoming(desc, iri),
        citing=citing(engine, desc, iri),
        findings=list(findings),
    )


def _page_label(desc: Description, iri: str) -> str:
    """The label; for a source without one, its number and headline as the article has them."""
    if iri in desc.labels:
        return desc.labels[iri]
    number = desc.first(iri, str(PAL.referenceNumber))
    headline = desc.first(iri, str(SCHEMA.headline))
    if headline is not None:
        prefix = f"[{number.value}] " if isinstance(number, ox.Literal) else ""
        return prefix + headline.value
    return curie(iri)


def _add_predicate_labels(engine: Engine, desc: Description) -> None:
    """Labels of the properties and qualifiers on the page (a description labels nodes only)."""
    predicates = {p for pairs in desc.out.values() for p, _ in pairs}
    values = " ".join(f"<{p}>" for p in sorted(predicates))
    if not values:
        return
    query = "SELECT ?p ?label WHERE { VALUES ?p { " + values + f" }} ?p <{RDFS.label}> ?label }}"
    for solution in engine.query(query).solutions():
        desc.label(solution["p"].value, solution["label"])


def _facts(
    desc: Description, iri: str, claims: dict[Key, str]
) -> tuple[list[PropertyValues], list[FigureGroup]]:
    by_predicate: dict[str, list[SourcedValue]] = defaultdict(list)
    groups: dict[tuple[str, str], FigureGroup] = {}
    for predicate, obj in desc.out.get(iri, []):
        if predicate in _HEAD:
            continue
        claim = claims.get((iri, predicate, str(obj)))
        if _FIGURE in desc.types(key(obj)):
            party = desc.first(key(obj), str(PAL.party))
            group_key = (predicate, key(party) if party else "")
            group = groups.setdefault(
                group_key,
                FigureGroup(
                    desc.iri_term(predicate), desc.term(party) if party is not None else None, []
                ),
            )
            group.cards.append(_figure_card(desc, obj, claim))
            continue
        by_predicate[predicate].append(desc.sourced(obj, claim))
    facts = [
        PropertyValues(desc.iri_term(p), sorted(values, key=lambda v: text_order(v.term)))
        for p, values in by_predicate.items()
    ]
    facts.sort(key=lambda f: text_order(f.predicate))
    figures = sorted(
        groups.values(),
        key=lambda g: (text_order(g.predicate), text_order(g.party or _NONE)),
    )
    return facts, figures


_NONE = Term("")


def _figure_card(desc: Description, figure: Node, claim: str | None) -> FigureCard:
    figure_key = key(figure)
    amount = desc.first(figure_key, str(PAL.amount))
    lower = desc.first(figure_key, str(PAL.isLowerBound))
    if isinstance(amount, ox.Literal):
        text = f"{int(amount.value):,}" if amount.value.isdigit() else amount.value
        text += "+" if isinstance(lower, ox.Literal) and lower.value == "true" else ""
    else:
        text = "Unknown"
    measure = desc.first(figure_key, str(PAL.measure))
    claimants = desc.values(claim, str(PAL.accordingTo)) if claim else []
    return FigureCard(
        figure=desc.term(figure),
        amount=text,
        measure=desc.term(measure) if measure is not None else None,
        claimants=[desc.term(c) for c in claimants],
        references=desc.references(claim) if claim else [],
    )
