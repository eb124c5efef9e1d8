"""Entity and source pages: label, kind, Wikidata link, facts with numbered references,
contested figures side by side, what links here, and every string from the data escaped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from palmyra_graph.web import create_app

BROWSER = {"Accept": "text/html"}


def _page(client: FlaskClient, path: str, html: Callable[[bytes], Any]) -> Any:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return html(response.data)


def _fact(doc: Any, predicate: str) -> list[Any]:
    """The <dd> values that follow the <dt> naming ``predicate`` in the facts list."""
    facts = doc.iter("dl", "facts")[0].children
    values, inside = [], False
    for element in facts:
        if element.tag == "dt":
            inside = element.text == predicate
        elif inside:
            values.append(element)
    return values


def test_entity_page_shows_label_kind_and_facts_with_numbered_references(
    mini: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    doc = _page(mini, "/id/palmyra-offensive-2017", html)
    assert doc.iter("h1")[0].text == "Palmyra offensive (2017)"
    assert [k.text for k in doc.iter("span", "kind")] == ["military offensive"]
    [start] = _fact(doc, "start date")
    assert start.text.startswith("2017-01-13")
    refs = [(a.text, a.attrs["href"]) for a in start.iter("a", "ref")]
    assert refs == [("[3]", "/source/3"), ("[4]", "/source/4")]
    [location] = _fact(doc, "location")
    first = location.iter("a")[0]
    assert (first.text, first.attrs["href"]) == ("Palmyra", "/id/palmyra")
    [commander] = _fact(doc, "commander")
    assert "Operations chief commander" in commander.iter("span", "qualifier")[0].text
    assert [a.text for a in commander.iter("a", "ref")] == ["[8]"]


def test_contested_figures_stand_side_by_side_with_their_claimants(
    mini: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    doc = _page(mini, "/id/palmyra-offensive-2017", html)
    [group] = doc.iter("div", "contested")
    cards = group.iter("figure", "figure-card")
    shown = {
        (card.iter("p", "amount")[0].text, card.iter("figcaption")[0].iter("a")[1].text)
        for card in cards
    }
    assert shown == {
        ("283+", "Syrian Observatory for Human Rights"),
        ("1,000+", "Russian Ministry of Defence"),
    }
    refs = sorted(a.text for card in cards for a in card.iter("a", "ref"))
    assert refs == ["[26]", "[27]"]


def test_wikidata_link_and_what_links_here(mini: FlaskClient, html: Callable[[bytes], Any]) -> None:
    doc = _page(mini, "/id/palmyra", html)
    [link] = doc.iter("p", "wikidata")[0].iter("a")
    assert link.attrs["href"] == "http://www.wikidata.org/entity/Q5747"
    incoming = doc.iter("dl", "incoming")[0]
    assert "location of" in [dt.text for dt in incoming.iter("dt")]
    assert "/id/palmyra-offensive-2017" in [a.attrs["href"] for a in incoming.iter("a")]


def test_source_page_shows_its_fields_as_printed_and_the_claims_citing_it(
    mini: FlaskClient, html: Callable[[bytes], Any]
) -> None:
    doc = _page(mini, "/source/3", html)
    assert doc.iter("h1")[0].text.startswith("[3] ISIS security chief killed")
    # Dated 12 January 2016 and retrieved 14 January 2016, as the article prints them.
    values = [dd.text for dd in doc.iter("dl", "facts")[0].iter("dd")]
    assert any(v.startswith("2016-01-12") for v in values)
    assert any(v.startswith("2016-01-14") for v in values)
    rows = doc.iter("table", "citing")[0].iter("tr")[1:]
    assert [[td.text for td in row.iter("td")][:3] for row in rows] == [
        ["Palmyra offensive (2017)", "start date", "2017-01-13 (xsd:date)"]
    ]


HOSTILE = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://w3id.org/palmyra/id/x> rdfs:label "<script>alert(1)</script>"@en ;
    owl:sameAs <javascript:alert(2)> ;
    <https://w3id.org/palmyra/ontology#note> "\\"><img src=x onerror=alert(3)>" .
"""


def test_text_from_the_data_is_escaped(tmp_path: Path, html: Callable[[bytes], Any]) -> None:
    data = tmp_path / "hostile.ttl"
    data.write_text(HOSTILE, encoding="utf-8")
    client = create_app({"TESTING": True, "DATA_FILES": [str(data)]}).test_client()
    response = client.get("/id/x", headers=BROWSER)
    doc = html(response.data)
    assert doc.iter("h1")[0].text == "<script>alert(1)</script>"
    assert doc.iter("script") == []
    assert doc.iter("img") == []
    assert not [a for a in doc.iter("a") if a.attrs.get("href", "").startswith("javascript:")]
