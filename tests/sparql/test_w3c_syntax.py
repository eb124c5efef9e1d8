"""The W3C SPARQL 1.0 and 1.1 query syntax suites, each query sent through ``/sparql`` of a
real ``palmyra-graph serve`` on loopback.

``../shared/w3c/sparql10-syntax-sparql1`` … ``5``, ``sparql11-syntax-query`` and
``sparql11-syntax-fed`` (w3c/rdf-tests): each ``manifest.ttl`` entry is a ``.rq`` file that
is valid (``mf:PositiveSyntaxTest``/``11``: it must be evaluated, 200 with an answer that
parses) or invalid (``mf:NegativeSyntaxTest``/``11``: 400). The queries' relative IRIs
resolve against the endpoint's base (``BASE_IRI``), as any query's do, and the functions
they call that the endpoint does not know are expression errors. Every test that answers
otherwise is in ``EXCEPTIONS``, with what it gets instead and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.collection import Collection

from palmyra_graph.testing import CountingListener, LiveServer

from .conftest import DATA
from .helpers import boolean, graph, media_type, rows

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SUITES = (
    "sparql10-syntax-sparql1",
    "sparql10-syntax-sparql2",
    "sparql10-syntax-sparql3",
    "sparql10-syntax-sparql4",
    "sparql10-syntax-sparql5",
    "sparql11-syntax-query",
    "sparql11-syntax-fed",
)
POSITIVE = {MF.PositiveSyntaxTest, MF.PositiveSyntaxTest11}
NEGATIVE = {MF.NegativeSyntaxTest, MF.NegativeSyntaxTest11}
#: Read when the suites are there, for the test names (the tests use ``shared_dir``).
_W3C = Path(__file__).resolve().parents[3] / "shared" / "w3c"

ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
NOT_ALLOWED = "is not allowed on this endpoint"
SERVICE = (
    "valid, but SERVICE <g> calls <https://w3id.org/palmyra/g> (the relative IRI against the "
    "endpoint's base), which is not on the SERVICE allow-list: empty by default, since the "
    "engine would fetch any URL a query names (server-side request forgery). Evaluated, 200, "
    "by test_w3c_federated_syntax_with_the_endpoint_allowed"
)
FEDERATED = "sparql11-syntax-fed"


@dataclass(frozen=True)
class Exception_:
    """A test the endpoint answers otherwise than the suite says: the status it gets, a text
    its message holds (for a 400), and why."""

    status: int
    reason: str
    message: str = ""


#: suite/test -> what the endpoint answers instead, and why. The one place they are listed.
EXCEPTIONS = {
    "sparql10-syntax-sparql3/syn-bad-26": Exception_(
        200,
        "engine bug: Oxigraph reads FILTER (?x<?a&&?b>?y) as two comparisons, where the "
        "grammar's longest-token rule makes <?a&&?b> an IRI reference and the query invalid "
        "(docs/engine-bugs.md); evaluated as Oxigraph reads it",
    ),
    f"{FEDERATED}/test_1": Exception_(400, SERVICE, NOT_ALLOWED),
    f"{FEDERATED}/test_2": Exception_(400, SERVICE, NOT_ALLOWED),
    f"{FEDERATED}/test_3": Exception_(400, SERVICE, NOT_ALLOWED),
}


@dataclass(frozen=True)
class SyntaxTest:
    name: str
    query: Path
    valid: bool


def read_suite(directory: Path) -> list[SyntaxTest]:
    """The syntax tests of one suite's manifest, in its order."""
    manifest = rdflib.Graph().parse(directory / "manifest.ttl")
    entries = next(manifest.objects(None, MF.entries))
    tests = []
    for entry in Collection(manifest, entries):
        kind = manifest.value(entry, rdflib.RDF.type)
        assert kind in POSITIVE | NEGATIVE, f"{entry}: {kind}"
        action = str(manifest.value(entry, MF.action))
        name = f"{directory.name}/{str(entry).rsplit('#', 1)[1]}"
        query = directory / action.rsplit("/", 1)[1]
        tests.append(SyntaxTest(name, query, kind in POSITIVE))
    return tests


def _names() -> list[str]:
    if not _W3C.is_dir():
        return ["suites-absent"]
    return [test.name for suite in SUITES for test in read_suite(_W3C / suite)]


@pytest.fixture(scope="module")
def syntax_tests(shared_dir: Path) -> dict[str, SyntaxTest]:
    return {t.name: t for suite in SUITES for t in read_suite(shared_dir / "w3c" / suite)}


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as client:
        yield client


@pytest.fixture(scope="module")
def federating_server() -> Iterator[tuple[LiveServer, CountingListener]]:
    """``serve`` with its base at a loopback listener's root and ``<g>`` there allowed."""
    listener = CountingListener(path="")
    server = LiveServer(
        "--data",
        str(DATA),
        "--allow-service",
        listener.url + "g",
        env={"PALMYRA_BASE_IRI": listener.url},
    )
    yield server, listener
    server.stop()
    listener.close()


def test_every_exception_is_a_test_of_the_suites(syntax_tests: dict[str, SyntaxTest]) -> None:
    assert set(EXCEPTIONS) <= set(syntax_tests)
    assert len(syntax_tests) == len(_names())


@pytest.mark.shared
@pytest.mark.live
@pytest.mark.parametrize("name", _names())
def test_w3c_query_syntax(
    name: str,
    syntax_tests: dict[str, SyntaxTest],
    fixture_server: LiveServer,
    session: requests.Session,
) -> None:
    test = syntax_tests[name]
    response = session.post(
        f"{fixture_server.url}/sparql",
        data=test.query.read_bytes(),
        headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
        timeout=30,
    )
    expected = EXCEPTIONS.get(name)
    status = expected.status if expected else (200 if test.valid else 400)
    assert response.status_code == status, f"{test.query.name}: {response.text}"
    if status == 200:
        _check_answer(response)
    elif expected is not None:
        assert expected.message in response.text


def _check_answer(response: requests.Response) -> None:
    """The answer parses as what the form gives: solutions, a boolean or a graph."""
    content_type = response.headers["Content-Type"]
    if media_type(content_type) == "text/turtle":
        graph(response.content, content_type)
    elif b'"boolean"' in response.content:
        boolean(response.content, content_type)
    else:
        rows(response.content, content_type)


@pytest.mark.shared
@pytest.mark.live
def test_w3c_federated_syntax_with_the_endpoint_allowed(
    syntax_tests: dict[str, SyntaxTest],
    federating_server: tuple[LiveServer, CountingListener],
    session: requests.Session,
) -> None:
    """The syntax-fed queries are evaluated, and call the endpoint, once it is allowed."""
    server, listener = federating_server
    federated = [t for name, t in syntax_tests.items() if name.startswith(FEDERATED + "/")]
    assert len(federated) == 3
    for test in federated:
        before = listener.hits
        response = session.post(
            f"{server.url}/sparql",
            data=test.query.read_bytes(),
            headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
            timeout=30,
        )
        assert response.status_code == 200, f"{test.query.name}: {response.text}"
        rows(response.content, response.headers["Content-Type"])
        assert listener.hits == before + 1, test.query.name
