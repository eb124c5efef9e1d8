"""Query answers for the command line: from the local engine or a remote endpoint, as a table.

A remote answer is fetched over the SPARQL 1.1 Protocol (a form POST,
https://www.w3.org/TR/sparql11-protocol/#query-via-post-urlencoded) and parsed back into
pyoxigraph's result objects, so it prints exactly as a local one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import requests

from palmyra_graph.errors import QueryError

XSD = "http://www.w3.org/2001/XMLSchema#"
#: Datatypes whose lexical form reads well on its own in a table.
PLAIN_DATATYPES = frozenset(
    XSD + name
    for name in (
        "string",
        "integer",
        "decimal",
        "double",
        "boolean",
        "date",
        "dateTime",
        "nonNegativeInteger",
        "gYear",
    )
)

#: Accept header per query form, when asking a remote endpoint.
ACCEPT = {
    "SELECT": "application/sparql-results+json, application/sparql-results+xml;q=0.9",
    "ASK": "application/sparql-results+json, application/sparql-results+xml;q=0.9",
    "CONSTRUCT": "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5",
    "DESCRIBE": "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5",
}
ACCEPT_ANY = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"


@dataclass
class Answer:
    """A query's answer: its kind (solutions, boolean, graph) and pyoxigraph's result."""

    kind: str
    raw: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple]

    def triples(self) -> Iterable[ox.Triple]:
        """The triples of a graph answer."""
        assert not isinstance(self.raw, ox.QuerySolutions | ox.QueryBoolean)
        return self.raw


def fetch_remote(endpoint: str, sparql: str, form: str | None, *, timeout: float = 60) -> Answer:
    """Send ``sparql`` to a SPARQL 1.1 endpoint and parse its answer.

    Raises:
        QueryError: the endpoint cannot be reached, answers an error (its message is kept),
            or answers in a format that cannot be read.
    """
    headers = {"Accept": ACCEPT.get(form or "", ACCEPT_ANY)}
    try:
        response = requests.post(endpoint, data={"query": sparql}, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise QueryError(f"cannot reach {endpoint}: {exc}") from exc
    if response.status_code >= 400:
        raise QueryError(f"{endpoint} answered {response.status_code}: {response.text.strip()}")
    return parse_answer(response.content, response.headers.get("Content-Type", ""))


def parse_answer(body: bytes, content_type: str) -> Answer:
    """Parse a protocol response body by its media type into an Answer.

    Raises:
        QueryError: the media type is not a SPARQL results or RDF format, or the body does
            not parse.
    """
    media_type = content_type.split(";")[0].strip().lower()
    results_format = ox.QueryResultsFormat.from_media_type(media_type)
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    try:
        if results_format is not None:
            raw = ox.parse_query_results(body, format=results_format)
            kind = "boolean" if isinstance(raw, ox.QueryBoolean) else "solutions"
            return Answer(kind, raw)
        if rdf_format is not None:
            return Answer("graph", list(ox.parse(body, format=rdf_format)))
    except SyntaxError as exc:
        raise QueryError(f"the endpoint's {media_type} answer does not parse: {exc}") from exc
    raise QueryError(f"the endpoint answered {media_type or 'no content type'}, not SPARQL results")


def render_table(answer: Answer, prefixes: dict[str, str]) -> str:
    """An aligned text table of a SELECT answer (or ``true``/``false`` for ASK)."""
    if isinstance(answer.raw, ox.QueryBoolean):
        return "true\n" if bool(answer.raw) else "false\n"
    assert isinstance(answer.raw, ox.QuerySolutions)
    names = [variable.value for variable in answer.raw.variables]
    rows = [[cell(term, prefixes) for term in solution] for solution in answer.raw]
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(names)]
    lines = [
        "  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True)),
        "  ".join("-" * width for width in widths),
        *("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows),
    ]
    noun = "row" if len(rows) == 1 else "rows"
    return "\n".join(line.rstrip() for line in lines) + f"\n({len(rows)} {noun})\n"


def cell(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, prefixes: dict[str, str]
) -> str:
    """One term as a table cell: a prefixed name, a readable literal, ``_:b`` or empty."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return prefixed(term.value, prefixes)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        text = term.value.replace("\n", "\\n")
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value in PLAIN_DATATYPES:
            return text
        return f'"{text}"^^{prefixed(term.datatype.value, prefixes)}'
    return str(term)


def prefixed(iri: str, prefixes: dict[str, str]) -> str:
    """``iri`` as ``prefix:local`` with the longest matching namespace, else ``<iri>``."""
    best: tuple[str, str] | None = None
    for prefix, namespace in prefixes.items():
        if not namespace or not iri.startswith(namespace) or not _local(iri[len(namespace) :]):
            continue
        if best is None or len(namespace) > len(best[1]):
            best = (prefix, namespace)
    if best is None:
        return f"<{iri}>"
    return f"{best[0]}:{iri[len(best[1]) :]}"


def _local(name: str) -> bool:
    """Whether ``name`` can follow a prefix unescaped (a conservative PN_LOCAL)."""
    if name.startswith((".", "-")) or name.endswith("."):
        return False
    return all(ch.isalnum() or ch in "_-." for ch in name)
