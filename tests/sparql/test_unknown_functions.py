"""A call to a function the endpoint does not know is an expression error (SPARQL 1.1 §17.3,
§17.6), not a failed query: a FILTER drops the row, a BIND leaves its variable unbound.

Regression: ``<http://example.org/ns#f>(?x)`` failed the whole query with 400 "The custom
function … is not supported".
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from palmyra_graph.query.functions import MAX_UNKNOWN_FUNCTIONS

from .helpers import boolean, rows

F = "<http://example.org/ns#f>"
XSD = "http://www.w3.org/2001/XMLSchema#"
ROWS = "VALUES ?x { 1 2 }"


def answer(client: FlaskClient, query: str) -> tuple[int, str, list[dict[str, str]]]:
    response = client.post(
        "/sparql",
        data=query,
        headers={
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/sparql-query",
        },
    )
    body = response.get_data(as_text=True)
    found = rows(response.data, response.content_type) if response.status_code == 200 else []
    return response.status_code, body, found


#: query -> the rows it must give, as an unknown function is an error where it is called
CASES = {
    f"SELECT ?x WHERE {{ {ROWS} FILTER({F}(?x)) }}": [],
    f"SELECT ?x WHERE {{ {ROWS} FILTER(!{F}(?x)) }}": [],
    f"SELECT ?x WHERE {{ {ROWS} FILTER({F}(?x) || ?x = 2) }}": [{"x": "2"}],
    f"SELECT ?x ?y WHERE {{ {ROWS} BIND({F}(?x) AS ?y) }}": [{"x": "1"}, {"x": "2"}],
    f"SELECT ?x ({F}(?x) AS ?y) WHERE {{ {ROWS} }}": [{"x": "1"}, {"x": "2"}],
    f'SELECT ?x (COALESCE({F}(?x), "none") AS ?y) WHERE {{ {ROWS} }}': [
        {"x": "1", "y": "none"},
        {"x": "2", "y": "none"},
    ],
    f"SELECT ?x WHERE {{ {ROWS} }} ORDER BY {F}(?x) ?x": [{"x": "1"}, {"x": "2"}],
    "SELECT ?x WHERE { VALUES ?x { 1 } FILTER(<f>(?x) || <g>(?x) || <h>(?x)) }": [],
}


@pytest.mark.parametrize("query", list(CASES))
def test_an_unknown_function_is_an_expression_error(query: str, sparql_client: FlaskClient) -> None:
    status, body, found = answer(sparql_client, query)
    assert status == 200, body
    assert found == CASES[query]


def test_an_unknown_function_in_exists_is_an_error_there(sparql_client: FlaskClient) -> None:
    query = f"ASK {{ FILTER(EXISTS {{ {ROWS} FILTER({F}(?x)) }}) }}"
    response = sparql_client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert boolean(response.data, response.content_type) is False


def test_a_built_in_function_named_by_iri_still_works(sparql_client: FlaskClient) -> None:
    """Only what the engine says it lacks is registered: a custom function of the same IRI
    would take the place of the xsd:integer cast."""
    query = f'SELECT ({F}(1) AS ?u) (<{XSD}integer>("3") AS ?n) (STRLEN("ab") AS ?l) {{}}'
    status, body, found = answer(sparql_client, query)
    assert status == 200, body
    assert found == [{"n": "3", "l": "2"}]


def test_a_wrong_number_of_arguments_to_a_built_in_is_still_a_400(
    sparql_client: FlaskClient,
) -> None:
    status, body, _ = answer(sparql_client, f'SELECT (<{XSD}integer>("3", 4) AS ?n) {{}}')
    assert status == 400
    assert "argument" in body


def test_too_many_unknown_functions_is_a_clear_400(sparql_client: FlaskClient) -> None:
    calls = " || ".join(f"<http://example.org/f{i}>(?x)" for i in range(MAX_UNKNOWN_FUNCTIONS + 1))
    status, body, _ = answer(sparql_client, f"SELECT ?x WHERE {{ {ROWS} FILTER({calls}) }}")
    assert status == 400
    assert f"more than {MAX_UNKNOWN_FUNCTIONS} functions" in body


def test_pyoxigraph_alone_still_refuses_the_whole_query() -> None:
    """Why palmyra_graph.query.functions exists; when this fails, pyoxigraph has changed."""
    with pytest.raises(RuntimeError, match="is not supported"):
        ox.Store().query(f"SELECT ?x WHERE {{ {ROWS} FILTER({F}(?x)) }}")
