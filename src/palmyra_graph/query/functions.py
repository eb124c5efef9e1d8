"""A call to a function the engine does not know is an expression error, not a failed query.

SPARQL 1.1 §17.6 (https://www.w3.org/TR/sparql11-query/#extensionFunctions) lets an IRI name a
function; where the processor has no such function, the call is an error in the expression
(§17.3, https://www.w3.org/TR/sparql11-query/#evaluation): a FILTER drops the row, a BIND
leaves its variable unbound, a projected expression is unbound. pyoxigraph 0.5 refuses the
whole query instead (``RuntimeError: The custom function <…> is not supported``, raised before
any evaluation). So each function it names so is registered as a custom function that gives
no value, which pyoxigraph evaluates as an expression error, and the query is evaluated again.

Only the functions the engine itself names are registered: a custom function takes precedence
over a built-in one of the same IRI (``xsd:integer(…)`` would no longer cast), so a function
found in the text by other means could change what a supported call means. Nothing in the
text changes, so the guard (:mod:`palmyra_graph.query.guard`) reads the query the engine reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

from palmyra_graph.errors import QueryError

#: The engine's message for a function it does not have (pyoxigraph 0.5).
_UNSUPPORTED = re.compile(r"The custom function <([^>]*)> is not supported")
#: Distinct unknown functions one query may call: each costs the engine one more parse.
MAX_UNKNOWN_FUNCTIONS = 64

Answer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def no_value(*_args: object) -> Term | None:
    """An unknown function: no value, which the engine evaluates as an expression error."""
    return None


def unsupported_function(exc: BaseException) -> str | None:
    """The IRI of the function ``exc`` says the engine does not support, else None."""
    match = _UNSUPPORTED.fullmatch(str(exc))
    return match.group(1) if match else None


def query_with_unknown_functions(store: ox.Store, sparql: str, **options: Any) -> Answer:
    """``store.query(sparql, **options)``, with every function the engine does not know
    evaluated as an expression error.

    Raises:
        QueryError: the query calls more than MAX_UNKNOWN_FUNCTIONS unknown functions.
        SyntaxError, OSError, ValueError, RuntimeError: as ``Store.query``.
    """
    unknown: dict[ox.NamedNode, Callable[..., Term | None]] = {}
    while True:
        try:
            return store.query(sparql, custom_functions=unknown or None, **options)
        except RuntimeError as exc:
            iri = unsupported_function(exc)
            if iri is None:
                raise
            if len(unknown) >= MAX_UNKNOWN_FUNCTIONS:
                raise QueryError(
                    f"the query calls more than {MAX_UNKNOWN_FUNCTIONS} functions this "
                    f"endpoint does not know (the last: <{iri}>)"
                ) from exc
            unknown[ox.NamedNode(iri)] = no_value
