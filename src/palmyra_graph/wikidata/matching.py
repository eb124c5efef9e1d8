"""How well a Wikidata item fits one of our entities: names, description and type.

The score (0–1) weighs three things, each reported so a person can judge it:

- names (60 %): the best similarity between our label/altLabels and the item's English
  label/aliases (1.0 for the same name once case, accents and punctuation are ignored);
- description (15 %): whether the item's description mentions words from the labels of our
  entity's class and of its neighbours in the graph (a general of the Syrian army is
  described with "Syrian");
- type (25 %): whether the item's instance-of (P31), or a class above it by subclass-of
  (P279), is the Wikidata class our class is aligned to (a ``pal:Person`` must be Q5);
  "unknown" when our class has no Wikidata alignment, "incompatible" when it has one that
  is not met, or when the item is a human (Q5) but our entity is not a person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal as TypingLiteral

from rdflib import Graph, Literal, URIRef

from palmyra_graph.graph.namespaces import RDF, RDFS
from palmyra_graph.wikidata.api import Item, WikidataClient
from palmyra_graph.wikidata.links import Link

HUMAN = "Q5"
WEIGHTS = {"name": 0.60, "description": 0.15, "type": 0.25}
TYPE_SCORES = {"compatible": 1.0, "unknown": 0.5, "incompatible": 0.0}
#: Below this name similarity a linked item's names do not fit ours.
NAME_THRESHOLD = 0.8
#: How many subclass-of (P279) steps are climbed from an item's classes.
SUBCLASS_DEPTH = 4

TypeFit = TypingLiteral["compatible", "unknown", "incompatible"]
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = {"the", "and", "for", "from", "with", "side", "per", "of", "in", "on", "de"}


@dataclass(frozen=True)
class Fit:
    """The score of an item for an entity and its three parts."""

    qid: str
    score: float
    name: float
    description: float
    type: TypeFit
    item_label: str
    item_description: str


def normalise(text: str) -> str:
    """Lower-case, without accents, punctuation or a leading "the", spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = _WORD.findall(plain)
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def name_similarity(ours: Iterable[str], theirs: Iterable[str]) -> float:
    """The best similarity (0–1) between any of our names and any of theirs."""
    best = 0.0
    theirs_normal = [normalise(t) for t in theirs if t]
    for name in ours:
        mine = normalise(name)
        for other in theirs_normal:
            best = max(best, 1.0 if mine == other else SequenceMatcher(None, mine, other).ratio())
    return round(best, 3)


def context_words(graph: Graph, link: Link) -> set[str]:
    """Words from the labels of the entity's classes, its neighbours, and its claims' qualifiers."""
    nodes: set[URIRef] = set(link.classes)
    nodes.update(o for o in graph.objects(link.entity, None) if isinstance(o, URIRef))
    nodes.update(s for s in graph.subjects(None, link.entity) if isinstance(s, URIRef))
    for claim in graph.subjects(RDF.object, link.entity):  # qualifiers: side, role, unit…
        nodes.update(
            o for p, o in graph.predicate_objects(claim) if isinstance(o, URIRef) and p != RDF.type
        )
    words: set[str] = set()
    for node in nodes - {link.entity}:
        for label in graph.objects(node, RDFS.label):
            if isinstance(label, Literal):
                words.update(_words(str(label)))
    return words - set(_words(link.label))


def description_fit(description: str, context: set[str]) -> float:
    """1.0 when the description shares two or more context words, 0.5 for one, else 0."""
    shared = set(_words(description)) & context
    return min(len(shared), 2) / 2


def type_fit(expected: set[str], classes: set[str]) -> TypeFit:
    """Whether an item's classes (with their superclasses) meet our class's alignment."""
    if expected:
        return "compatible" if expected & classes else "incompatible"
    return "incompatible" if HUMAN in classes else "unknown"


def fit(
    link: Link,
    item: Item,
    *,
    expected: set[str],
    classes: set[str],
    context: set[str],
) -> Fit:
    """Score ``item`` as the Wikidata item of our entity ``link``."""
    name = name_similarity((link.label, *link.alt_labels), item.names())
    description = description_fit(item.descriptions.get("en", ""), context)
    kind = type_fit(expected, classes)
    score = (
        WEIGHTS["name"] * name
        + WEIGHTS["description"] * description
        + WEIGHTS["type"] * TYPE_SCORES[kind]
    )
    return Fit(
        qid=item.qid,
        score=round(score, 3),
        name=name,
        description=description,
        type=kind,
        item_label=item.label(),
        item_description=item.descriptions.get("en", ""),
    )


class ClassTree:
    """An item's classes and every class above them, up to ``SUBCLASS_DEPTH`` P279 steps.

    Class items are fetched in batches through the client (and so cached), once each.
    """

    def __init__(self, client: WikidataClient) -> None:
        self.client = client
        self._parents: dict[str, tuple[str, ...]] = {}

    def closure(self, classes: Sequence[str]) -> set[str]:
        """``classes`` and all their superclasses within the depth bound."""
        seen = set(classes)
        frontier = set(classes)
        for _ in range(SUBCLASS_DEPTH):
            self._fetch(frontier)
            frontier = {p for c in frontier for p in self._parents.get(c, ())} - seen
            if not frontier:
                break
            seen |= frontier
        return seen

    def _fetch(self, classes: set[str]) -> None:
        unknown = sorted(c for c in classes if c not in self._parents)
        if not unknown:
            return
        for qid, lookup in self.client.get_items(unknown).items():
            self._parents[qid] = lookup.item.subclass_of if lookup.item else ()


def _words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if len(w) > 2 and w not in _STOPWORDS]
