"""The query engine behind one small interface, so another engine can stand behind it later.

The default is an embedded Oxigraph store. Its default graph is the union of the loaded named
graphs (as Fuseki's ``unionDefaultGraph``), unless a request names its own default graphs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import pyoxigraph as ox

from palmyra_graph.describe import describe_query
from palmyra_graph.errors import QueryError
from palmyra_graph.loader import LoadedGraph, load

ResultKind = Literal["solutions", "boolean", "graph"]


@dataclass
class QueryResult:
    """A query's answer: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE)."""

    kind: ResultKind
    raw: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    @property
    def boolean(self) -> bool:
        """The answer of an ASK query."""
        return bool(self.raw)


class Engine(Protocol):
    """What the app, the CLI and the tests need from a query engine."""

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
    ) -> QueryResult: ...

    def describe(self, iri: str) -> QueryResult: ...

    def graph_names(self) -> list[str]: ...

    def counts(self) -> dict[str, int]: ...


class OxigraphEngine:
    """An embedded pyoxigraph store, loaded once and then only read."""

    def __init__(self, loaded: LoadedGraph) -> None:
        self.loaded = loaded
        self.store = loaded.store

    @classmethod
    def from_files(cls, paths: Sequence[Path | str] | None = None) -> OxigraphEngine:
        """Load files (default: the bundled ontology and data) into a new engine."""
        return cls(load(paths))

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
    ) -> QueryResult:
        """Evaluate a SPARQL 1.1 query.

        Args:
            sparql: the query text.
            default_graphs: IRIs whose merge is the default graph (``default-graph-uri``);
                empty means the union of all named graphs.
            named_graphs: IRIs available to ``GRAPH`` (``named-graph-uri``); empty means all.

        Raises:
            QueryError: the query does not parse (message with line and column) or fails.
        """
        options: dict[str, object] = {}
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
        else:
            options["use_default_graph_as_union"] = True
        if named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
        try:
            raw = self.store.query(sparql, **options)  # type: ignore[arg-type]
        except SyntaxError as exc:
            raise QueryError(f"syntax error: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise QueryError(f"query failed: {exc}") from exc
        return QueryResult(kind=_kind(raw), raw=raw)

    def describe(self, iri: str) -> QueryResult:
        """The resource's own triples, the claims about it with their sources, and labels."""
        return self.query(describe_query(iri))

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def counts(self) -> dict[str, int]:
        """Triples in the whole store and per named graph."""
        per_graph = {name: _count(self.store, name) for name in self.graph_names()}
        return {"triples": len(self.store), **per_graph}


def _count(store: ox.Store, graph: str) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def _kind(raw: object) -> ResultKind:
    if isinstance(raw, ox.QuerySolutions):
        return "solutions"
    if isinstance(raw, ox.QueryBoolean):
        return "boolean"
    return "graph"
