"""An Engine whose queries run in the query workers, on the graph the broker holds.

``serve``'s server processes hold no graph of their own: their page views (home, entity pages,
VoID, the service description) ask the workers too, so the graph is in memory once for the
whole server, and every query of a page has the time budget and the client's limits. An
answer comes back serialized (SPARQL JSON, N-Triples) and is parsed into the same result
objects the embedded engine gives.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import IO, Any

import pyoxigraph as ox

from palmyra_graph.query.engine import Describing, QueryResult, ResultKind, parse_result
from palmyra_graph.workers.pool import QueryPool

#: How each kind of answer travels from the worker.
_WIRE: dict[str, ox.QueryResultsFormat | ox.RdfFormat] = {
    "solutions": ox.QueryResultsFormat.JSON,
    "boolean": ox.QueryResultsFormat.JSON,
    "graph": ox.RdfFormat.N_TRIPLES,
}


def engine_job(engine: Any, call: tuple[Any, ...]) -> tuple[str, Callable[[IO[bytes]], None]]:
    """Run one Engine call in a worker: ``("query", sparql, default_graphs, named_graphs,
    base)``, ``("graph_names",)`` or ``("counts",)``; the answer serialized."""
    method, *args = call
    if method == "query":
        sparql, default_graphs, named_graphs, base = args
        result = engine.query(
            sparql, default_graphs=default_graphs, named_graphs=named_graphs, base=base
        )
        return result.kind, lambda output: result.serialize(output, _WIRE[result.kind])
    if method not in ("graph_names", "counts"):
        raise ValueError(f"not an engine call: {method!r}")
    data = pickle.dumps(getattr(engine, method)())

    def write(output: IO[bytes]) -> None:
        output.write(data)

    return "pickle", write


class BrokerEngine(Describing):
    """The Engine of a server process: each call runs in a query worker.

    Args:
        pool: the broker's pool.
        client: who the current call is for (the requesting client, for its limits).
    """

    def __init__(self, pool: QueryPool, client: Callable[[], str] = lambda: "pages") -> None:
        self.pool = pool
        self.client = client
        self._counts: dict[str, int] | None = None

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base: str | None = None,
    ) -> QueryResult:
        """Evaluate a query in a worker.

        Raises:
            QueryError: the query does not parse or fails (the worker's message).
            QueryTimeout, TooManyRequests, WorkerError: as :meth:`QueryPool.run` says.
        """
        call = ("query", sparql, tuple(default_graphs), tuple(named_graphs), base)
        answer = self.pool.run(engine_job, call, client=self.client())
        kind: ResultKind = answer.meta
        return parse_result(answer.body(), _WIRE[kind])

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        names: list[str] = self._call("graph_names")
        return names

    def counts(self) -> dict[str, int]:
        """Triples in the whole store and per named graph (asked once: the graph is read-only)."""
        if self._counts is None:
            self._counts = self._call("counts")
        return dict(self._counts)

    def _call(self, method: str) -> Any:
        answer = self.pool.run(engine_job, (method,), client=self.client())
        return pickle.loads(answer.body())
