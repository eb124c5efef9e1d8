"""What an entity page shows, read from the resource's description (``engine.describe``).

A description holds the resource's own triples, the claim nodes about it with their sources,
the figures it links to and labels of everything mentioned. This module turns it into plain
values for ``templates/entity.html``: the label and kinds, the Wikidata link, each fact with
its value (a label, not an IRI) and the numbered references of its claim, the figures side by
side per party with their claimants, the links that point here, and, for a source, the
claims that cite it. Nothing here is HTML; the template escapes every string.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from palmyra_graph.graph.namespaces import OWL, PAL, PREFIXES, PROV, RDF, RDFS, SCHEMA, SKOS, WD
from palmyra_graph.query.engine import Engine

#: A node of a description.
Node = ox.NamedNode | ox.BlankNode | ox.Literal

_TYPE, _LABEL, _ALT = RDF.type, RDFS.label, SKOS.altLabel
_STATEMENT, _FIGURE = str(RDF.Statement), str(PAL.Figure)
#: Schemes an IRI from the data may be a link with (never ``javascript:`` and the like).
_LINKABLE = ("http://", "https://")
#: Shown in the page head, not among the facts.
_HEAD = {str(_TYPE), str(_LABEL), str(_ALT), str(OWL.sameAs)}
#: Qualifiers of a claim shown next to its value.
_QUALIFIERS = (str(PAL.accordingTo), str(PAL.role), str(PAL.side), str(PAL.pointInTime))
#: Claim-node properties that are the claim itself, not qualifiers.
_CLAIM_SHAPE = {str(RDF.subject), str(RDF.predicate), str(RDF.object), str(_TYPE)}


@dataclass(frozen=True)
class Term:
    """An IRI or a literal as shown: its text, a link (our pages are local paths), a note."""

    text: str
    href: str | None = None
    note: str | None = None  # language or datatype of a literal


@dataclass(frozen=True)
class Reference:
    """A source cited by a claim, numbered as the article numbers it."""

    number: str
    href: str


@dataclass
class SourcedValue:
    """One value of a fact, with the claim that sources it."""

    term: Term
    references: list[Reference] = field(default_factory=list)
    qualifiers: list[tuple[Term, Term]] = field(default_factory=list)
    claim: str | None = None  # local path of the claim node


@dataclass
class PropertyValues:
    """A property of the resource with its values."""

    predicate: Term
    values: list[SourcedValue]


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
class CitingClaim:
    """A claim that cites the source: subject, property, object."""

    claim: Term
    subject: Term
    predicate: Term
    object: Term


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


class Description:
    """A description's triples, indexed by subject, with label look-up and term display."""

    def __init__(self, triples: Iterable[ox.Triple], *, local: Callable[[str], str | None]):
        self.out: dict[str, list[tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal]]]
        self.out = defaultdict(list)
        self.incoming: list[tuple[str, str, Node]] = []
        self.labels: dict[str, str] = {}
        self.local = local
        for triple in triples:
            subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
            if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                continue  # RDF-star quoted triples do not occur in this data
            self.out[_key(subject)].append((predicate, obj))
            if predicate == str(_LABEL) and isinstance(obj, ox.Literal):
                self._label(_key(subject), obj)
            self.incoming.append((_key(subject), predicate, obj))

    def _label(self, key: str, literal: ox.Literal) -> None:
        if key not in self.labels or (literal.language or "").startswith("en"):
            self.labels[key] = literal.value

    def values(self, subject: str, predicate: str) -> list[Node]:
        return [o for p, o in self.out.get(subject, []) if p == predicate]

    def types(self, subject: str) -> set[str]:
        return {_key(o) for o in self.values(subject, str(_TYPE))}

    def term(self, node: Node) -> Term:
        """How a node reads: an IRI as its label (or prefixed name), a literal as printed."""
        if isinstance(node, ox.Literal):
            note = node.language or _curie(node.datatype.value)
            return Term(node.value, note=None if note in ("en", "xsd:string") else note)
        key = _key(node)
        text = self.labels.get(key) or _curie(key)
        href = self.local(key) or (key if key.startswith(_LINKABLE) else None)
        return Term(text, href=href)


def _key(node: Node) -> str:
    return node.value if isinstance(node, ox.NamedNode | ox.BlankNode) else str(node)


def _curie(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def build_page(
    engine: Engine, iri: str, triples: Iterable[ox.Triple], *, local: Callable[[str], str | None]
) -> EntityPage:
    """The page of ``iri`` from its description; ``local`` maps our IRIs to this server's paths."""
    desc = Description(triples, local=local)
    _add_predicate_labels(engine, desc, iri)
    claims = _claims_about(desc, iri)
    facts, figures = _facts(desc, iri, claims)
    same_as = [desc.term(o) for o in desc.values(iri, str(OWL.sameAs))]
    return EntityPage(
        iri=iri,
        label=_page_label(desc, iri),
        kinds=sorted((desc.term(ox.NamedNode(t)) for t in desc.types(iri)), key=_text),
        alt_labels=sorted(o.value for o in desc.values(iri, str(_ALT))),
        wikidata=[t for t in same_as if (t.href or "").startswith(str(WD))],
        same_as=[t for t in same_as if not (t.href or "").startswith(str(WD))],
        facts=facts,
        figures=figures,
        incoming=_incoming(desc, iri),
        citing=_citing(engine, desc, iri),
    )


def _page_label(desc: Description, iri: str) -> str:
    """The label; for a source without one, its number and headline as the article has them."""
    if iri in desc.labels:
        return desc.labels[iri]
    number = _first(desc, iri, str(PAL.referenceNumber))
    headline = _first(desc, iri, str(SCHEMA.headline))
    if headline is not None:
        prefix = f"[{number.value}] " if isinstance(number, ox.Literal) else ""
        return prefix + headline.value
    return _curie(iri)


def _text(term: Term) -> str:
    return term.text.casefold()


def _add_predicate_labels(engine: Engine, desc: Description, iri: str) -> None:
    """Labels of the properties and qualifiers on the page (a description labels nodes only)."""
    predicates = {p for pairs in desc.out.values() for p, _ in pairs}
    values = " ".join(f"<{p}>" for p in sorted(predicates))
    if not values:
        return
    query = (
        "SELECT ?p ?label WHERE { VALUES ?p { " + values + " } "
        "?p <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    )
    for solution in engine.query(query).solutions():
        desc._label(solution["p"].value, solution["label"])


def _claims_about(desc: Description, iri: str) -> dict[tuple[str, str], str]:
    """(predicate, object key) -> claim node, for the claims whose subject is ``iri``."""
    found = {}
    for subject, pairs in desc.out.items():
        if _STATEMENT not in desc.types(subject) or not any(
            p == str(RDF.subject) and _key(o) == iri for p, o in pairs
        ):
            continue
        predicates = desc.values(subject, str(RDF.predicate))
        for obj in desc.values(subject, str(RDF.object)):
            for predicate in predicates:
                found[(_key(predicate), _object_key(obj))] = subject
    return found


def _object_key(node: Node) -> str:
    return str(node)  # N-Triples form: literals keep their language and datatype


def _facts(
    desc: Description, iri: str, claims: dict[tuple[str, str], str]
) -> tuple[list[PropertyValues], list[FigureGroup]]:
    by_predicate: dict[str, list[SourcedValue]] = defaultdict(list)
    groups: dict[tuple[str, str], FigureGroup] = {}
    for predicate, obj in desc.out.get(iri, []):
        if predicate in _HEAD:
            continue
        claim = claims.get((predicate, _object_key(obj)))
        if _FIGURE in desc.types(_key(obj)):
            card = _figure_card(desc, obj, claim)
            party = _first(desc, _key(obj), str(PAL.party))
            key = (predicate, _key(party) if party else "")
            group = groups.setdefault(
                key, FigureGroup(desc.term(ox.NamedNode(predicate)), party_term(desc, party), [])
            )
            group.cards.append(card)
            continue
        by_predicate[predicate].append(_value(desc, obj, claim))
    facts = [
        PropertyValues(desc.term(ox.NamedNode(p)), sorted(values, key=lambda v: _text(v.term)))
        for p, values in by_predicate.items()
    ]
    facts.sort(key=lambda f: _text(f.predicate))
    figures = sorted(groups.values(), key=lambda g: (_text(g.predicate), _text(g.party or _NONE)))
    return facts, figures


_NONE = Term("")


def party_term(desc: Description, party: Node | None) -> Term | None:
    return desc.term(party) if party is not None else None


def _first(desc: Description, subject: str, predicate: str) -> Node | None:
    values = desc.values(subject, predicate)
    return values[0] if values else None


def _value(desc: Description, obj: Node, claim: str | None) -> SourcedValue:
    value = SourcedValue(desc.term(obj))
    if claim is None:
        return value
    value.claim = desc.local(claim)
    value.references = _references(desc, claim)
    for qualifier in _QUALIFIERS:
        for q in desc.values(claim, qualifier):
            value.qualifiers.append((desc.term(ox.NamedNode(qualifier)), desc.term(q)))
    return value


def _references(desc: Description, claim: str) -> list[Reference]:
    """The claim's sources as the article numbers them; unnumbered ones (the article) last."""
    references = []
    for source in desc.values(claim, str(PROV.wasDerivedFrom)):
        number = _first(desc, _key(source), str(PAL.referenceNumber))
        text = number.value if isinstance(number, ox.Literal) else "article"
        href = desc.local(_key(source)) or _key(source)
        references.append(Reference(text, href))
    return sorted(
        references,
        key=lambda r: (
            not r.number.isdigit(),
            int(r.number or 0) if r.number.isdigit() else 0,
            r.number,
        ),
    )


def _figure_card(desc: Description, figure: Node, claim: str | None) -> FigureCard:
    key = _key(figure)
    amount = _first(desc, key, str(PAL.amount))
    lower = _first(desc, key, str(PAL.isLowerBound))
    if isinstance(amount, ox.Literal):
        text = f"{int(amount.value):,}" if amount.value.isdigit() else amount.value
        text += "+" if isinstance(lower, ox.Literal) and lower.value == "true" else ""
    else:
        text = "Unknown"
    measure = _first(desc, key, str(PAL.measure))
    claimants = desc.values(claim, str(PAL.accordingTo)) if claim else []
    return FigureCard(
        figure=desc.term(figure),
        amount=text,
        measure=desc.term(measure) if measure is not None else None,
        claimants=[desc.term(c) for c in claimants],
        references=_references(desc, claim) if claim else [],
    )


def _incoming(desc: Description, iri: str) -> list[PropertyValues]:
    """Resources that link here, by property; claim nodes are shown with their facts instead."""
    by_predicate: dict[str, list[SourcedValue]] = defaultdict(list)
    for subject, predicate, obj in desc.incoming:
        if _key(obj) != iri or subject == iri or predicate in _CLAIM_SHAPE:
            continue
        if _STATEMENT in desc.types(subject) and predicate != str(PROV.wasDerivedFrom):
            continue
        by_predicate[predicate].append(SourcedValue(desc.term(ox.NamedNode(subject))))
    facts = [
        PropertyValues(desc.term(ox.NamedNode(p)), sorted(v, key=lambda x: _text(x.term)))
        for p, v in by_predicate.items()
        if p != str(PROV.wasDerivedFrom)
    ]
    return sorted(facts, key=lambda f: _text(f.predicate))


_CITING = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?claim ?s ?p ?o ?sl ?pl ?ol WHERE {
  ?claim prov:wasDerivedFrom <IRI> ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  OPTIONAL { ?s rdfs:label ?sl } OPTIONAL { ?p rdfs:label ?pl } OPTIONAL { ?o rdfs:label ?ol }
}
ORDER BY ?claim
"""


def _citing(engine: Engine, desc: Description, iri: str) -> list[CitingClaim]:
    """The claims that cite ``iri`` (a source), with labels of what they claim."""
    if not any(p == str(PROV.wasDerivedFrom) and _key(o) == iri for _, p, o in desc.incoming):
        return []
    rows: dict[str, CitingClaim] = {}
    for row in engine.query(_CITING.replace("<IRI>", f"<{iri}>")).solutions():
        for node, label in (("s", "sl"), ("p", "pl"), ("o", "ol")):
            if row[label] is not None:
                desc._label(_key(row[node]), row[label])
        claim = row["claim"].value
        rows.setdefault(
            claim,
            CitingClaim(
                desc.term(row["claim"]),
                desc.term(row["s"]),
                desc.term(row["p"]),
                desc.term(row["o"]),
            ),
        )
    return list(rows.values())
