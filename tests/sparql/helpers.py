"""Parse protocol responses back into bindings, booleans and graphs, so tests compare meaning."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

#: rdflib parser names per RDF media type.
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip()


def rows(body: bytes, content_type: str) -> list[dict[str, str]]:
    """SELECT results in any of the four formats as rows of variable -> value (lexical form)."""
    media = media_type(content_type)
    if media == "text/csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(body.decode("utf-8")))]
    fmt = ox.QueryResultsFormat.from_media_type(media)
    assert fmt is not None, f"not a results format: {media}"
    solutions = ox.parse_query_results(body, format=fmt)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [
        {name: term.value for name, term in zip(names, solution, strict=True) if term is not None}
        for solution in solutions
    ]


def boolean(body: bytes, content_type: str) -> bool:
    """An ASK answer in SPARQL JSON or XML."""
    fmt = ox.QueryResultsFormat.from_media_type(media_type(content_type))
    assert fmt is not None
    answer = ox.parse_query_results(body, format=fmt)
    assert isinstance(answer, ox.QueryBoolean)
    return bool(answer)


def graph(body: bytes, content_type: str) -> rdflib.Graph:
    """An RDF response parsed by rdflib (an independent parser)."""
    parsed = rdflib.Graph()
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser still builds a ConjunctiveGraph internally
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        parsed.parse(data=body, format=RDFLIB_FORMATS[media_type(content_type)])
    return parsed


def reference_graph(*paths: Path) -> rdflib.Graph:
    """The files merged into one rdflib graph: rdflib's SPARQL engine gives expected answers."""
    merged = rdflib.Graph()
    for path in paths:
        merged.parse(path)
    return merged


def same_graph(a: rdflib.Graph, b: rdflib.Graph) -> bool:
    return isomorphic(a, b)


def value_rows(result: rdflib.query.Result) -> list[dict[str, str]]:
    """rdflib SELECT results as rows of variable -> lexical value."""
    return [
        {str(k): str(v) for k, v in row.asdict().items()}  # type: ignore[union-attr]
        for row in result
    ]


def sorted_rows(items: list[dict[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted(row.items())) for row in items)
