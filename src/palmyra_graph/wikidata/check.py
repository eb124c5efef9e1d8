"""Fetch every linked Wikidata item again and report links that no longer fit.

A link is reported when its item was deleted, was redirected (merged into another item),
has no English label or alias close to our entity's names, has a type that contradicts our
class (see ``matching``), or has no mapping node recording how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph

from palmyra_graph.wikidata.api import Lookup, WikidataClient
from palmyra_graph.wikidata.links import Link, links
from palmyra_graph.wikidata.matching import NAME_THRESHOLD, Fit
from palmyra_graph.wikidata.reconcile import Reconciler


@dataclass(frozen=True)
class Problem:
    """One reason a link is wrong or stale."""

    kind: str  # deleted | redirected | names | type | provenance
    detail: str


@dataclass
class LinkReport:
    """A linked entity, what Wikidata says about its item, and the problems found."""

    link: Link
    fit: Fit | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_links(graph: Graph, client: WikidataClient) -> list[LinkReport]:
    """A report for every linked entity of ``graph``, in IRI order.

    Raises:
        LinkError: the API cannot be reached or keeps refusing after the bounded retries.
    """
    linked = [link for link in links(graph) if link.qid]
    lookups = client.get_items(link.qid for link in linked if link.qid)
    reconciler = Reconciler(graph, client)
    return [_report(reconciler, link, lookups[link.qid]) for link in linked if link.qid]


def _report(reconciler: Reconciler, link: Link, lookup: Lookup) -> LinkReport:
    report = LinkReport(link=link)
    if link.mapping is None:
        report.problems.append(Problem("provenance", "no mapping node says how it was made"))
    if lookup.item is None:
        report.problems.append(Problem("deleted", f"{link.qid} does not exist on Wikidata"))
        return report
    if lookup.redirected_to:
        report.problems.append(
            Problem("redirected", f"{link.qid} now redirects to {lookup.redirected_to}")
        )
    scored = reconciler.score(link, lookup.item)
    report.fit = scored
    if scored.name < NAME_THRESHOLD:
        shown = scored.item_label or "no English label"
        report.problems.append(
            Problem("names", f"item is {shown!r}: no label or alias close to {link.label!r}")
        )
    if scored.type == "incompatible":
        report.problems.append(
            Problem("type", "the item's instance-of does not fit our class's Wikidata alignment")
        )
    return report
