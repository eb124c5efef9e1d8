"""Every question in ``queries/*.rq`` gives the answer written beside it by hand.

The expected answer is ``NAME.srj`` (SPARQL 1.1 Query Results JSON,
https://www.w3.org/TR/sparql11-results-json/) or ``NAME.csv`` (SPARQL 1.1 Query Results CSV,
https://www.w3.org/TR/sparql11-results-csv-tsv/). Solutions are compared as a multiset, or
as a sequence when the query has ORDER BY. Only the top-level folder is read: federated
examples in ``queries/federated/`` need a remote service and have their own tests.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest

from palmyra_graph.graph.resources import QUERIES_DIR
from palmyra_graph.query.engine import OxigraphEngine

XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {
    XSD + name
    for name in [
        "integer",
        "decimal",
        "double",
        "float",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedLong",
        "unsignedInt",
    ]
}
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)

QUERY_FILES = sorted(QUERIES_DIR.glob("*.rq"))

Key = tuple[object, ...]
Row = tuple[tuple[str, object], ...]


def literal_key(lexical: str, datatype: str | None, language: str | None) -> Key:
    """A literal compared by value where its datatype has one (numbers, booleans)."""
    if language:
        return ("lang", lexical, language.lower())
    if datatype in (None, XSD + "string"):
        return ("string", lexical)
    if datatype in _NUMERIC:
        try:
            return ("number", Decimal(lexical))
        except InvalidOperation:
            return ("typed", datatype, lexical)
    if datatype == XSD + "boolean":
        return ("boolean", lexical.strip() in ("true", "1"))
    return ("typed", datatype, lexical)


def srj_key(term: dict[str, str]) -> Key:
    """The comparison key of one SPARQL JSON result term."""
    if term["type"] == "uri":
        return ("iri", term["value"])
    if term["type"] == "bnode":
        return ("bnode",)
    return literal_key(term["value"], term.get("datatype"), term.get("xml:lang"))


def ox_key(term: object) -> Key:
    """The comparison key of a pyoxigraph term, matching :func:`srj_key`."""
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.Literal):
        return literal_key(term.value, term.datatype.value, term.language)
    return ("bnode",)


def ox_csv(term: object) -> str:
    """A pyoxigraph term as SPARQL CSV writes it: IRI or lexical form, "" when unbound."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return "_:b"


def expected_file(query: Path) -> Path:
    """The one expected-answer file beside ``query``."""
    found = [p for p in (query.with_suffix(".srj"), query.with_suffix(".csv")) if p.exists()]
    assert len(found) == 1, f"{query.name}: expected exactly one of .srj/.csv, found {found}"
    return found[0]


def read_expected(path: Path) -> tuple[list[str], list[Row]]:
    """Variables and rows of a hand-written answer; an unbound variable is absent (srj) or ""."""
    if path.suffix == ".srj":
        doc = json.loads(path.read_text(encoding="utf-8"))
        names = doc["head"]["vars"]
        rows: list[Row] = [
            tuple((v, srj_key(b[v])) for v in names if v in b) for b in doc["results"]["bindings"]
        ]
        return names, rows
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        names = next(reader)
        return names, [tuple((v, cell) for v, cell in zip(names, r, strict=True)) for r in reader]


def run(engine: OxigraphEngine, query: Path, *, as_csv: bool) -> tuple[list[str], list[Row]]:
    """Variables and rows of the engine's answer, in the form of the expected file."""
    result = engine.query(query.read_text(encoding="utf-8"))
    assert result.kind == "solutions", f"{query.name} is not a SELECT query"
    assert isinstance(result.raw, ox.QuerySolutions)
    names = [v.value for v in result.raw.variables]
    rows: list[Row] = []
    for solution in result.raw:
        if as_csv:
            rows.append(tuple((v, ox_csv(solution[v])) for v in names))
        else:
            rows.append(tuple((v, ox_key(solution[v])) for v in names if solution[v] is not None))
    return names, rows


def has_order_by(query: Path) -> bool:
    """Whether the query (comments stripped) sorts its solutions."""
    text = "\n".join(line.split("#", 1)[0] for line in query.read_text().splitlines())
    return bool(_ORDER_BY.search(text))


def same_answer(actual: list[Row], expected: list[Row], *, ordered: bool) -> bool:
    """Equal as sequences when ordered, else as multisets (duplicates count)."""
    if ordered:
        return actual == expected
    return Counter(actual) == Counter(expected)


@pytest.fixture(scope="module")
def engine() -> OxigraphEngine:
    return OxigraphEngine.from_files()


def test_there_are_at_least_eight_questions_each_stated() -> None:
    assert len(QUERY_FILES) >= 8
    for query in QUERY_FILES:
        first = query.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# Question: "), f"{query.name} must start with '# Question: …'"


def test_federated_examples_are_not_collected() -> None:
    assert all(query.parent == QUERIES_DIR for query in QUERY_FILES)


@pytest.mark.parametrize("query", QUERY_FILES, ids=[q.stem for q in QUERY_FILES])
def test_question_gives_the_expected_answer(engine: OxigraphEngine, query: Path) -> None:
    expected_path = expected_file(query)
    expected_vars, expected = read_expected(expected_path)
    actual_vars, actual = run(engine, query, as_csv=expected_path.suffix == ".csv")
    assert actual_vars == expected_vars
    ordered = has_order_by(query)
    if not same_answer(actual, expected, ordered=ordered):
        missing = Counter(expected) - Counter(actual)
        extra = Counter(actual) - Counter(expected)
        pytest.fail(f"{query.name}: missing {list(missing)}; unexpected {list(extra)}")


def test_comparison_sees_a_changed_value_order_and_duplicate() -> None:
    a: Row = (("n", ("number", Decimal(1))),)
    b: Row = (("n", ("number", Decimal(2))),)
    assert same_answer([a, b], [b, a], ordered=False)
    assert not same_answer([a, b], [b, a], ordered=True)
    assert not same_answer([a, a], [a], ordered=False)
    assert not same_answer([a], [b], ordered=False)


def test_literals_compare_by_value_and_keep_language_and_datatype() -> None:
    assert literal_key("018", XSD + "nonNegativeInteger", None) == literal_key(
        "18", XSD + "integer", None
    )
    assert literal_key("x", None, None) == literal_key("x", XSD + "string", None)
    assert literal_key("x", None, "en") != literal_key("x", None, None)
    assert literal_key("2017-01-13", XSD + "date", None) != literal_key("2017-01-13", None, None)
