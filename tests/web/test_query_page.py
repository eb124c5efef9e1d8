"""The query page as served: the picker from ``queries/``, the editor filled from the URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from palmyra_graph.graph.namespaces import BASE, PREFIXES
from palmyra_graph.web.examples import load_examples, question_of

from .conftest import FIXTURES, Element

Parse = Callable[[bytes | str], Element]


def test_picker_lists_every_example_with_its_question(
    fixture_client: FlaskClient, parse: Parse
) -> None:
    page = parse(fixture_client.get("/query").data)
    options = page.by_id("example").find_all("option")[1:]
    files = sorted((FIXTURES / "queries").glob("*.rq"))
    assert [o.attrs["value"] for o in options] == [f.stem for f in files]
    assert [o.attrs["data-query"] for o in options] == [f.read_text("utf-8") for f in files]
    labels = {o.attrs["value"]: o.text for o in options}
    assert labels["commanders"] == "Who commanded, in what role?"
    assert labels["dates"] == "When did the offensive start and end?"
    assert labels["no-question"] == "no-question"  # no "# Question:" line: the file name


def test_example_parameter_fills_the_editor(fixture_client: FlaskClient, parse: Parse) -> None:
    page = parse(fixture_client.get("/query?example=dates").data)
    assert page.by_id("query").content == [(FIXTURES / "queries" / "dates.rq").read_text("utf-8")]
    assert page.find("option", value="dates").attrs.get("selected") is not None
    assert page.by_id("query-form").attrs["data-run-on-load"] == "false"


def test_shared_query_is_kept_and_run_on_load(fixture_client: FlaskClient, parse: Parse) -> None:
    sparql = 'ASK { ?s ?p "a < b & c" }'
    page = parse(fixture_client.get("/query", query_string={"query": sparql}).data)
    assert page.by_id("query").content == [sparql]
    assert page.by_id("query-form").attrs["data-run-on-load"] == "true"


def test_unknown_example_falls_back_to_the_default(
    fixture_client: FlaskClient, parse: Parse
) -> None:
    page = parse(fixture_client.get("/query?example=../../etc/passwd").data)
    assert "SELECT" in page.by_id("query").text
    assert not page.find_all("option", selected="")


def test_script_gets_the_base_and_prefixes(fixture_client: FlaskClient, parse: Parse) -> None:
    form = parse(fixture_client.get("/query").data).by_id("query-form")
    assert form.attrs["data-base-iri"] == BASE
    assert json.loads(form.attrs["data-prefixes"]) == PREFIXES
    assert form.attrs["data-endpoint"] == "/sparql"


def test_editor_is_labelled_and_monospaced_by_css(
    fixture_client: FlaskClient, parse: Parse
) -> None:
    page = parse(fixture_client.get("/query").data)
    labels = {label.attrs["for"] for label in page.iter("label")}
    assert {"query", "example"} <= labels
    assert page.find("button", id="run").attrs["type"] == "submit"


def test_question_is_the_first_question_comment() -> None:
    assert question_of("# Question: Who?\n# Question: Not this\nASK {}") == "Who?"
    assert question_of("#question:   lower case  \nASK {}") == "lower case"
    assert question_of("# Just a comment\nASK {}") is None


def test_examples_missing_directory_is_empty(tmp_path: Path) -> None:
    assert load_examples(tmp_path / "absent") == []


def test_unreadable_example_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.rq").write_bytes(b"\xff\xfe# Question: x")
    (tmp_path / "good.rq").write_text("# Question: Good?\nASK {}", encoding="utf-8")
    assert [e.name for e in load_examples(tmp_path)] == ["good"]
