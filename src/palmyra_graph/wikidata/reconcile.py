"""Candidates from Wikidata for our unlinked entities, and writing a link a person accepts.

Candidates come from ``wbsearchentities`` (by label and each altLabel), their details from
``wbgetentities``; each is scored by ``matching.fit``. Nothing is written unless a person
accepts a candidate (``accept``), which appends the link and its mapping node to the data
file, with the SSSOM justification ``semapv:LexicalMatching``, the date, the score and the
evidence (https://mapping-commons.github.io/sssom/mapping-justifications/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import Graph, URIRef

from palmyra_graph.errors import LinkRefused
from palmyra_graph.graph.namespaces import ID
from palmyra_graph.wikidata.api import Item, Lookup, WikidataClient, is_qid
from palmyra_graph.wikidata.links import Link, entities, expected_types, link_of, links
from palmyra_graph.wikidata.matching import ClassTree, Fit, context_words, fit
from palmyra_graph.wikidata.writer import append_link


@dataclass(frozen=True)
class Candidates:
    """An unlinked entity and Wikidata's candidates for it, best first."""

    link: Link
    fits: list[Fit]


class Reconciler:
    """Finds and scores Wikidata items for the entities of ``graph``."""

    def __init__(self, graph: Graph, client: WikidataClient, *, limit: int = 5) -> None:
        self.graph = graph
        self.client = client
        self.limit = limit
        self.tree = ClassTree(client)

    def unlinked(self, only: Sequence[str] = ()) -> list[Link]:
        """The entities without a Wikidata item (restricted to ``only`` when given)."""
        wanted = {resolve_entity(self.graph, name) for name in only}
        return [
            link
            for link in links(self.graph)
            if not link.qid and (not wanted or link.entity in wanted)
        ]

    def candidates(self, link: Link) -> Candidates:
        """Search by every name of the entity, fetch the hits, score and rank them."""
        qids: list[str] = []
        for name in (link.label, *link.alt_labels):
            qids.extend(hit.qid for hit in self.client.search(name, limit=self.limit))
        lookups = self.client.get_items(dict.fromkeys(qids)) if qids else {}
        items = {lk.item.qid: lk.item for lk in lookups.values() if lk.item is not None}
        fits = [self.score(link, item) for item in items.values()]
        fits.sort(key=lambda f: (-f.score, f.qid))
        return Candidates(link=link, fits=fits[: self.limit])

    def score(self, link: Link, item: Item) -> Fit:
        """How well ``item`` fits the entity."""
        return fit(
            link,
            item,
            expected=expected_types(self.graph, link.classes),
            classes=self.tree.closure(item.instance_of),
            context=context_words(self.graph, link),
        )


def resolve_entity(graph: Graph, name: str) -> URIRef:
    """An entity from a slug (``suheil-al-hassan``), ``id:slug`` or its full IRI.

    Raises:
        LinkRefused: no entity of the graph has that name.
    """
    slug = name.removeprefix("id:").removeprefix(str(ID))
    entity = ID[slug]
    if entity not in set(entities(graph)):
        raise LinkRefused(f"no entity {name!r} in the graph (expected a slug such as 'palmyra')")
    return entity


def parse_acceptance(text: str) -> tuple[str, str]:
    """Split ``ENTITY=QID``; raises LinkRefused when the form or the QID is wrong."""
    entity, sep, qid = text.partition("=")
    entity, qid = entity.strip(), qid.strip()
    if not sep or not entity:
        raise LinkRefused(f"--accept wants ENTITY=QID, not {text!r}")
    if not is_qid(qid):
        raise LinkRefused(f"not a Wikidata item id: {qid!r} (expected Q followed by digits)")
    return entity, qid


def accept(
    reconciler: Reconciler,
    data_file: Path,
    entity_name: str,
    qid: str,
    *,
    today: date | None = None,
    reviewer: str | None = None,
) -> Fit:
    """Write ``entity owl:sameAs wd:qid`` and its mapping node into ``data_file``.

    Raises:
        LinkRefused: the QID is malformed, the entity unknown or already linked, the item is
            linked to another entity, missing, a redirect, or of an incompatible type.
        StorageError: the file could not be written back in a parseable state (restored).
    """
    if not is_qid(qid):
        raise LinkRefused(f"not a Wikidata item id: {qid!r}")
    graph = reconciler.graph
    link = link_of(graph, resolve_entity(graph, entity_name))
    _refuse_duplicates(graph, link, qid)
    item = _existing_item(reconciler.client.get_items([qid])[qid])
    scored = reconciler.score(link, item)
    if scored.type == "incompatible":
        raise LinkRefused(
            f"{qid} ({item.label() or 'no English label'}) is not of a type that fits "
            f"{link.slug}: its classes do not match our class's Wikidata alignment"
        )
    append_link(
        data_file,
        link.entity,
        qid,
        scored,
        day=today or date.today(),
        reviewer=reviewer,
    )
    return scored


def _refuse_duplicates(graph: Graph, link: Link, qid: str) -> None:
    if link.qid == qid:
        raise LinkRefused(f"{link.slug} is already linked to {qid}: nothing to write")
    if link.qid:
        raise LinkRefused(f"{link.slug} is already linked to {link.qid}; remove that link first")
    for other in links(graph):
        if other.qid == qid:
            raise LinkRefused(f"{qid} is already the item of {other.slug}")


def _existing_item(lookup: Lookup) -> Item:
    if lookup.item is None:
        raise LinkRefused(f"{lookup.requested} does not exist on Wikidata (deleted or never made)")
    if lookup.redirected_to:
        raise LinkRefused(
            f"{lookup.requested} redirects to {lookup.redirected_to}: accept that item instead"
        )
    return lookup.item
