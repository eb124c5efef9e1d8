"""Comparing answers across engines: rows and triples as plain, order-free values."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pyoxigraph as ox

from palmyra_graph.query.engine import QueryResult

_S, _P = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")


def answer(result: QueryResult, *, as_oxigraph_stores: bool = False) -> object:
    """A comparable value: a Counter of rows, the boolean, or the set of triples.

    With ``as_oxigraph_stores``, every literal is written as an Oxigraph store keeps it
    (``"5"^^xsd:nonNegativeInteger`` as ``"5"^^xsd:integer``, ``"1"^^xsd:boolean`` as
    ``"true"^^xsd:boolean``: docs/engine-bugs.md), to compare another store with ours.
    """
    term = _as_stored if as_oxigraph_stores else str
    if isinstance(result.raw, ox.QuerySolutions):
        names = [v.value for v in result.raw.variables]
        return Counter(
            tuple((n, term(row[n]) if row[n] is not None else None) for n in names)
            for row in result.raw
        )
    if isinstance(result.raw, ox.QueryBoolean):
        return bool(result.raw)
    return {" ".join(term(t) for t in (x.subject, x.predicate, x.object)) for x in result.raw}


@cache
def _as_stored(term: object) -> str:
    if not isinstance(term, ox.Literal):
        return str(term)
    store = ox.Store()
    store.add(ox.Quad(_S, _P, term))
    return str(next(iter(store)).object)
