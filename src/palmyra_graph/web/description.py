"""A resource's description (``engine.describe``) read for a page: its triples by subject,
labels, and how a term, a claim's references and its qualifiers are shown.

A description holds the resource's own triples (both directions), the claim nodes about it
(as subject or as object) with their qualifiers and sources, the figures it links to, and
labels of everything mentioned. Nothing here is HTML; the templates escape every string.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from palmyra_graph.graph.namespaces import PAL, PREFIXES, PROV, RDF, RDFS

#: A node of a description.
Node = ox.NamedNode | ox.BlankNode | ox.Literal

TYPE, LABEL = RDF.type, RDFS.label
STATEMENT = str(RDF.Statement)
#: Schemes an IRI from the data may be a link with (never ``javascript:`` and the like).
_LINKABLE = ("http://", "https://")
#: Qualifiers of a claim shown next to its value (docs/data-model.md, "Qualifiers").
QUALIFIERS = tuple(str(q) for q in (PAL.accordingTo, PAL.role, PAL.side, PAL.unit, PAL.pointInTime))


@dataclass(frozen=True)
class Term:
    """An IRI or a literal as shown: its text, a link (our pages are local paths), a note."""

    text: str
    href: str | None = None
    note: str | None = None  # language or datatype of a literal


@dataclass(frozen=True)
class Reference:
    """A source cited by a claim, numbered as the article numbers it; ``iri`` and ``claim``
    say which source on which claim, for the findings its marker points out."""

    number: str
    href: str
    iri: str = ""
    claim: str | None = None


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


class Description:
    """A description's triples, indexed by subject, with label look-up and term display."""

    def __init__(self, triples: Iterable[ox.Triple], *, local: Callable[[str], str | None]):
        self.out: dict[str, list[tuple[str, Node]]] = defaultdict(list)
        self.incoming: list[tuple[str, str, Node]] = []
        self.labels: dict[str, str] = {}
        self.nodes: dict[str, ox.NamedNode | ox.BlankNode] = {}  # each subject by its key
        self.local = local
        for triple in triples:
            subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
            if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                continue  # RDF-star quoted triples do not occur in this data
            self.out[key(subject)].append((predicate, obj))
            self.nodes[key(subject)] = subject
            if predicate == str(LABEL) and isinstance(obj, ox.Literal):
                self.label(key(subject), obj)
            self.incoming.append((key(subject), predicate, obj))

    def label(self, key: str, literal: ox.Literal) -> None:
        """Record a label of ``key``; an English one wins."""
        if key not in self.labels or (literal.language or "").startswith("en"):
            self.labels[key] = literal.value

    def values(self, subject: str, predicate: str) -> list[Node]:
        return [o for p, o in self.out.get(subject, []) if p == predicate]

    def first(self, subject: str, predicate: str) -> Node | None:
        values = self.values(subject, predicate)
        return values[0] if values else None

    def types(self, subject: str) -> set[str]:
        return {key(o) for o in self.values(subject, str(TYPE))}

    def term(self, node: Node) -> Term:
        """How a node reads: an IRI as its label (or prefixed name), a literal as printed."""
        if isinstance(node, ox.Literal):
            note = node.language or curie(node.datatype.value)
            return Term(node.value, note=None if note in ("en", "xsd:string") else note)
        k = key(node)
        text = self.labels.get(k) or curie(k)
        href = self.local(k) or (k if k.startswith(_LINKABLE) else None)
        return Term(text, href=href)

    def iri_term(self, iri: str) -> Term:
        return self.term(ox.NamedNode(iri))

    def claims(self, *, subject: str | None = None, obj: str | None = None) -> dict[Key, str]:
        """(subject, predicate, object) keys -> claim node, for the claim nodes of the
        description whose ``rdf:subject`` is ``subject`` (or whose ``rdf:object`` is ``obj``)."""
        found: dict[Key, str] = {}
        for node in self.out:
            if STATEMENT not in self.types(node):
                continue
            subjects = [key(s) for s in self.values(node, str(RDF.subject))]
            objects = self.values(node, str(RDF.object))
            if subject is not None and subject not in subjects:
                continue
            if obj is not None and obj not in [key(o) for o in objects]:
                continue
            for predicate in self.values(node, str(RDF.predicate)):
                for s in subjects:
                    for o in objects:
                        found[(s, key(predicate), str(o))] = node
        return found

    def sourced(self, node: Node, claim: str | None) -> SourcedValue:
        """``node`` shown with the references and qualifiers of ``claim`` (if there is one)."""
        value = SourcedValue(self.term(node))
        if claim is None:
            return value
        value.claim = self.local(claim)
        value.references = self.references(claim)
        for qualifier in QUALIFIERS:
            for q in self.values(claim, qualifier):
                value.qualifiers.append((self.iri_term(qualifier), self.term(q)))
        return value

    def references(self, claim: str) -> list[Reference]:
        """The claim's sources as the article numbers them; unnumbered ones (the article) last."""
        references = []
        for source in self.values(claim, str(PROV.wasDerivedFrom)):
            number = self.first(key(source), str(PAL.referenceNumber))
            text = number.value if isinstance(number, ox.Literal) else "article"
            href = self.local(key(source)) or key(source)
            references.append(Reference(text, href, iri=key(source), claim=claim))
        return sorted(references, key=_reference_order)


#: A triple's key in :meth:`Description.claims`: subject and predicate IRIs, and the object in
#: N-Triples form (literals keep their language and datatype).
Key = tuple[str, str, str]


def _reference_order(reference: Reference) -> tuple[bool, int, str]:
    digits = reference.number.isdigit()
    return (not digits, int(reference.number) if digits else 0, reference.number)


def key(node: Node) -> str:
    """A node's IRI or blank node id, or a literal in N-Triples form."""
    return node.value if isinstance(node, ox.NamedNode | ox.BlankNode) else str(node)


def curie(iri: str) -> str:
    """``iri`` in prefixed form where one of our prefixes fits."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def text_order(term: Term) -> str:
    return term.text.casefold()
