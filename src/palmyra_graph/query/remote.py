"""An engine over a remote SPARQL 1.1 endpoint, with the interface of ``OxigraphEngine``.

Queries go out as the SPARQL 1.1 Protocol's "query via URL-encoded POST"
(https://www.w3.org/TR/sparql11-protocol/#query-via-post-urlencoded) and answers come back as
the same pyoxigraph objects the embedded engine returns, so the app serializes them the same
way: solutions and booleans are parsed with ``pyoxigraph.parse_query_results``; a graph is
parsed into a scratch in-memory store and read back as ``QueryTriples``.

The embedded engine's default graph is the union of its named graphs. The remote must be set
up the same way (Oxigraph ``serve --union-default-graph``, Fuseki ``unionDefaultGraph``;
Virtuoso does it already): see ``docs/triple-stores.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox
import requests

from palmyra_graph.errors import QueryError, QueryTimeout, RemoteError
from palmyra_graph.query.engine import Describing, QueryResult, as_triples

#: What we ask for: SPARQL JSON for SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE.
ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
)

_RESULT_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "text/csv": ox.QueryResultsFormat.CSV,
}
_GRAPH_FORMATS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
#: How much of a remote error body to quote in our message.
_QUOTE = 500


class RemoteEngine(Describing):
    """A SPARQL 1.1 endpoint elsewhere (Oxigraph server, Fuseki, Virtuoso…), read-only."""

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        """Args:
        endpoint: the query endpoint's URL (Oxigraph ``…/query``, Fuseki ``…/ds/query``,
            Virtuoso ``…/sparql``).
        timeout: seconds to wait for the remote's answer before raising QueryTimeout.
        session: a requests session (for authentication or connection reuse).
        """
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = session or requests.Session()

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
    ) -> QueryResult:
        """Evaluate a query on the remote endpoint.

        Raises:
            QueryError: the remote rejected the query (its message is quoted).
            QueryTimeout: no answer within the timeout.
            RemoteError: the endpoint is unreachable, refused access, failed, or answered
                in a format we cannot read.
        """
        form = [("query", sparql)]
        form += [("default-graph-uri", iri) for iri in default_graphs]
        form += [("named-graph-uri", iri) for iri in named_graphs]
        response = self._post(form)
        return _parse(response, self.endpoint)

    def graph_names(self) -> list[str]:
        """The IRIs of the remote's named graphs, sorted."""
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        names = (row["g"] for row in _solutions(result))
        return sorted(g.value for g in names if isinstance(g, ox.NamedNode))

    def counts(self) -> dict[str, int]:
        """Triples per named graph, and their sum as ``triples``."""
        result = self.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        per_graph = {
            row["g"].value: int(row["n"].value)
            for row in _solutions(result)
            if isinstance(row["g"], ox.NamedNode)
        }
        return {"triples": sum(per_graph.values()), **dict(sorted(per_graph.items()))}

    def _post(self, form: list[tuple[str, str]]) -> requests.Response:
        try:
            response = self.session.post(
                self.endpoint, data=form, headers={"Accept": ACCEPT}, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise QueryTimeout(
                f"the SPARQL endpoint gave no answer within {self.timeout:g} s",
                where=self.endpoint,
            ) from exc
        except requests.RequestException as exc:
            raise RemoteError(
                f"cannot reach the SPARQL endpoint: {exc}", where=self.endpoint
            ) from exc
        raise_for_remote(response, self.endpoint)
        return response


def failure_reason(exc: requests.RequestException) -> str:
    """A short reason for a failed request (requests nests the OS error several levels deep)."""
    cause: BaseException | None = exc
    while cause is not None and cause.__context__ is not None:
        cause = cause.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause or exc)


def raise_for_remote(response: requests.Response, where: str) -> None:
    """Turn a remote's non-2xx answer into a PalmyraError that quotes what it said.

    Raises:
        QueryError: 400 (the remote could not parse or evaluate the query).
        QueryTimeout: 503 or 504 from the remote.
        RemoteError: 401/403 (credentials), any other non-2xx.
    """
    if response.ok:
        return
    said = response.text.strip()[:_QUOTE] or response.reason
    status = response.status_code
    if status == 400:
        raise QueryError(f"the remote endpoint rejected the query (400): {said}", where=where)
    if status in (401, 403):
        raise RemoteError(
            f"the remote endpoint refused access ({status}): check the credentials; {said}",
            where=where,
        )
    if status in (503, 504):
        raise QueryTimeout(
            f"the remote endpoint timed out or is busy ({status}): {said}", where=where
        )
    raise RemoteError(f"the remote endpoint answered {status}: {said}", where=where)


def media_type(response: requests.Response) -> str:
    """The response's media type, lower-cased, without parameters."""
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _parse(response: requests.Response, where: str) -> QueryResult:
    kind = media_type(response)
    try:
        if kind in _RESULT_FORMATS:
            raw = ox.parse_query_results(response.content, format=_RESULT_FORMATS[kind])
            if isinstance(raw, ox.QueryBoolean):
                return QueryResult(kind="boolean", raw=raw)
            return QueryResult(kind="solutions", raw=raw)
        if kind in _GRAPH_FORMATS:
            return QueryResult(kind="graph", raw=as_triples(response.content, _GRAPH_FORMATS[kind]))
    except SyntaxError as exc:
        raise RemoteError(f"the remote's {kind} answer does not parse: {exc}", where=where) from exc
    raise RemoteError(f"the remote answered in an unexpected format {kind!r}", where=where)


def _solutions(result: QueryResult) -> ox.QuerySolutions:
    if result.kind != "solutions":
        raise RemoteError(f"expected solutions, the remote answered a {result.kind}")
    return result.solutions()
