"""``/quality``: the validation report as a page grouped by rule and as an sh:ValidationReport,
each source page with its findings, each reference marker pointing them out, VoID and the
dataset description linking the report, and the report computed once per process.

Expectations come from ``validate`` itself (the same report API the page reads) and from what
the article prints: ref 3 dated 12 January 2016 and ref 21 dated 23 February 2016 for facts of
2017, refs 1 and 20 the same title, and references nothing in the graph cites.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from palmyra_graph.graph.namespaces import BASE, CLAIM, DATASET, SOURCE
from palmyra_graph.graph.validate import Report, validate
from palmyra_graph.testing import Element
from palmyra_graph.web import create_app, findings
from palmyra_graph.web.context import engine_of

HTML = {"Accept": "text/html"}
REPORT = URIRef(BASE + "quality")
SHAPES = "https://w3id.org/palmyra/shapes#"
SHAPE_FIXTURES = Path(__file__).parent.parent / "shapes" / "fixtures"


@pytest.fixture(scope="module")
def bundled() -> Report:
    return validate()


def _graph(data: bytes, rdf_format: str) -> rdflib.Graph:
    """A response body as a graph; JSON-LD read by Oxigraph's parser (rdflib's warns)."""
    if rdf_format == "json-ld":
        triples = ox.parse(data, format=ox.RdfFormat.JSON_LD)
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        rdf_format = "nt"
    return rdflib.Graph().parse(data=data, format=rdf_format)


def _page(client: FlaskClient, path: str, parse: Callable[[bytes], Element]) -> Element:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return parse(response.data)


def _rule(doc: Element, shape: str) -> Element:
    [section] = [s for s in doc.iter("section", "rule") if s.attrs["data-rule"] == SHAPES + shape]
    return section


def _sources(item: Element) -> set[str]:
    return {a.attrs["href"] for a in item.iter("a", "source")}


def test_quality_page_groups_the_findings_by_rule_with_counts(
    client: FlaskClient, parse: Callable[[bytes], Element], bundled: Report
) -> None:
    doc = _page(client, "/quality", parse)
    counts = {dd.attrs["data-count"]: int(dd.text) for dd in doc.by_id("counts").iter("dd")}
    assert counts == {"Violation": 0, "Warning": len(bundled.of("Warning")), "Info": 0}
    assert "conforms" in doc.by_id("verdict").text
    by_rule = Counter(str(r.shape).removeprefix(SHAPES) for r in bundled.results)
    shown = {
        s.attrs["data-rule"].removeprefix(SHAPES): len(s.iter("li", "finding"))
        for s in doc.iter("section", "rule")
    }
    assert shown == by_rule
    listed = {li.attrs["data-rule-count"].removeprefix(SHAPES): int(li.text) for li in [
        span for span in doc.iter("span") if "data-rule-count" in span.attrs
    ]}  # fmt: skip
    assert listed == by_rule
    # What the article prints: refs 3 and 21 dated long before the 2017 facts they support,
    long_before = _rule(doc, "PublishedLongBeforeShape")
    assert set().union(*map(_sources, long_before.iter("li", "finding"))) == {
        "/source/3",
        "/source/21",
    }
    # each with the claim it is cited for linked,
    claims = {a.attrs["href"] for a in long_before.iter("a", "value")}
    assert "/claim/palmyra-offensive-2017_startDate_2017-01-13" in claims
    assert "/claim/palmyra-offensive-2017_strength_strength-pro-government" in claims
    # refs 1 and 20 the same work, and the references nothing cites.
    same = _rule(doc, "SameWorkShape").iter("li", "finding")
    assert {frozenset(_sources(li)) for li in same} == {frozenset({"/source/1", "/source/20"})}
    uncited = {
        href for li in _rule(doc, "UncitedReferenceShape").iter("li", "finding")
        for href in _sources(li)
    }  # fmt: skip
    expected = {
        f"/source/{r.sources[0].number}" for r in bundled.results if "Uncited" in str(r.shape)
    }
    assert uncited == expected and {"/source/6", "/source/20"} <= uncited
    messages = [li.iter("p", "message")[0].text for li in doc.iter("li", "finding")]
    assert sorted(messages) == sorted(r.message for r in bundled.results)


@pytest.mark.parametrize(
    ("path", "accept", "rdf_format"),
    [
        ("/quality", "text/turtle", "turtle"),
        ("/quality", "application/ld+json", "json-ld"),
        ("/quality.ttl", None, "turtle"),
        ("/quality.jsonld", None, "json-ld"),
        ("/quality", "*/*", "turtle"),
    ],
)
def test_quality_as_rdf_is_an_sh_validation_report_with_every_result(
    client: FlaskClient, bundled: Report, path: str, accept: str | None, rdf_format: str
) -> None:
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    graph = _graph(response.data, rdf_format)
    assert set(graph.subjects(RDF.type, SH.ValidationReport)) == {REPORT}
    assert graph.value(REPORT, SH.conforms) == Literal(True)
    results = set(graph.objects(REPORT, SH.result))
    assert len(results) == len(bundled.results)
    assert set(graph.subjects(RDF.type, SH.ValidationResult)) == results
    shown = Counter(
        (
            graph.value(r, SH.focusNode),
            str(graph.value(r, SH.resultMessage)),
            graph.value(r, SH.value),
        )
        for r in results
    )  # fmt: skip
    assert shown == Counter((r.focus, r.message, r.value) for r in bundled.results)
    assert {graph.value(r, SH.resultSeverity) for r in results} == {SH.Warning}
    assert all(isinstance(graph.value(r, SH.sourceShape), URIRef) for r in results)


def _broken_app(broken: str) -> Flask:
    """An app on the shapes' valid fixture with one broken-data fixture added."""
    files = [SHAPE_FIXTURES / name for name in ("vocabulary.ttl", "valid.ttl", broken)]
    return create_app({"TESTING": True, "QUERY_WORKERS": 0, "DATA_FILES": [str(f) for f in files]})


@pytest.mark.parametrize(
    "broken",
    ["broken-claim-without-source.ttl", "broken-date-ill-formed.ttl", "broken-same-work.ttl"],
)
def test_quality_report_on_broken_data_matches_validate(broken: str) -> None:
    app = _broken_app(broken)
    expected = validate(app.config["DATA_FILES"], ontology=True)
    response = app.test_client().get("/quality.ttl")
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert graph.value(REPORT, SH.conforms) == Literal(expected.conforms)
    shown = Counter(
        (graph.value(r, SH.focusNode), graph.value(r, SH.resultSeverity), graph.value(r, SH.value))
        for r in graph.objects(REPORT, SH.result)
    )  # fmt: skip
    assert shown == Counter((r.focus, SH[r.severity], r.value) for r in expected.results)


def test_claim_without_source_is_a_violation_shown_on_the_page_and_the_claims_page(
    parse: Callable[[bytes], Element],
) -> None:
    client = _broken_app("broken-claim-without-source.ttl").test_client()
    doc = _page(client, "/quality", parse)
    assert "not" in doc.by_id("verdict").text
    rule = _rule(doc, "ClaimHasSourceShape")
    assert rule.attrs["data-severity"] == "Violation"
    assert rule.iter("h2")[0].text.startswith("Claim node")  # the node shape's label
    [item] = rule.iter("li", "finding")
    claim = "/claim/palmyra-offensive-2017_endDate_2017-03-02"
    assert item.iter("a", "focus")[0].attrs["href"] == claim
    page = _page(client, claim, parse)
    [shown] = page.iter("li", "finding")
    assert "must be derived from at least one source" in shown.iter("p", "message")[0].text


def test_source_page_shows_its_findings_with_the_rules_message(
    client: FlaskClient, parse: Callable[[bytes], Element], bundled: Report
) -> None:
    for number in (3, 20, 6):
        source = SOURCE[str(number)]
        expected = sorted(r.message for r in bundled.results if r.focus == source)
        doc = _page(client, f"/source/{number}", parse)
        shown = [li.iter("p", "message")[0].text for li in doc.iter("li", "finding")]
        assert sorted(shown) == expected and expected, number
    doc = _page(client, "/source/5", parse)  # TASS: nothing found
    assert doc.iter("li", "finding") == []


def _marks(element: Element) -> list[Element]:
    return element.iter("a", "finding-mark")


def test_reference_marker_carries_the_finding_message_on_the_home_page(
    client: FlaskClient, parse: Callable[[bytes], Element], bundled: Report
) -> None:
    start = CLAIM["palmyra-offensive-2017_startDate_2017-01-13"]
    [finding] = [r for r in bundled.results if r.value == start]
    doc = _page(client, "/", parse)
    overview = doc.by_id("overview")
    [start_row] = [d for d in overview.children if d.attrs.get("data-property") == "startDate"]
    [mark] = _marks(start_row)
    assert mark.attrs["title"] == f"Warning: {finding.message}"
    anchor = mark.attrs["href"].removeprefix("/quality#")
    report = _page(client, "/quality", parse)
    assert report.by_id(anchor).iter("p", "message")[0].text == finding.message
    # the end date's [3] points out the end date's finding, not the start date's
    [end_row] = [d for d in overview.children if d.attrs.get("data-property") == "endDate"]
    [end_mark] = _marks(end_row)
    assert "2017-03-02" in end_mark.attrs["title"] and "2017-01-13" not in end_mark.attrs["title"]


def test_reference_marker_carries_the_finding_message_on_entity_pages(
    client: FlaskClient, parse: Callable[[bytes], Element], bundled: Report
) -> None:
    doc = _page(client, "/id/hezbollah", parse)
    [same_work] = [r for r in bundled.results if r.focus == SOURCE["1"]]
    # Hezbollah's unit-involved claim on the offensive cites [1], the same work as [20]
    titles = [m.attrs["title"] for m in _marks(doc.iter("dl", "incoming")[0])]
    assert f"Warning: {same_work.message}" in titles
    offensive = _page(client, "/id/palmyra-offensive-2017", parse)
    assert any("367 days before 2017-01-13" in m.attrs["title"] for m in _marks(offensive))


def test_void_and_the_dataset_description_link_the_report(
    client: FlaskClient, parse: Callable[[bytes], Element]
) -> None:
    void = rdflib.Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    assert (URIRef(DATASET), RDFS.seeAlso, REPORT) in void
    assert (REPORT, RDF.type, SH.ValidationReport) in void
    dataset = rdflib.Graph().parse(data=client.get("/dataset.ttl").data, format="turtle")
    assert (URIRef(DATASET), RDFS.seeAlso, REPORT) in dataset
    page = _page(client, "/dataset", parse)
    assert "/quality" in {a.attrs.get("href") for a in page.iter("a")}


def test_quality_negotiates_like_every_resource(client: FlaskClient) -> None:
    response = client.get("/quality", headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    page = client.get("/quality", headers=HTML)
    assert page.headers["Vary"] == "Accept" and page.headers["Content-Location"] == "/quality.html"
    assert 'rel="alternate"; type="text/turtle"' in page.headers["Link"]


def test_report_is_computed_once_per_process_not_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[object] = []

    def counting(*args: object, **kwargs: object) -> Report:
        calls.append(args)
        return validate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(findings, "validate", counting)
    monkeypatch.setattr(findings, "_MEMO", {})
    first = create_app({"TESTING": True, "QUERY_WORKERS": 0})
    assert calls == []  # not at create_app: on first use
    for path in ("/quality", "/", "/source/3", "/quality.ttl", "/id/syria"):
        assert first.test_client().get(path, headers=HTML).status_code == 200
    second = create_app({"TESTING": True, "QUERY_WORKERS": 0})
    assert second.test_client().get("/quality.jsonld").status_code == 200
    assert len(calls) == 1
    assert findings.quality_of(first) is findings.quality_of(second)


def test_a_remote_graph_is_not_validated_and_the_page_says_why(
    parse: Callable[[bytes], Element],
) -> None:
    app: Flask = create_app(
        {"TESTING": True, "QUERY_WORKERS": 0, "REMOTE": "http://127.0.0.1:9/sparql"}
    )
    client = app.test_client()
    doc = _page(client, "/quality", parse)
    assert "remote endpoint" in doc.by_id("unavailable").text
    response = client.get("/quality.ttl")
    assert response.status_code == 404 and b"remote endpoint" in response.data


def test_a_graph_past_the_validated_size_is_not_validated_and_the_page_says_why(
    monkeypatch: pytest.MonkeyPatch, parse: Callable[[bytes], Element]
) -> None:
    monkeypatch.setattr(findings, "_MEMO", {})
    monkeypatch.setattr(findings, "MAX_VALIDATED_TRIPLES", 1_000)  # the bundled graph: 1.5k
    monkeypatch.setattr(findings, "validate", None)  # never called
    client = create_app({"TESTING": True, "QUERY_WORKERS": 0}).test_client()
    doc = _page(client, "/quality", parse)
    assert "more than 1,000 triples: not validated" in doc.by_id("unavailable").text


def test_triples_are_counted_by_the_engine_up_to_the_bound() -> None:
    app = create_app({"TESTING": True, "QUERY_WORKERS": 0})
    engine = engine_of(app)
    everything = len(list(engine.query("SELECT * WHERE { ?s ?p ?o }").solutions()))
    assert everything > 1_000
    assert findings.triples_up_to(engine, 1_000) == 1_000
    assert findings.triples_up_to(engine, 10**9) == everything
    assert findings.triples_up_to(engine, 0) == 0
