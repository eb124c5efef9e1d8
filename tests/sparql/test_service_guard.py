"""The SERVICE guard: it sees every SERVICE clause Oxigraph would call, and nothing else.

Each case is checked twice: against ``check_query``, and against pyoxigraph itself with a
real HTTP listener on loopback as the endpoint, counting the requests the engine sends. So a
"refused" case is a query that really would reach out, and an "allowed" case (SERVICE in a
comment, a string, a variable name) is one that really would not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from rdflib.collection import Collection

from palmyra_graph.errors import QueryError, QueryRefused, SettingError
from palmyra_graph.graph.resources import QUERIES_DIR
from palmyra_graph.query.guard import check_query
from palmyra_graph.query.lexer import lex
from palmyra_graph.testing import CountingListener
from palmyra_graph.web import create_app

from .conftest import DATA
from .helpers import rows


@pytest.fixture(scope="module")
def listener() -> Iterator[CountingListener]:
    server = CountingListener()
    yield server
    server.close()


# Queries with an endpoint placeholder {url} (or its halves {base} and {local}).
CALLS = {
    "plain": "SELECT * WHERE { SERVICE <{url}> { ?x ?p ?o } }",
    "lower case": "select * where { service <{url}> { ?x ?p ?o } }",
    "SILENT": "SELECT * WHERE { SERVICE SILENT <{url}> { ?x ?p ?o } }",
    "prefixed": "PREFIX e: <{base}> SELECT * WHERE { SERVICE e:{local} { ?x ?p ?o } }",
    "BASE-relative": "BASE <{base}> SELECT * WHERE { SERVICE <{local}> { ?x ?p ?o } }",
    "no spaces": "SELECT*WHERE{SERVICE<{url}>{?x ?p ?o}}",
    "after a comment": "SELECT * WHERE { # a comment }\n SERVICE <{url}> { ?x ?p ?o } }",
    "after a string with quotes": (
        'SELECT * WHERE { BIND("a \\" } SERVICE" AS ?y) SERVICE <{url}> { ?x ?p ?o } }'
    ),
    "after a long string": (
        "SELECT * WHERE { BIND('''x ' '' y''' AS ?y) SERVICE <{url}> { ?x ?p ?o } }"
    ),
    "escaped IRI": "SELECT * WHERE { SERVICE <{escaped}> { ?x ?p ?o } }",
    "in OPTIONAL and a sub-select": (
        "SELECT * WHERE { OPTIONAL { SELECT ?x WHERE { SERVICE <{url}> { ?x ?p ?o } } } }"
    ),
}
NOT_CALLS = {
    "in a comment": "SELECT * WHERE { ?x ?p ?o # SERVICE <{url}> { }\n }",
    "in a string": 'SELECT * WHERE { BIND("SERVICE <{url}> {}" AS ?x) }',
    "in a long string": "SELECT * WHERE { BIND('''\nSERVICE <{url}> {}\n''' AS ?x) }",
    "as a variable": "SELECT ?service WHERE { BIND(<{url}> AS ?service) }",
    "as a prefixed name": "PREFIX service: <{base}> SELECT * WHERE { ?x service:p service:q }",
    "as a language tag": 'SELECT * WHERE { BIND("x"@service AS ?y) }',
}


def fill(template: str, url: str) -> str:
    base, local = url.rsplit("/", 1)
    escaped = url.replace("s", "\\u0073")
    return (
        template.replace("{url}", url)
        .replace("{base}", base + "/")
        .replace("{local}", local)
        .replace("{escaped}", escaped)
    )


def oxigraph_calls(query: str, listener: CountingListener) -> int:
    """How many HTTP requests pyoxigraph sends while evaluating ``query`` (no guard)."""
    before = listener.hits
    result = ox.Store().query(query)
    if isinstance(result, ox.QuerySolutions):
        list(result)
    return listener.hits - before


@pytest.mark.parametrize("case", list(CALLS))
def test_every_real_service_call_is_refused(case: str, listener: CountingListener) -> None:
    query = fill(CALLS[case], listener.url)
    assert oxigraph_calls(query, listener) > 0  # pyoxigraph really would call out
    with pytest.raises(QueryError) as refused:
        check_query(query)
    assert listener.url in str(refused.value)


@pytest.mark.parametrize("case", list(CALLS))
def test_an_allowed_endpoint_passes(case: str, listener: CountingListener) -> None:
    query = fill(CALLS[case], listener.url)
    assert check_query(query, allow=[listener.url]).services == [listener.url]


@pytest.mark.parametrize("case", list(NOT_CALLS))
def test_service_that_is_not_a_call_passes(case: str, listener: CountingListener) -> None:
    query = fill(NOT_CALLS[case], listener.url)
    assert oxigraph_calls(query, listener) == 0
    assert check_query(query).services == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { BIND(<http://127.0.0.1:9/> AS ?e) SERVICE ?e { ?x ?p ?o } }",
        "SELECT * WHERE { SERVICE undeclared:x { ?x ?p ?o } }",
    ],
)
def test_variable_or_unreadable_endpoints_are_refused(query: str) -> None:
    with pytest.raises(QueryError, match="variable or unreadable"):
        check_query(query, allow=["http://127.0.0.1:9/"])


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "PREFIX e: <http://e/> DELETE WHERE { ?s e:p ?o }",
        "# a comment\nLOAD <http://127.0.0.1:9/data.ttl>",
        "clear all",
        "DROP GRAPH <http://e/g>",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "BASE <http://e/> CREATE GRAPH <g>",
    ],
)
def test_updates_are_refused(update: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        check_query(update)


@pytest.fixture(scope="module")
def federated_app(listener: CountingListener) -> Flask:
    return create_app({"TESTING": True, "DATA_FILES": [str(DATA)], "ALLOW_SERVICE": [listener.url]})


def test_endpoint_runs_an_allowed_service_and_refuses_others(
    federated_app: Flask, listener: CountingListener
) -> None:
    client = federated_app.test_client()
    allowed = f"SELECT ?x WHERE {{ SERVICE <{listener.url}> {{ ?x ?p ?o }} }}"
    before = listener.hits
    response = client.get("/sparql", query_string={"query": allowed})
    assert response.status_code == 200
    assert rows(response.data, response.content_type) == [{"x": "remote"}]
    assert listener.hits == before + 1
    other = allowed.replace("/sparql", "/other")
    refused = client.get("/sparql", query_string={"query": other})
    assert refused.status_code == 400
    assert listener.hits == before + 1


def test_allow_service_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, listener: CountingListener
) -> None:
    monkeypatch.setenv("PALMYRA_ALLOW_SERVICE", f"{listener.url} http://127.0.0.1:9/x")
    app = create_app({"TESTING": True, "DATA_FILES": [str(DATA)]})
    assert app.config["ALLOW_SERVICE"] == [listener.url, "http://127.0.0.1:9/x"]


def test_prefixed_endpoint_needs_one_declaration() -> None:
    twice = (
        "PREFIX e: <http://127.0.0.1:9/> PREFIX e: <http://127.0.0.1:8/> "
        "SELECT * WHERE { SERVICE e:x { ?x ?p ?o } }"
    )
    with pytest.raises(QueryError, match="e: is declared with several IRIs"):
        check_query(twice, allow=["http://127.0.0.1:9/x", "http://127.0.0.1:8/x"])
    with pytest.raises(QueryError, match="e: is not declared"):
        check_query("SELECT * WHERE { SERVICE e:x { ?x ?p ?o } }", allow=["http://127.0.0.1:9/x"])


@pytest.mark.parametrize(
    ("query", "base", "endpoint"),
    [
        (
            "BASE <http://127.0.0.1:9/a/> SELECT * { SERVICE <../x> {} }",
            None,
            "http://127.0.0.1:9/x",
        ),
        ("SELECT * { SERVICE <x> {} }", "http://127.0.0.1:9/", "http://127.0.0.1:9/x"),
        (
            "BASE <http://127.0.0.1:9/> PREFIX e: <a/> SELECT * { SERVICE e:x {} }",
            None,
            "http://127.0.0.1:9/a/x",
        ),
    ],
)
def test_relative_endpoints_resolve_against_the_one_base(
    query: str, base: str | None, endpoint: str
) -> None:
    assert check_query(query, allow=[endpoint], base=base).services == [endpoint]


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("SELECT * { SERVICE <x> {} }", "no BASE applies"),
        ("BASE <http://a/> BASE <http://b/> SELECT * { SERVICE <x> {} }", "several BASE"),
        ("BASE <rel/> SELECT * { SERVICE <x> {} }", "cannot be read"),
        ("BASE <urn:a:b> SELECT * { SERVICE <x> {} }", "may resolve otherwise"),
    ],
)
def test_relative_endpoints_without_one_base_are_refused(query: str, why: str) -> None:
    with pytest.raises(QueryError, match=why):
        check_query(query, allow=["http://a/x", "http://b/x"])


def test_a_commented_out_service_is_refused_with_its_line_and_column() -> None:
    """A less-than read as an IRI hides a comment: the clause is refused where it is."""
    query = "SELECT * WHERE {\n  FILTER(1<2)SERVICE <http://127.0.0.1:9/>#>\n{ ?x ?p ?o } }"
    with pytest.raises(QueryError, match="at line 2, column 14"):
        check_query(query)


@pytest.mark.parametrize("entry", ["ftp://x/", "relative/x", "http:x", "urn:x"])
def test_allow_list_entries_must_be_absolute_http_iris(entry: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        check_query("SELECT * {}", allow=[entry])


def test_rewritten_strings_and_comments_give_the_same_answers() -> None:
    query = (
        "PREFIX e: <http://e/> # the SERVICE <http://127.0.0.1:9/> { } we do not call\n"
        'SELECT * WHERE { BIND("a service, a prefix, a BaSe" AS ?a)\n'
        "  BIND('''Service\nPREFIX e: <x>''' AS ?b) BIND(\"\\base \\\\base\" AS ?c)\n"
        '  BIND(STRLEN("serviceSERVICE") AS ?n) BIND(e:base AS ?d)\n'
        "  VALUES (?x ?y) { (<http://x/#a> <http://x/#b'c>) } }"
    )
    info = check_query(query)
    assert info.text != query and "SERVICE" not in info.text.split("\n")[0]
    original, rewritten = ox.Store().query(query), ox.Store().query(info.text)
    assert isinstance(original, ox.QuerySolutions) and isinstance(rewritten, ox.QuerySolutions)
    assert [list(s) for s in original] == [list(s) for s in rewritten]


def test_an_engine_that_unescapes_the_whole_text_is_guarded_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Oxigraph built with ``standard-unicode-escaping`` reads \\u0053ERVICE as SERVICE."""
    from palmyra_graph.query import guard as service_guard

    monkeypatch.setattr(service_guard, "_engine_unescapes_codepoints", lambda: True)
    with pytest.raises(QueryError, match=r"http://127\.0\.0\.1:9/"):
        check_query("SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?x ?p ?o } }")
    query = 'SELECT * WHERE { BIND("\\u0073ervice <\\\\u0041>" AS ?x) } # \\u0070refix'
    read = lex(service_guard._unescaped_as_engine_does(query)).text  # what the guard checked
    assert "service" not in read and "prefix" not in read
    handed = check_query(query).text
    assert service_guard._unescaped_as_engine_does(handed) == read  # what the engine reads


def test_the_bundled_questions_pass_the_guard() -> None:
    for path in sorted(QUERIES_DIR.glob("*.rq")):
        assert check_query(path.read_text(encoding="utf-8")).services == [], path.name
    wikidata = "https://query.wikidata.org/sparql"
    for path in sorted((QUERIES_DIR / "federated").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        with pytest.raises(QueryError, match=wikidata):
            check_query(text)
        info = check_query(text, allow=[wikidata])
        assert info.services == [wikidata] and info.federated


MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")


@pytest.mark.shared
def test_the_w3c_syntax_queries_pass_the_guard(shared_dir: Path) -> None:
    """Every positive syntax test of SPARQL 1.0 and 1.1 passes, but those calling SERVICE."""
    refused, checked = [], 0
    for manifest_path in sorted((shared_dir / "w3c").glob("sparql1*-syntax-*/manifest.ttl")):
        manifest = rdflib.Graph().parse(manifest_path)
        for entry in Collection(manifest, next(manifest.objects(None, MF.entries))):
            kinds = set(manifest.objects(entry, rdflib.RDF.type))
            if not kinds & {MF.PositiveSyntaxTest, MF.PositiveSyntaxTest11}:
                continue
            path = (
                manifest_path.parent
                / str(next(manifest.objects(entry, MF.action))).rsplit("/", 1)[1]
            )
            text, checked = path.read_text(encoding="utf-8"), checked + 1
            try:
                check_query(text, base=path.as_uri())
            except QueryError as error:
                if "syntax-fed" not in str(path) or "SERVICE" not in error.message:
                    refused.append(f"{path.name}: {error}")
    assert checked > 200
    assert refused == []


@pytest.mark.parametrize("entry", ["ftp://127.0.0.1/sparql", "sparql", "http:relative"])
def test_an_allow_list_entry_that_is_not_an_http_iri_stops_the_app_at_start(entry: str) -> None:
    # Regression: it was accepted, then every request answered 500 (ValueError in the guard).
    with pytest.raises(SettingError, match="ALLOW_SERVICE") as refused:
        create_app({"TESTING": True, "ALLOW_SERVICE": [entry]})
    assert entry in str(refused.value) and refused.value.exit_code == 2
