"""Query answers for the command line as an aligned text table, with prefixed names.

A remote answer (``query --endpoint``, :class:`palmyra_graph.query.remote.RemoteEngine`) is parsed
back into pyoxigraph's result objects, so it prints exactly as a local one.
"""

from __future__ import annotations

import pyoxigraph as ox

from palmyra_graph.query.engine import QueryResult

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


def render_table(answer: QueryResult, prefixes: dict[str, str]) -> str:
    """An aligned text table of a SELECT answer (or ``true``/``false`` for ASK).

    Raises:
        QueryError: the answer is a graph.
    """
    if answer.kind == "boolean":
        return "true\n" if answer.boolean else "false\n"
    solutions = answer.solutions()
    names = [variable.value for variable in solutions.variables]
    rows = [[cell(term, prefixes) for term in solution] for solution in solutions]
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
