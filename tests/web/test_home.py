"""The home page through Flask's test client, on the fixture graph.

Expectations are read from the same Turtle with rdflib (a separate parser and query engine),
so each test checks what the page shows against what the graph says.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from palmyra_graph.graph import resources
from palmyra_graph.graph.namespaces import BASE, PAL

from .conftest import FIXTURES, Element

OFFENSIVE = URIRef(BASE + "id/palmyra-offensive-2017")
Parse = Callable[[bytes | str], Element]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph().parse(FIXTURES / "offensive.ttl")


@pytest.fixture
def page(fixture_client: FlaskClient, parse: Parse) -> Element:
    response = fixture_client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return parse(response.data)


def local(iri: object) -> str:
    return "/" + str(iri)[len(BASE) :]


def test_title_is_the_offensive_label(page: Element, graph: Graph) -> None:
    assert page.find("h1").text == str(graph.value(OFFENSIVE, RDFS.label))


def test_dates_are_the_graph_dates(page: Element, graph: Graph) -> None:
    for name in ("startDate", "endDate"):
        shown = page.find("div", **{"data-property": name}).find("time").attrs["datetime"]
        stored = graph.value(OFFENSIVE, PAL[name])
        assert isinstance(stored, Literal) and str(stored.datatype).endswith("#date")
        assert shown == str(stored)


def test_every_citation_links_the_claim_and_exactly_its_sources(
    page: Element, graph: Graph
) -> None:
    citations = [c for c in page.find_all("span", class_="cite") if c.find_all("a", class_="claim")]
    assert len(citations) >= 20
    claims_by_path = {local(c): c for c in graph.subjects(RDF.type, RDF.Statement)}
    for citation in citations:
        claim = claims_by_path[citation.find("a", class_="claim").attrs["href"]]
        shown = {
            a.attrs["href"]
            for a in citation.find_all("a")
            if "claim" not in a.attrs.get("class", "")
        }
        assert shown == {local(s) for s in graph.objects(claim, PROV.wasDerivedFrom)}


def test_every_casualty_figure_has_its_claimant(page: Element, graph: Graph) -> None:
    rows = page.by_id("casualties").find("tbody").find_all("tr")
    shown = {row.find("th").find("a").text: row.find("td", class_="claimant").text for row in rows}
    expected = {}
    for figure in graph.objects(OFFENSIVE, PAL.casualties):
        claim = next(
            c
            for c in graph.subjects(RDF.object, figure)
            if (c, RDF.predicate, PAL.casualties) in graph
        )
        claimant = graph.value(claim, PAL.accordingTo)
        expected[str(graph.value(figure, RDFS.label))] = (
            str(graph.value(claimant, RDFS.label)) if claimant else "the source"
        )
    assert shown == expected


def test_counts_are_the_graph_counts(page: Element, graph: Graph) -> None:
    def count(name: str) -> int:
        return int(page.find("dd", **{"data-count": name}).text)

    assert count("triples") == len(graph)
    assert count("claims") == len(set(graph.subjects(RDF.type, RDF.Statement)))
    assert count("figures") == len(set(graph.subjects(RDF.type, PAL.Figure)))


def test_commanders_with_roles(page: Element, graph: Graph) -> None:
    rows = page.by_id("commanders").find("tbody").find_all("tr")
    shown = {row.find("th").find("a").text: row.find_all("td")[1].text for row in rows}
    expected = {}
    for person in graph.objects(OFFENSIVE, PAL.commander):
        claim = next(c for c in graph.subjects(RDF.object, person))
        expected[str(graph.value(person, RDFS.label))] = str(graph.value(claim, PAL.role) or "")
    assert shown == expected


def test_our_iris_link_to_local_pages(page: Element) -> None:
    hrefs = [a.attrs["href"] for a in page.iter("a") if "href" in a.attrs]
    assert not [h for h in hrefs if h.startswith(BASE)]
    assert "/id/palmyra-offensive-2017" in hrefs
    assert {"/sparql", "/query", "/.well-known/void"} <= set(hrefs)


def test_timeline_has_one_mark_per_dated_claim(page: Element, graph: Graph) -> None:
    svg = page.find("svg", id="timeline-svg")
    marks = {a.attrs["href"] for a in svg.find_all("a", class_="mark")}
    dated = set()
    for claim in graph.subjects(RDF.type, RDF.Statement):
        obj = graph.value(claim, RDF.object)
        if isinstance(obj, Literal) and obj.datatype and str(obj.datatype).endswith("#date"):
            dated.add(local(claim))
        if graph.value(claim, PAL.pointInTime) or graph.value(obj, PAL.since):
            dated.add(local(claim))
    assert marks == dated
    assert len(marks) == 6


def test_casualty_bars_are_to_one_scale(page: Element, graph: Graph) -> None:
    svg = page.find("svg", id="casualty-svg")
    widths = {}
    for link in svg.find_all("a"):
        rects = link.find_all("rect", class_="bar")
        if rects:
            widths[link.attrs["href"]] = float(rects[0].attrs["width"])
    amounts = {}
    for figure in graph.objects(OFFENSIVE, PAL.casualties):
        claim = next(c for c in graph.subjects(RDF.object, figure))
        amounts[local(claim)] = int(str(graph.value(figure, PAL.amount)))
    assert widths.keys() == amounts.keys()
    largest = max(amounts, key=lambda k: amounts[k])
    scale = widths[largest] / amounts[largest]
    for key, amount in amounts.items():
        assert widths[key] == pytest.approx(amount * scale, abs=0.1)


def test_breakdown_parts_are_drawn_inside_their_bar(page: Element, graph: Graph) -> None:
    svg = page.find("svg", id="casualty-svg")
    segments = [a for a in svg.find_all("a") if a.find_all("rect", class_="segment")]
    parts = {local(p) for p in graph.objects(None, PAL.hasPart)}
    assert {a.attrs["href"] for a in segments} == parts
    assert len(parts) == 2


def test_home_page_shows_the_flag_the_infobox_prints_before_commanders_and_units(
    client: FlaskClient, parse: Parse
) -> None:
    # On the bundled data: Russia's flag before Kartapolov, Milyukhin ([10]) and "Russian Armed
    # Forces and PMC allies", as pal:allegiance claims (the article itself where no marker).
    bundled = Graph().parse(resources.DATA_FILE)
    expected = {
        str(bundled.value(c, RDF.subject)): str(bundled.value(c, RDF.object))
        for c in bundled.subjects(RDF.predicate, PAL.allegiance)
    }
    assert set(expected.values()) == {BASE + "id/russia"} and len(expected) == 4
    page = parse(client.get("/").data)
    shown = {}
    for row in page.by_id("commanders").find("tbody").find_all("tr"):
        person = row.find("th").find("a").attrs["href"]
        flag = row.find("td", class_="allegiance")
        if flag.find_all("a"):
            shown[person] = flag.find("a").attrs["href"]
            sources = [a.text for a in flag.find_all("a") if a.text.startswith("[")]
            assert sources == (["[10]"] if "milyukhin" in person else ["[article]"])
    for unit in page.find_all("ul", class_="units"):
        for item in unit.find_all("li"):
            flag = item.find_all("span", class_="allegiance")
            if flag:
                shown[local(item.attrs["data-unit"])] = flag[0].find("a").attrs["href"]
    assert shown == {local(s): local(o) for s, o in expected.items()}
