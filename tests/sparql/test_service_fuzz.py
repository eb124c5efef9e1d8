"""Random texts made of the pieces SERVICE bypasses are made of: what passes the guard never
makes pyoxigraph connect, and the fast search for ``service`` words misses none the slow
replay would read as a clause."""

from __future__ import annotations

import contextlib
import re

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palmyra_graph.errors import PalmyraError
from palmyra_graph.query.grammar import Terminals
from palmyra_graph.query.guard import _endpoints, _service_words, check_query
from palmyra_graph.testing import CountingListener

FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PIECES = [
    "SERVICE",
    "service",
    "SeRvIcE",
    "SILENT",
    "silent",
    " ",
    "\n",
    "\t",
    "#",
    "# x\n",
    "<{url}>",
    "<{url}x>",
    "<x>",
    "<",
    ">",
    "e:x",
    ":x",
    "e:",
    "silent:x",
    "x",
    "e",
    ":",
    ".",
    "-",
    "\\-",
    "?e",
    "$e",
    "{",
    "}",
    "{ ?s ?p ?o }",
    "(",
    ")",
    "1",
    "true",
    "FILTER(1<2)",
    '"',
    "'",
    "'''",
    '"a"',
    "\\u0073",
    "é",
    "BASE <{url}>",
    "PREFIX e: <{url}>",
    "PREFIX : <{url}>",
    "PREFIX silent: <{url}>",
]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join)


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a/"), ox.NamedNode("http://b/"), ox.Literal(1)))
    store.add(ox.Quad(ox.NamedNode("http://a/"), ox.NamedNode("http://b/"), ox.Literal(True)))
    return store


@FUZZ
@given(prologue=texts, body=texts)
def test_a_query_that_passes_the_guard_never_connects(
    prologue: str, body: str, counter: CountingListener, store: ox.Store
) -> None:
    query = f"{prologue} SELECT * WHERE {{ ?a ?b 1 {body} }}".replace("{url}", counter.url)
    try:
        text = check_query(query).text
    except PalmyraError:
        return
    before = counter.connections
    with contextlib.suppress(SyntaxError, RuntimeError, OSError):  # most texts do not parse
        list(store.query(text))  # type: ignore[arg-type]
    assert counter.connections == before, text


@FUZZ
@given(text=texts)
def test_the_search_for_service_words_misses_no_clause(text: str) -> None:
    text = text.replace("{url}", "http://127.0.0.1:9/")
    terminals, found = Terminals(text), set(_service_words(text))
    for word in re.finditer("service", text, re.IGNORECASE | re.ASCII):
        if list(_endpoints(terminals, word.end())):
            assert word.start() in found, (text, word.start())
