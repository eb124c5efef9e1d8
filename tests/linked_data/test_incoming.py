"""Entity pages show the claims that point at the entity, as its subject's page shows them:
qualifiers (role, side, claimant, unit, point in time) and numbered references.

Expectations come from the bundled data read with rdflib: every claim whose object is an
entity, checked on that entity's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from palmyra_graph.graph.namespaces import BASE, ID, PAL
from palmyra_graph.wikidata.links import load_graph

BROWSER = {"Accept": "text/html"}
QUALIFIERS = (PAL.accordingTo, PAL.role, PAL.side, PAL.unit, PAL.pointInTime)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return load_graph()


def _incoming(client: FlaskClient, path: str, html: Callable[[bytes], Any]) -> dict[str, list[Any]]:
    """The "what links here" list: each property's label (``… of``) with its <dd> values."""
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, path
    lists = html(response.data).iter("dl", "incoming")
    found: dict[str, list[Any]] = {}
    current = ""
    for element in lists[0].children if lists else []:
        if element.tag == "dt":
            current = element.text.removesuffix(" of")
            found[current] = []
        else:
            found[current].append(element)
    return found


def test_incoming_commander_claim_shows_role_side_and_reference(
    client: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    # Regression: /id/suheil-al-hassan said only "commander of Palmyra offensive (2017)".
    [value] = _incoming(client, "/id/suheil-al-hassan", html)["commander"]
    links = {a.text: a.attrs["href"] for a in value.iter("a")}
    assert links["Palmyra offensive (2017)"] == "/id/palmyra-offensive-2017"
    qualifiers = [q.text for q in value.iter("span", "qualifier")]
    assert "(role: Operations chief commander)" in qualifiers
    assert "(side: Pro-government side)" in qualifiers
    assert links["Pro-government side"] == "/id/side-pro-government"
    assert [(a.text, a.attrs["href"]) for a in value.iter("a", "ref")] == [("[8]", "/source/8")]
    claim = value.iter("a", "claim")[0].attrs["href"]
    assert claim == "/claim/palmyra-offensive-2017_commander_suheil-al-hassan"


def _label(graph: Graph, node: Any) -> str:
    return str(graph.value(node, RDFS.label) or node)


def _expected(graph: Graph, claim: URIRef) -> tuple[list[str], list[str]]:
    """A claim's references as the page marks them, and its qualifiers' texts."""
    numbers = []
    for source in graph.objects(claim, PROV.wasDerivedFrom):
        number = graph.value(source, PAL.referenceNumber)
        numbers.append(int(number) if number is not None else 10**6)
    refs = [f"[{n}]" if n < 10**6 else "[article]" for n in sorted(numbers)]
    qualifiers = []
    for prop in QUALIFIERS:
        for value in graph.objects(claim, prop):
            text = str(value) if isinstance(value, Literal) else _label(graph, value)
            if isinstance(value, Literal) and value.datatype == XSD.date:
                text += " (xsd:date)"  # a literal's datatype is noted after it
            qualifiers.append(f"({_label(graph, prop)}: {text})")
    return refs, sorted(qualifiers)


def test_every_incoming_claim_on_every_entity_page_shows_its_qualifiers_and_sources(
    client: FlaskClient, html: Callable[[bytes], Any], graph: Graph
) -> None:
    checked = 0
    pages: dict[URIRef, dict[str, list[Any]]] = {}
    for claim in graph.subjects(RDF.type, PAL.Claim):
        obj, subject = graph.value(claim, RDF.object), graph.value(claim, RDF.subject)
        predicate = graph.value(claim, RDF.predicate)
        if not (isinstance(obj, URIRef) and str(obj).startswith(str(ID))):
            continue
        if obj not in pages:
            pages[obj] = _incoming(client, "/" + str(obj).removeprefix(BASE), html)
        values = pages[obj][_label(graph, predicate)]
        [value] = [v for v in values if v.iter("a")[0].text == _label(graph, subject)]
        refs, qualifiers = _expected(graph, claim)
        assert [a.text for a in value.iter("a", "ref")] == refs, claim
        assert sorted(q.text for q in value.iter("span", "qualifier")) == qualifiers, claim
        checked += 1
    assert checked >= 40 and len(pages) >= 20  # most facts point at an entity


def test_allegiance_claims_show_on_the_flagged_state_and_on_the_person(
    client: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    flagged = _incoming(client, "/id/russia", html)["allegiance"]
    shown = {v.iter("a")[0].text: [a.text for a in v.iter("a", "ref")] for v in flagged}
    assert shown == {
        "Andrey Kartapolov": ["[article]"],
        "Pyotr Milyukhin": ["[10]"],
        "Russian Armed Forces": ["[article]"],
        "PMC allies": ["[article]"],
    }
    doc = html(client.get("/id/pyotr-milyukhin", headers=BROWSER).data)
    facts = doc.iter("dl", "facts")[0].children
    at = [e.text for e in facts].index("allegiance")
    assert facts[at + 1].iter("a")[0].text == "Russia"
    assert [a.text for a in facts[at + 1].iter("a", "ref")] == ["[10]"]
