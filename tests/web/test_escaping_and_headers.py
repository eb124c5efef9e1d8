"""Data-derived text is escaped everywhere, and HTML goes out with a strict CSP.

The hostile fixture's labels try to open script, img, svg, iframe and b elements and to add
event-handler attributes; on a correctly escaped page none of those elements or attributes
exist and each hostile string is shown, intact, as text.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS

from palmyra_graph.graph.namespaces import BASE
from palmyra_graph.web import create_app
from palmyra_graph.web.headers import CONTENT_SECURITY_POLICY

from .conftest import FIXTURES, Element

Parse = Callable[[bytes | str], Element]
INJECTED = {"img", "iframe", "b"}


@pytest.fixture(scope="module")
def hostile_app() -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATA_FILES": [str(FIXTURES / "hostile.ttl")],
            "QUERIES_DIR": str(FIXTURES / "hostile-queries"),
        }
    )


def assert_nothing_injected(page: Element) -> None:
    elements = list(page.iter())
    assert not [e.tag for e in elements if e.tag in INJECTED]
    assert not [e.attrs for e in elements if any(k.startswith("on") for k in e.attrs)]
    assert all(s.attrs.get("src", "").startswith("/static/") for s in page.iter("script"))
    # only the drawings' own two <svg> elements
    assert len(page.find_all("svg")) <= 2


@pytest.mark.parametrize("path", ["/", "/query?example=hostile"])
def test_hostile_labels_inject_nothing(hostile_app: Flask, parse: Parse, path: str) -> None:
    response = hostile_app.test_client().get(path)
    assert response.status_code == 200
    assert_nothing_injected(parse(response.data))


def test_hostile_labels_are_shown_as_text(hostile_app: Flask, parse: Parse) -> None:
    page = parse(hostile_app.test_client().get("/").data)
    graph = Graph().parse(FIXTURES / "hostile.ttl")
    texts = [e.text for e in page.iter()]
    for label in graph.objects(None, RDFS.label):
        assert any(str(label) == t for t in texts), str(label)
    lane = page.find("svg", id="timeline-svg").find("text", class_="lane-label")
    offensive = URIRef(BASE + "id/palmyra-offensive-2017")
    assert lane.find("a").text == str(graph.value(offensive, RDFS.label))
    headline = page.find("span", class_="cite").find("a")
    assert headline.attrs["title"] == "\" onmouseover=\"alert('headline')"


def test_hostile_query_text_stays_in_the_editor(hostile_app: Flask, parse: Parse) -> None:
    page = parse(hostile_app.test_client().get("/query?example=hostile").data)
    source = (FIXTURES / "hostile-queries" / "hostile.rq").read_text(encoding="utf-8")
    assert page.by_id("query").content == [source]
    option = page.find("option", value="hostile")
    assert option.attrs["data-query"] == source
    assert option.text == '<script>alert("question")</script> & "quotes" \'too\''


@pytest.mark.parametrize("path", ["/", "/query"])
def test_html_has_security_headers(fixture_client: FlaskClient, path: str) -> None:
    response = fixture_client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_policy_allows_nothing_inline_or_foreign() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_static_files_are_not_sniffed(fixture_client: FlaskClient) -> None:
    response = fixture_client.get("/static/query.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers
    response.close()


@pytest.mark.parametrize("path", ["/", "/query"])
def test_pages_need_no_inline_script_or_style(
    fixture_client: FlaskClient, parse: Parse, path: str
) -> None:
    page = parse(fixture_client.get(path).data)
    elements = list(page.iter())
    assert not page.find_all("style")
    assert not [e.tag for e in elements if "style" in e.attrs]
    assert all("src" in s.attrs and not s.text for s in page.iter("script"))
    assert not [e for e in elements if any(k.startswith("on") for k in e.attrs)]
    assert not [a for a in page.iter("a") if a.attrs.get("href", "").startswith("javascript:")]
