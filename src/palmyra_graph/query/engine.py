"""The query engine behind one small interface, so another engine can stand behind it later.

The default is an embedded Oxigraph store. Its default graph is the union of the loaded named
graphs (as Fuseki's ``unionDefaultGraph``), unless the query has a dataset clause (``FROM``)
or the request names its own dataset (``default-graph-uri``/``named-graph-uri``, which replace
the query's own, https://www.w3.org/TR/sparql11-protocol/#dataset).

A ``DESCRIBE`` answers, for each described IRI, :meth:`OxigraphEngine.describe`: the
resource's own triples and the claims about it with their sources, so provenance comes with
the fact (https://www.w3.org/TR/sparql11-query/#describe leaves the description to the
service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

import pyoxigraph as ox

from palmyra_graph.errors import QueryError
from palmyra_graph.graph.loader import LoadedGraph, load
from palmyra_graph.query.describe import describe_query
from palmyra_graph.query.functions import query_with_unknown_functions
from palmyra_graph.query.text import QueryText, inspect

_ALL_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"

ResultKind = Literal["solutions", "boolean", "graph"]


@dataclass
class QueryResult:
    """A query's answer: solutions (SELECT), a boolean (ASK) or triples (CONSTRUCT/DESCRIBE).

    The accessors give the answer as what the caller expects; asking a SELECT's result for
    triples is a QueryError, not a type confusion further on.
    """

    kind: ResultKind
    raw: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples

    def solutions(self) -> ox.QuerySolutions:
        """The solutions of a SELECT query.

        Raises:
            QueryError: the query gave a boolean or triples.
        """
        if not isinstance(self.raw, ox.QuerySolutions):
            raise QueryError(f"expected solutions (SELECT), the query gave {self.kind}")
        return self.raw

    def triples(self) -> ox.QueryTriples:
        """The triples of a CONSTRUCT or DESCRIBE query.

        Raises:
            QueryError: the query gave solutions or a boolean.
        """
        if not isinstance(self.raw, ox.QueryTriples):
            raise QueryError(f"expected triples (CONSTRUCT, DESCRIBE), the query gave {self.kind}")
        return self.raw

    def serialize(self, output: IO[bytes], fmt: ox.QueryResultsFormat | ox.RdfFormat) -> None:
        """Write the answer in ``fmt`` (a results format for solutions and booleans, an RDF
        format for triples).

        Raises:
            OSError, ValueError, RuntimeError: the engine failed while it wrote (evaluation
                goes on while the answer is serialized).
        """
        if isinstance(self.raw, ox.QueryTriples):
            assert isinstance(fmt, ox.RdfFormat)
            self.raw.serialize(output, format=fmt)
        else:
            assert isinstance(fmt, ox.QueryResultsFormat)
            self.raw.serialize(output, format=fmt)

    @property
    def boolean(self) -> bool:
        """The answer of an ASK query.

        Raises:
            QueryError: the query gave solutions or triples.
        """
        if not isinstance(self.raw, ox.QueryBoolean):
            raise QueryError(f"expected a boolean (ASK), the query gave {self.kind}")
        return bool(self.raw)


class Engine(Protocol):
    """What the app, the CLI and the tests need from a query engine."""

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base: str | None = None,
    ) -> QueryResult: ...

    def describe(
        self,
        iri: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
    ) -> QueryResult: ...

    def graph_names(self) -> list[str]: ...

    def counts(self) -> dict[str, int]: ...


class Describing:
    """:meth:`describe` for an engine that has :meth:`query`: the DESCRIBE of this project (the
    resource's own triples, the claims about it with their sources, and labels) as the one
    CONSTRUCT query of :mod:`palmyra_graph.query.describe`, whichever engine evaluates it; and
    a ``DESCRIBE`` query answered with it, for every resource it names or finds."""

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base: str | None = None,
    ) -> QueryResult:
        raise NotImplementedError

    def describe(
        self,
        iri: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
    ) -> QueryResult:
        """The resource's own triples, the claims about it with their sources, and labels.

        Raises:
            QueryError: ``iri`` is not an IRI, or the query failed.
        """
        try:
            sparql = describe_query(iri)
        except ValueError as exc:
            raise QueryError(str(exc)) from exc
        return self.query(sparql, default_graphs=default_graphs, named_graphs=named_graphs)

    def describe_each(
        self,
        info: QueryText,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base: str | None = None,
    ) -> QueryResult:
        """The merged :meth:`describe` of every IRI a DESCRIBE query names or finds.

        A request's dataset applies to each description; the query's FROM clause only to its
        WHERE, which finds what to describe (its relative IRIs resolved against ``base``).

        Raises:
            QueryError: the query does not parse or fails.
        """
        targets = dict.fromkeys(info.describe_constants)
        select = info.describe_as_select()
        if select is not None:
            found = self.query(
                select, default_graphs=default_graphs, named_graphs=named_graphs, base=base
            )
            try:  # evaluation goes on while the rows are read, and can fail there
                for solution in found.solutions():
                    targets.update(dict.fromkeys(_iris(solution)))
            except (OSError, ValueError, RuntimeError) as exc:
                raise QueryError(f"query failed: {exc}") from exc
        merged = ox.Store()
        for iri in targets:
            described = self.describe(iri, default_graphs=default_graphs, named_graphs=named_graphs)
            try:
                merged.extend(
                    ox.Quad(t.subject, t.predicate, t.object) for t in described.triples()
                )
            except (OSError, ValueError, RuntimeError) as exc:
                raise QueryError(f"query failed: {exc}") from exc
        return QueryResult(kind="graph", raw=merged.query(_ALL_TRIPLES))


class OxigraphEngine(Describing):
    """An embedded pyoxigraph store, loaded once and then only read."""

    def __init__(self, loaded: LoadedGraph) -> None:
        self.loaded = loaded
        self.store = loaded.store
        self._counts: dict[str, int] | None = None

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
        base: str | None = None,
    ) -> QueryResult:
        """Evaluate a SPARQL 1.1 query.

        Args:
            sparql: the query text.
            default_graphs: IRIs whose merge is the default graph (``default-graph-uri``).
            named_graphs: IRIs available to ``GRAPH`` (``named-graph-uri``). When either is
                given they are the whole dataset (the other empty); when neither is, the
                query's FROM clauses, else the union of all named graphs and all of them.
            base: the absolute IRI relative IRIs resolve against when the query declares no
                BASE (None: a relative IRI is a syntax error).

        A call to a function the engine does not know is an expression error
        (:mod:`palmyra_graph.query.functions`).

        Raises:
            QueryError: the query does not parse (message with line and column) or fails.
        """
        info = inspect(sparql, base=base)
        options = _dataset_options(info, default_graphs, named_graphs)
        options["base_iri"] = base
        raw = self._evaluate(sparql, options)  # parses every form, DESCRIBE too
        if info.form == "DESCRIBE":
            return self.describe_each(
                info, default_graphs=default_graphs, named_graphs=named_graphs, base=base
            )
        return QueryResult(kind=_kind(raw), raw=raw)

    def _evaluate(
        self, sparql: str, options: dict[str, object]
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        try:
            return query_with_unknown_functions(self.store, sparql, **options)
        except SyntaxError as exc:
            raise QueryError(f"syntax error: {exc}") from exc
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from exc

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def counts(self) -> dict[str, int]:
        """Triples in the whole store and per named graph (counted once: the store is read-only)."""
        if self._counts is None:
            per_graph = {name: _count(self.store, name) for name in self.graph_names()}
            self._counts = {"triples": len(self.store), **per_graph}
        return dict(self._counts)


def _dataset_options(
    info: QueryText, default_graphs: Sequence[str], named_graphs: Sequence[str]
) -> dict[str, object]:
    """pyoxigraph options for the dataset: the request's, else the query's, else the union."""
    options: dict[str, object] = {}
    if default_graphs or named_graphs:
        options["default_graph"] = [_graph_iri(iri) for iri in default_graphs]
        options["named_graphs"] = [_graph_iri(iri) for iri in named_graphs]
    elif not info.has_dataset_clause:
        options["use_default_graph_as_union"] = True
    return options


def _graph_iri(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise QueryError(f"not a graph IRI: {iri!r} ({exc})") from exc


def _iris(solution: ox.QuerySolution) -> list[str]:
    return [term.value for term in solution if isinstance(term, ox.NamedNode)]


def _count(store: ox.Store, graph: str) -> int:
    """Triples in one named graph, counted by the engine (twice as fast as iterating its
    quads in Python, which at 10^6 triples took 0.6 s of ``serve``'s start)."""
    name = ox.NamedNode(graph)  # written by pyoxigraph: an IRI that reads back as itself
    solutions = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}")
    assert isinstance(solutions, ox.QuerySolutions)
    count = next(iter(solutions))[0]
    assert isinstance(count, ox.Literal)
    return int(count.value)


def _kind(raw: object) -> ResultKind:
    if isinstance(raw, ox.QuerySolutions):
        return "solutions"
    if isinstance(raw, ox.QueryBoolean):
        return "boolean"
    return "graph"


def parse_result(data: bytes, fmt: ox.QueryResultsFormat | ox.RdfFormat) -> QueryResult:
    """An answer that came serialized (from a remote endpoint, from a query worker) as the
    embedded engine would give it: solutions or a boolean in a results format, triples in an
    RDF format.

    Raises:
        SyntaxError: ``data`` does not parse as ``fmt``.
    """
    if isinstance(fmt, ox.RdfFormat):
        return QueryResult(kind="graph", raw=as_triples(data, fmt))
    raw = ox.parse_query_results(data, format=fmt)
    return QueryResult(kind=_kind(raw), raw=raw)


def as_triples(data: bytes, fmt: ox.RdfFormat) -> ox.QueryTriples:
    """Graph data as ``QueryTriples``, the type the embedded engine returns for CONSTRUCT (for
    answers that come serialized: from a remote endpoint, from a query worker)."""
    scratch = ox.Store()
    scratch.load(data, format=fmt)
    triples = scratch.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    if not isinstance(triples, ox.QueryTriples):  # a CONSTRUCT always gives triples
        raise TypeError(f"CONSTRUCT gave {type(triples).__name__}")
    return triples
