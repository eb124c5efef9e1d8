"""Every way of writing SERVICE that pyoxigraph calls is refused, through the endpoint.

Each case is first run on pyoxigraph without the guard, on a store whose joins are not
empty, with a loopback listener as the endpoint that counts connections: the case must
connect (a generated case that does not parse in the engine is skipped). Then the same
query goes through ``/sparql`` (evaluated in the request thread, so an unguarded call
would reach the listener): it must be answered 400 and the listener must see no
connection. Oxigraph 0.5 does not call a variable endpoint (``SERVICE ?e``: "the variable
encoding the service name is unbound"), so variables are only checked to be refused.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from palmyra_graph.errors import QueryError
from palmyra_graph.query.guard import check_query
from palmyra_graph.testing import CountingListener
from palmyra_graph.web import create_app

#: ``?a ?b 1`` and ``?a ?b true`` match, so ``1SERVICE…`` and ``trueSERVICE…`` join with
#: something; the named graph gives ``GRAPH ?g`` one graph to evaluate its pattern in.
JOIN_DATA = """\
<http://a/> <http://b/> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://a/> <http://b/> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .
<http://a/> <http://b/> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <http://g/> .
"""


@pytest.fixture(scope="module")
def join_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("join") / "join.nq"
    path.write_text(JOIN_DATA, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(join_data: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(join_data), format=ox.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module")
def guarded(join_data: Path) -> FlaskClient:
    app = create_app({"TESTING": True, "DATA_FILES": [str(join_data)], "QUERY_WORKERS": 0})
    return app.test_client()


def engine_connections(query: str, store: ox.Store, counter: CountingListener) -> int:
    """Connections pyoxigraph makes evaluating ``query`` unguarded (SyntaxError if it cannot
    parse it)."""
    before = counter.connections
    result = store.query(query, use_default_graph_as_union=True)
    if not isinstance(result, ox.QueryBoolean):
        list(result)
    return counter.connections - before


def assert_refused_without_connecting(
    query: str, guarded: FlaskClient, counter: CountingListener
) -> None:
    with pytest.raises(QueryError) as refused:
        check_query(query)
    assert refused.value.http_status == 400
    assert "SERVICE" in refused.value.message and "line " in refused.value.message
    before = counter.connections
    response = guarded.post("/sparql", data=query, content_type="application/sparql-query")
    assert response.status_code == 400, response.text
    assert "SERVICE" in response.text
    assert counter.connections == before


# The spellings that got past the guard before issue 17 ({url} is the listener).
BYPASSES = {
    "SERVICE glued to an empty-prefix name": (
        "PREFIX : <{url}> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }"
    ),
    "SERVICE glued to a prefixed name": (
        "PREFIX e: <{url}> SELECT * WHERE { SERVICEe:x { ?s ?p ?o } }"
    ),
    "SERVICE glued to a number": (
        "PREFIX : <{url}> SELECT * WHERE { ?a ?b 1SERVICE:x { ?s ?p ?o } }"
    ),
    "SERVICE glued to true": (
        "PREFIX : <{url}> SELECT * WHERE { ?a ?b trueSERVICE:x { ?s ?p ?o } }"
    ),
    "SERVICE after a less-than read as an IRI": (
        "PREFIX : <{url}> SELECT * WHERE { BIND(1 AS ?q) FILTER(1<2)SERVICE:x#>\n{ ?s ?p ?o } }"
    ),
    "SERVICE silent:x calling :x": (
        "PREFIX silent: <http://127.0.0.1:9/> PREFIX : <{url}> "
        "SELECT * WHERE { SERVICE silent:x { ?s ?p ?o } }"
    ),
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_service_spelling_that_bypassed_the_guard_is_refused(
    name: str, store: ox.Store, guarded: FlaskClient, counter: CountingListener
) -> None:
    query = BYPASSES[name].replace("{url}", counter.url)
    assert engine_connections(query, store, counter) > 0
    assert_refused_without_connecting(query, guarded, counter)


def test_an_allowed_service_still_connects_through_the_endpoint(
    join_data: Path, counter: CountingListener
) -> None:
    """The control: the endpoint used above does reach the listener when it may."""
    config = {"TESTING": True, "DATA_FILES": [str(join_data)], "QUERY_WORKERS": 0}
    client = create_app({**config, "ALLOW_SERVICE": [counter.url + "x"]}).test_client()
    query = f"PREFIX : <{counter.url}> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}"
    before = counter.connections
    assert client.get("/sparql", query_string={"query": query}).status_code == 200
    assert counter.connections == before + 1


def test_variable_endpoints_are_refused(guarded: FlaskClient, counter: CountingListener) -> None:
    for query in (
        f"SELECT * WHERE {{ BIND(<{counter.url}x> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES $e {{ <{counter.url}x> }} SERVICE SILENT$e{{ ?s ?p ?o }} }}",
    ):
        assert_refused_without_connecting(query, guarded, counter)


# A generated family: (prologue, endpoint) spellings, keywords, separators, contexts, forms.
ENDPOINTS = {
    "IRI": ("", "<{url}x>"),
    "escaped IRI": ("", "<\\u0068ttp://127.0.0.\\U00000031:{port}/x>"),
    "prefixed name": ("PREFIX e: <{url}> ", "e:x"),
    "empty prefix": ("PREFIX : <{url}> ", ":x"),
    "silent: prefix": ("PREFIX silent: <{url}> ", "silent:x"),
    "namespace alone": ("PREFIX e: <{url}x> ", "e:"),
    "escaped local name": ("PREFIX e: <{url}> ", "e:x\\-y"),
    "BASE-relative": ("BASE <{url}> ", "<x>"),
    "BASE-relative with dots": ("BASE <{url}a/b/> ", "<../../x>"),
    "relative prefix": ("BASE <{url}> PREFIX e: <a/> ", "e:x"),
}
KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service silent", "Service\tSilent"]
SEPARATORS = {
    "space": " ",
    "nothing": "",
    "newline": "\n",
    "tab": "\t",
    "comment": " # a comment\n",
    "comment with a decoy": "#SERVICE <http://127.0.0.1:9/> {\n",
}
CONTEXTS = {
    "group": "{clause}",
    "sub-select": "{ SELECT * WHERE { {clause} } }",
    "EXISTS": "FILTER EXISTS { {clause} }",
    "NOT EXISTS": "?a ?b ?c FILTER NOT EXISTS { {clause} }",
    "OPTIONAL": "OPTIONAL { {clause} }",
    "MINUS": "?a ?b ?c MINUS { {clause} }",
    "UNION": '{ ?s ?p "none" } UNION { {clause} }',
    "GRAPH": "GRAPH ?g { {clause} }",
    "after a number": "?a ?b 1{clause}",
}
FORMS = {
    "SELECT": "SELECT * WHERE { {body} }",
    "ASK": "ASK { {body} }",
    "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { {body} }",
    "DESCRIBE": "DESCRIBE ?s WHERE { {body} }",
    "aggregate": "SELECT (COUNT(*) AS ?n) { {body} }",
}


def _spelling(endpoint: str, keyword: str, separator: str, context: str, form: str) -> str:
    prologue, name = ENDPOINTS[endpoint]
    clause = f"{keyword}{SEPARATORS[separator]}{name}{SEPARATORS[separator]}{{ ?s ?p ?o }}"
    body = CONTEXTS[context].replace("{clause}", clause)
    return prologue + FORMS[form].replace("{body}", body)


def _pick(values: dict[str, str] | list[str], index: int) -> str:
    names = list(values)
    return names[index % len(names)]


def generated() -> list[tuple[str, str]]:
    """Each endpoint with each keyword, each separator with each endpoint, each context with
    each form; the other parts of each case taken in turn."""
    cases = []
    for i, (endpoint, keyword) in enumerate(product(ENDPOINTS, KEYWORDS)):
        cases.append((endpoint, keyword, _pick(SEPARATORS, i), _pick(CONTEXTS, i), _pick(FORMS, i)))
    for i, (separator, endpoint) in enumerate(product(SEPARATORS, ENDPOINTS)):
        cases.append((endpoint, _pick(KEYWORDS, i), separator, _pick(CONTEXTS, i), _pick(FORMS, i)))
    for i, (context, form) in enumerate(product(CONTEXTS, FORMS)):
        cases.append((_pick(ENDPOINTS, i), _pick(KEYWORDS, i), _pick(SEPARATORS, i), context, form))
    return [(" / ".join(case), _spelling(*case)) for case in dict.fromkeys(cases)]


@pytest.mark.parametrize(("case", "template"), generated(), ids=[name for name, _ in generated()])
def test_every_generated_spelling_that_calls_out_is_refused(
    case: str,
    template: str,
    store: ox.Store,
    guarded: FlaskClient,
    counter: CountingListener,
) -> None:
    query = template.replace("{url}", counter.url).replace("{port}", str(counter.port))
    try:
        connections = engine_connections(query, store, counter)
    except SyntaxError as error:
        pytest.skip(f"pyoxigraph does not parse this spelling: {error}")
    assert connections > 0, "pyoxigraph should call the endpoint"
    assert_refused_without_connecting(query, guarded, counter)
