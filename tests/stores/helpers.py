"""Comparing answers across engines: rows and triples as plain, order-free values."""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox

from palmyra_graph.query.engine import QueryResult


def answer(result: QueryResult) -> object:
    """A comparable value: a Counter of rows, the boolean, or the set of triples."""
    if isinstance(result.raw, ox.QuerySolutions):
        names = [v.value for v in result.raw.variables]
        return Counter(
            tuple((n, str(row[n]) if row[n] is not None else None) for n in names)
            for row in result.raw
        )
    if isinstance(result.raw, ox.QueryBoolean):
        return bool(result.raw)
    return {str(triple) for triple in result.raw}
