"""An engine over a remote SPARQL 1.1 endpoint, with the interface of ``OxigraphEngine``.

Queries go out as the SPARQL 1.1 Protocol's "query via URL-encoded POST"
(https://www.w3.org/TR/sparql11-protocol/#query-via-post-urlencoded) and answers come back as
the same pyoxigraph objects the embedded engine returns, so the app serializes them the same
way: solutions and booleans are parsed with ``pyoxigraph.parse_query_results``; a graph is
parsed into a scratch in-memory store and read back as ``QueryTriples``.

Given the graphs it serves (``graphs``, those ``push`` put there), the engine answers as the
embedded one does whatever the remote's own default graph is (Oxigraph server with or without
``--union-default-graph``, Fuseki with or without ``unionDefaultGraph``, Virtuoso's union of
every graph, its system graphs included), by naming the dataset of every query in the
protocol's ``default-graph-uri`` and ``named-graph-uri``
(https://www.w3.org/TR/sparql11-protocol/#dataset), which replace the remote's own:

- a query with no dataset clause: those graphs, as the default graph (their merge) and as the
  named graphs;
- a query with ``FROM``/``FROM NAMED``: the IRIs of its clauses, the same dataset, so that a
  remote whose union setting overrides the clause (Oxigraph server's ``--union-default-graph``
  does) still evaluates the query's own (``docs/engine-bugs.md``); a clause this module cannot
  read goes as written;
- a request's own ``default-graph-uri``/``named-graph-uri``: as given;
- ``DESCRIBE``: the project's description of each resource, as the embedded engine gives it.

Without ``graphs`` (``query --endpoint``, ``push``'s count check) queries go as written.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox
import requests

from palmyra_graph.errors import QueryError, QueryTimeout, RemoteError
from palmyra_graph.query.engine import Describing, QueryResult, parse_result
from palmyra_graph.query.iri import is_absolute
from palmyra_graph.query.lexer import lex
from palmyra_graph.query.text import QueryText, read_head

#: What we ask for: SPARQL JSON for SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE, each alone
#: when the query's form is known (Virtuoso answers a CONSTRUCT in SPARQL JSON, as a table of
#: subjects, predicates and objects, when that is acceptable too).
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
ACCEPT = f"{RESULTS_ACCEPT}, {GRAPH_ACCEPT}"
_ACCEPT_OF_FORM = {
    "SELECT": RESULTS_ACCEPT,
    "ASK": RESULTS_ACCEPT,
    "CONSTRUCT": GRAPH_ACCEPT,
    "DESCRIBE": GRAPH_ACCEPT,
}

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
        graphs: Sequence[str] | None = None,
    ) -> None:
        """Args:
        endpoint: the query endpoint's URL (Oxigraph ``…/query``, Fuseki ``…/ds/query``,
            Virtuoso ``…/sparql``).
        timeout: seconds to wait for the remote's answer before raising QueryTimeout.
        session: a requests session (for authentication or connection reuse).
        graphs: the named graphs served, as the embedded engine serves its loaded files
            (see the module docstring); None sends every query as written.
        """
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = session or requests.Session()
        self.graphs = tuple(graphs) if graphs is not None else None

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base: str | None = None,
    ) -> QueryResult:
        """Evaluate a query on the remote endpoint, over the dataset the module docstring says.

        A ``base`` goes as a ``BASE`` declaration on a line of its own before the query (the
        one way the protocol has to give it; the remote's line numbers then count one more),
        unless the query's own prologue leaves nothing for it to resolve: Virtuoso 7 refuses
        a second BASE (``docs/engine-bugs.md``).

        Raises:
            QueryError: the remote rejected the query (its message is quoted).
            QueryTimeout: no answer within the timeout.
            RemoteError: the endpoint is unreachable, refused access, failed, or answered
                in a format we cannot read.
        """
        lexed = lex(sparql)
        info = read_head(lexed, base=base)
        if base is not None and not _own_base_suffices(read_head(lexed), info):
            sparql = f"BASE <{base}>\n{sparql}"
        if self.graphs is None:
            return self._send(sparql, info.form, default_graphs, named_graphs)
        given = bool(default_graphs or named_graphs)
        dataset = (default_graphs, named_graphs) if given else self._dataset_of(info)
        if info.form == "DESCRIBE":
            if info.describe_as_select() is None:  # else that SELECT reports them
                self._send(sparql, info.form, *dataset)  # for its syntax errors
            return self.describe_each(
                info, default_graphs=default_graphs, named_graphs=named_graphs, base=base
            )
        return self._send(sparql, info.form, *dataset)

    def _dataset_of(self, info: QueryText) -> tuple[Sequence[str], Sequence[str]]:
        """The default and named graphs of a query that the request gives none for."""
        if not info.has_dataset_clause:
            assert self.graphs is not None
            return self.graphs, self.graphs
        return info.dataset or ((), ())  # a clause not read: as written

    def _send(
        self,
        sparql: str,
        query_form: str | None,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
    ) -> QueryResult:
        form = [("query", sparql)]
        form += [("default-graph-uri", iri) for iri in default_graphs]
        form += [("named-graph-uri", iri) for iri in named_graphs]
        accept = _ACCEPT_OF_FORM.get(query_form or "", ACCEPT)
        return _parse(self._post(form, accept), self.endpoint)

    def missing_graphs(self) -> list[str]:
        """Those of ``graphs`` the remote holds no triple in (all of them before a push).

        Raises:
            QueryTimeout, RemoteError: as :meth:`query`.
        """
        held = set(self.graph_names())
        return [g for g in self.graphs or () if g not in held]

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

    def _post(self, form: list[tuple[str, str]], accept: str = ACCEPT) -> requests.Response:
        try:
            response = self.session.post(
                self.endpoint, data=form, headers={"Accept": accept}, timeout=self.timeout
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


def _own_base_suffices(own: QueryText, info: QueryText) -> bool:
    """Whether the query's own prologue (``own``, read without a base) declares an absolute
    BASE before any relative IRI, so that a base given for it (``info``) changes nothing."""
    return own.base is not None and is_absolute(own.base) and own.prefixes == info.prefixes


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
    fmt = _RESULT_FORMATS.get(kind) or _GRAPH_FORMATS.get(kind)
    if fmt is None:
        raise RemoteError(f"the remote answered in an unexpected format {kind!r}", where=where)
    try:
        return parse_result(response.content, fmt)
    except SyntaxError as exc:
        raise RemoteError(f"the remote's {kind} answer does not parse: {exc}", where=where) from exc


def _solutions(result: QueryResult) -> ox.QuerySolutions:
    if result.kind != "solutions":
        raise RemoteError(f"expected solutions, the remote answered a {result.kind}")
    return result.solutions()
