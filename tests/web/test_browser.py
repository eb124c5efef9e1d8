"""The pages in a real browser (Debian's Chromium driven by Playwright) against a real server.

Expectations come from the bundled data read with rdflib, and from the expected answers
beside each example query. Every test fails on a console error or an uncaught exception in
the page. Screenshots go to ``artifacts/screenshots/`` for reviewers.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright
from rdflib import Graph, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from palmyra_graph.graph import resources
from palmyra_graph.graph.namespaces import BASE, PAL
from palmyra_graph.graph.validate import validate
from palmyra_graph.testing import LiveServer
from palmyra_graph.web.charts import long_date

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
OFFENSIVE = URIRef(BASE + "id/palmyra-offensive-2017")
# Chromium logs every non-2xx fetch as a console error; the bad-query test expects one.
HTTP_400_LOG = "the server responded with a status of 400"


def expected_answer(query: Path) -> list[tuple[str, ...]] | None:
    """The rows of the expected answer beside a query (``.srj`` or ``.csv``), sorted."""
    srj, table = query.with_suffix(".srj"), query.with_suffix(".csv")
    if srj.exists():
        data = json.loads(srj.read_text("utf-8"))
        names = data["head"]["vars"]
        rows = [
            tuple(b.get(n, {}).get("value", "") for n in names) for b in data["results"]["bindings"]
        ]
        return sorted(rows)
    if table.exists():
        reader = csv.reader(io.StringIO(table.read_text("utf-8"), newline=""))
        return sorted(tuple(row) for row in list(reader)[1:])
    return None


EXAMPLES = [q for q in sorted(resources.QUERIES_DIR.glob("*.rq")) if expected_answer(q)]


@dataclass
class Tab:
    """A page with the console errors and uncaught exceptions it produced."""

    page: Page
    url: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        response = self.page.goto(self.url + path)
        assert response is not None and response.status == 200, path

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def new_tab(browser: Browser, server: LiveServer, width: int = 1200) -> Tab:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    tab = Tab(page, server.url)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    return tab


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Tab]:
    opened = new_tab(browser, live_server)
    yield opened
    opened.page.context.close()
    assert opened.errors == []


@pytest.fixture(scope="module")
def graph() -> Graph:
    loaded = Graph()
    for path in resources.default_data_files():
        loaded.parse(path)
    return loaded


def local(iri: object) -> str:
    return "/" + str(iri)[len(BASE) :]


def test_home_shows_the_dates(tab: Tab, graph: Graph) -> None:
    tab.open("/")
    for name in ("startDate", "endDate"):
        shown = tab.page.locator(f'[data-property="{name}"] dd time').inner_text()
        assert shown == long_date(str(graph.value(OFFENSIVE, PAL[name])))
    tab.shot("home")


def test_home_shows_casualty_figures_with_claimants(tab: Tab, graph: Graph) -> None:
    tab.open("/")
    rows = tab.page.locator("#casualties tbody tr")
    shown = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        figure = row.locator("th > a").inner_text()
        sources = row.locator(".cite a:not(.claim):not(.finding-mark)").all_inner_texts()
        shown[figure] = (row.locator("td.claimant").inner_text(), sources)
    expected = {}
    for node in graph.objects(OFFENSIVE, PAL.casualties):
        claim = next(
            c for c in graph.subjects(RDF.object, node) if (c, RDF.type, PAL.Claim) in graph
        )
        claimant = graph.value(claim, PAL.accordingTo)
        numbers = sorted(
            int(str(graph.value(s, PAL.referenceNumber)))
            for s in graph.objects(claim, PROV.wasDerivedFrom)
        )
        expected[str(graph.value(node, RDFS.label))] = (
            str(graph.value(claimant, RDFS.label)) if claimant else "the source",
            [f"[{n}]" for n in numbers],
        )
    assert shown == expected
    assert tab.page.locator("#casualty-svg .bar-row rect.bar").count() == len(expected)
    assert tab.page.locator("#timeline-svg a.mark").count() >= 4


def test_home_fits_a_phone(browser: Browser, live_server: LiveServer) -> None:
    phone = new_tab(browser, live_server, width=390)
    phone.open("/")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("home-phone")
    phone.page.context.close()
    assert phone.errors == []


def cells(page: Page) -> list[tuple[str, ...]]:
    """The result table: an IRI cell as its full IRI, a literal as its lexical form."""
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#result-table tbody tr')].map(tr =>
             [...tr.cells].map(td => {
               const link = td.querySelector('[title]');
               if (link) return link.getAttribute('title');
               const literal = td.querySelector('.literal');
               return literal ? literal.textContent : '';
             }))"""
    )
    return sorted(tuple(r) for r in rows)


@pytest.mark.parametrize("query", EXAMPLES, ids=[q.stem for q in EXAMPLES])
def test_example_query_shows_the_expected_rows(tab: Tab, query: Path) -> None:
    tab.open("/query")
    tab.page.select_option("#example", query.stem)
    assert tab.page.input_value("#query") == query.read_text("utf-8")
    tab.page.click("#run")
    tab.page.wait_for_selector("#result-table")
    assert cells(tab.page) == expected_answer(query)
    assert "query=" in tab.page.url
    tab.shot(f"query-{query.stem}")


def test_download_links_give_csv_and_json(tab: Tab) -> None:
    query = EXAMPLES[0]
    tab.open("/query?example=" + query.stem)
    tab.page.click("#run")
    tab.page.wait_for_selector("#result-table")
    csv_href = tab.page.get_attribute("#download-csv", "href")
    json_href = tab.page.get_attribute("#download-json", "href")
    assert csv_href and json_href
    as_csv = tab.page.request.get(tab.url + csv_href)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text(), newline="")))[1:]
    as_json = tab.page.request.get(tab.url + json_href).json()
    assert len(rows) == len(as_json["results"]["bindings"]) == len(cells(tab.page))


def test_shared_link_reruns_the_query(tab: Tab, browser: Browser, live_server: LiveServer) -> None:
    tab.open("/query")
    tab.page.fill("#query", "SELECT ?s WHERE { ?s a <https://w3id.org/palmyra/ontology#Figure> }")
    tab.page.press("#query", "Control+Enter")
    tab.page.wait_for_selector("#result-table")
    first = cells(tab.page)
    other = new_tab(browser, live_server)
    other.page.goto(tab.page.url)
    other.page.wait_for_selector("#result-table")
    assert cells(other.page) == first and first
    other.page.context.close()
    assert other.errors == []


def test_bad_query_shows_the_endpoint_error(tab: Tab) -> None:
    bad = "SELECT ?x WHERE { ?x"
    tab.open("/query")
    tab.page.fill("#query", bad)
    tab.page.press("#query", "Control+Enter")
    tab.page.wait_for_selector("#error", state="visible")
    direct = requests.post(tab.url + "/sparql", data={"query": bad}, timeout=10)
    assert direct.status_code == 400
    assert tab.page.inner_text("#error-status").startswith("HTTP 400")
    assert tab.page.locator("#error-text").text_content() == direct.text
    assert tab.page.locator("#results").is_hidden()
    tab.shot("query-error")
    assert len(tab.errors) == 1 and HTTP_400_LOG in tab.errors[0]
    tab.errors.clear()


def test_entity_link_opens_its_page_with_sources(tab: Tab, graph: Graph) -> None:
    tab.open("/")
    tab.page.click("text=Everything the graph says about the offensive")
    tab.page.wait_for_load_state()
    assert tab.page.url == tab.url + local(OFFENSIVE)
    claim = next(graph.subjects(RDF.object, graph.value(OFFENSIVE, PAL.startDate)))
    hrefs = set(
        tab.page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    )
    assert {local(s) for s in graph.objects(claim, PROV.wasDerivedFrom)} <= hrefs
    tab.shot("entity-offensive")


def test_a_browser_opening_sparql_lands_on_the_query_page(tab: Tab) -> None:
    response = tab.page.goto(tab.url + "/sparql")
    assert response is not None and response.status == 200
    assert tab.page.url == tab.url + "/query"
    assert tab.page.locator("#query").is_visible()
    redirect = response.request.redirected_from
    assert redirect is not None and redirect.url == tab.url + "/sparql"


class _OtherOrigin(BaseHTTPRequestHandler):
    """A blank page on another loopback port: a site whose scripts call our server."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherOrigin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


FETCH = """async ([url, init]) => {
  try {
    const r = await fetch(url, init);
    return {status: r.status, text: await r.text()};
  } catch (e) {
    return {status: 0, text: String(e)};
  }
}"""
SELECT_ONE = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
# (path, fetch options, status, text in the body): errors a script on another site must be
# able to read, not an opaque failure (issue 14: no CORS on 404, 406 and the gate's 431/414).
CROSS_ORIGIN = [
    ("/id/no-such-thing", {"headers": {"Accept": "text/turtle"}}, 404, "not found"),
    ("/id/palmyra-offensive-2017", {"headers": {"Accept": "image/png"}}, 406, "offered as"),
    ("/dumps/no-such-dump.nq", {}, 404, "Not Found"),
    ("/sparql?query=" + "x" * 70_000, {}, 414, "POST"),
    (
        "/sparql",
        {
            "method": "POST",
            "headers": {
                "Content-Type": "application/sparql-query",  # not safelisted: a preflight
                "Accept": "application/sparql-results+json",
            },
            "body": SELECT_ONE,
        },
        200,
        '"bindings"',
    ),
]


@pytest.mark.parametrize(
    ("path", "init", "status", "text"), CROSS_ORIGIN, ids=["404", "406", "dump-404", "414", "post"]
)
def test_a_script_on_another_site_reads_every_answer(
    browser: Browser,
    live_server: LiveServer,
    other_origin: str,
    path: str,
    init: dict[str, object],
    status: int,
    text: str,
) -> None:
    tab = new_tab(browser, live_server)
    try:
        tab.page.goto(other_origin)
        answer = tab.page.evaluate(FETCH, [live_server.url + path, init])
        assert answer["status"] == status, answer["text"][:200]
        assert text in answer["text"]
        # Chromium logs every non-2xx answer; anything else (a CORS refusal) is a failure.
        assert [e for e in tab.errors if "the server responded with a status of" not in e] == []
    finally:
        tab.page.context.close()


def test_a_reference_mark_leads_to_its_finding_in_the_report(tab: Tab) -> None:
    report = validate()
    tab.open("/")
    mark = tab.page.locator('[data-property="startDate"] a.finding-mark').first
    title = mark.get_attribute("title") or ""
    assert title.removeprefix("Warning: ") in {r.message for r in report.results}
    mark.click()
    tab.page.wait_for_load_state()
    assert tab.page.url.startswith(tab.url + "/quality#result-")
    target = tab.page.locator("li.finding:target")
    assert target.is_visible()
    assert "Warning: " + target.locator("p.message").inner_text() == title
    dd = tab.page.locator("#counts dd")
    shown = {dd.nth(i).get_attribute("data-count"): dd.nth(i).inner_text() for i in range(3)}
    assert shown == {s: str(len(report.of(s))) for s in ("Violation", "Warning", "Info")}
    assert tab.page.locator("section.rule li.finding").count() == len(report.results)
    tab.shot("quality")
