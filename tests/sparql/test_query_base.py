"""Relative IRIs in a query resolve against the data's base IRI (``BASE_IRI``), as other
endpoints resolve them against a base of their own, and the service description says so.

Regression: ``SELECT * WHERE { <a> <b> <c> }`` was a 400 ("IRI parsing failed"), the query
being parsed with no base IRI at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rdflib
from click.testing import CliRunner
from flask.testing import FlaskClient

from palmyra_graph.cli import main
from palmyra_graph.errors import SettingError
from palmyra_graph.testing import CountingListener
from palmyra_graph.web import create_app

from .conftest import DATA, VOCABULARY
from .helpers import graph, rows

BASE = "https://w3id.org/palmyra/"
JSON = {"Accept": "application/sparql-results+json"}
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"


def select(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.post(
        "/sparql", data=query, headers={**JSON, "Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return rows(response.data, response.content_type)


#: query -> the value of ?x it must give
RESOLVED = {
    "SELECT (<a> AS ?x) {}": BASE + "a",
    "SELECT (<id/x#y> AS ?x) {}": BASE + "id/x#y",
    "SELECT (<../up> AS ?x) {}": "https://w3id.org/up",
    "SELECT (<//example.org/a> AS ?x) {}": "https://example.org/a",
    "BASE <http://example.org/b/> SELECT (<a> AS ?x) {}": "http://example.org/b/a",
    "BASE <sub/> SELECT (<a> AS ?x) {}": BASE + "sub/a",
    "PREFIX e: <e/> SELECT (e:a AS ?x) {}": BASE + "e/a",
    "SELECT (<http://example.org/abs> AS ?x) {}": "http://example.org/abs",
}


@pytest.mark.parametrize("query", list(RESOLVED))
def test_relative_iris_resolve_against_the_data_base(
    query: str, sparql_client: FlaskClient
) -> None:
    assert select(sparql_client, query) == [{"x": RESOLVED[query]}]


def test_the_issue_query_is_answered_not_refused(sparql_client: FlaskClient) -> None:
    assert select(sparql_client, "SELECT * WHERE { <a> <b> <c> }") == []


def test_an_entity_is_found_by_its_relative_iri(sparql_client: FlaskClient) -> None:
    query = f"SELECT ?l WHERE {{ <id/palmyra-offensive-2017> {LABEL} ?l }}"
    assert select(sparql_client, query) == [{"l": "Palmyra offensive (2017)"}]


def test_a_relative_from_is_the_dataset_it_names() -> None:
    """The bundled data's graph is ``{BASE_IRI}graph/data``: ``FROM <graph/data>`` is it."""
    app = create_app({"TESTING": True, "QUERY_WORKERS": 0})
    assert BASE + "graph/data" in app.extensions["palmyra.engine"].graph_names()
    count = "SELECT (COUNT(*) AS ?n) FROM <{}> WHERE {{ ?s ?p ?o }}"
    relative = select(app.test_client(), count.format("graph/data"))
    assert relative == select(app.test_client(), count.format(BASE + "graph/data"))
    assert relative != [{"n": "0"}]


def test_a_relative_describe_is_the_absolute_one(sparql_client: FlaskClient) -> None:
    def described(iri: str) -> rdflib.Graph:
        query = {"query": f"DESCRIBE <{iri}>"}
        response = sparql_client.get(
            "/sparql", query_string=query, headers={"Accept": "text/turtle"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return graph(response.data, response.content_type)

    relative = described("id/palmyra-offensive-2017")
    assert len(relative) > 0
    assert rdflib.compare.isomorphic(relative, described(BASE + "id/palmyra-offensive-2017"))


def test_another_base_iri_setting_is_the_base() -> None:
    app = create_app(
        {"TESTING": True, "DATA_FILES": [str(DATA)], "BASE_IRI": "https://example.org/kg/"}
    )
    assert select(app.test_client(), "SELECT (<a> AS ?x) {}") == [{"x": "https://example.org/kg/a"}]


def test_a_relative_base_iri_setting_is_refused_at_start() -> None:
    with pytest.raises(SettingError, match="BASE_IRI"):
        create_app({"TESTING": True, "DATA_FILES": [str(DATA)], "BASE_IRI": "kg/"})


def test_the_service_description_names_the_base(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", headers={"Accept": "text/turtle"})
    described = graph(response.data, response.content_type)
    comments = [str(c) for c in described.objects(None, rdflib.RDFS.comment)]
    assert any(f"<{BASE}>" in c and "Relative IRIs" in c for c in comments), comments


def test_the_command_line_resolves_against_the_same_base() -> None:
    query = f"SELECT ?l WHERE {{ <id/palmyra-offensive-2017> {LABEL} ?l }}"
    args = ["query", "--data", str(DATA), "--data", str(VOCABULARY), "--format", "csv", query]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["l", "Palmyra offensive (2017)"]


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    server = CountingListener()
    yield server
    server.close()


def test_the_guard_resolves_a_relative_service_as_the_engine(listener: CountingListener) -> None:
    """The allow-list is checked against the endpoint the engine would call: the relative
    ``<sparql>`` is the listener's only when the base is the listener's root."""
    query = "SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }"
    root = listener.url.removesuffix("sparql")
    settings = {"TESTING": True, "DATA_FILES": [str(DATA)], "QUERY_WORKERS": 0}
    settings["ALLOW_SERVICE"] = [listener.url]
    elsewhere = create_app(settings).test_client()
    refused = elsewhere.get("/sparql", query_string={"query": query}, headers=JSON)
    assert refused.status_code == 400
    assert f"<{BASE}sparql>" in refused.get_data(as_text=True)
    assert listener.connections == 0
    here = create_app({**settings, "BASE_IRI": root}).test_client()
    answered = here.get("/sparql", query_string={"query": query}, headers=JSON)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert listener.hits == 1
