"""Refuse what a read-only public endpoint must not run, before the engine sees the query.

pyoxigraph evaluates a ``SERVICE`` clause (https://www.w3.org/TR/sparql11-federated-query/)
by sending an HTTP request to whatever IRI the query names: on a public endpoint that is a
server-side request forgery hole. So every ``SERVICE`` endpoint must be in an allow-list
(the app's ``ALLOW_SERVICE`` setting, empty by default); a variable endpoint
(``SERVICE ?x``) is always refused, since its value is only known during evaluation.
Updates (``INSERT``, ``LOAD``, ``CLEAR``, …) are refused too: the service is read-only.

The query text is read by :mod:`palmyra_graph.sparql_text`, a lexer that skips comments,
strings and IRIs the way Oxigraph does, so ``# SERVICE`` in a comment or ``"SERVICE"`` in a
string is not a clause, while ``service``, ``SERVICE SILENT`` and prefixed endpoints are.
"""

from __future__ import annotations

from collections.abc import Iterable

from palmyra_graph.errors import QueryError, QueryRefused
from palmyra_graph.sparql_text import UPDATE_KEYWORDS, QueryText, inspect


def check_query(sparql: str, *, allow: Iterable[str] = ()) -> QueryText:
    """Check a query before evaluation; returns what the text says about itself.

    Args:
        sparql: the query text.
        allow: endpoint IRIs a ``SERVICE`` clause may call, compared as exact strings after
            resolving prefixes and BASE.

    Raises:
        QueryRefused: the text is an update (403).
        QueryError: a ``SERVICE`` endpoint is not allowed, is a variable or is not an IRI
            (400, the message names the endpoint).
    """
    info = inspect(sparql)
    if info.form in UPDATE_KEYWORDS:
        raise QueryRefused(
            f"this endpoint is read-only: {info.form} is a SPARQL update, and updates are refused"
        )
    allowed = set(allow)
    for endpoint in info.services:
        if endpoint is None:
            raise QueryError(
                "SERVICE with a variable or unreadable endpoint is refused: "
                "name the endpoint IRI explicitly"
            )
        if endpoint not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            raise QueryError(
                f"SERVICE <{endpoint}> is not allowed on this endpoint (allowed: {listed})"
            )
    return info
