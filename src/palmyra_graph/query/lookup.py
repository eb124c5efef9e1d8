"""Lookups of one triple pattern, answered in the request thread from a read-only store.

A query runs in a killable worker because pyoxigraph cannot stop one, and the hop there and
back costs about as much as the rest of a request (``bench/README.md``). A lookup of one
triple pattern needs no worker: the engine answers it with one index scan whose every step
yields a solution, so its cost is the number of solutions, and that is bounded here before
anything is written. This is the query a Linked Data Fragments server answers, and the one a
script asking for "the values of this property of this resource" sends.

Only a query of this exact text is a lookup, every other one goes to the workers::

    SELECT ?v ... | SELECT * | ASK   [WHERE] { S P O [.] }   [LIMIT n]

with S and P an IRI (``<...>``, no escapes) or a variable, O also a plain literal
(``"..."`` with no quote, backslash or line break, then an optional language tag or
``^^<datatype>``), no two variables of the pattern alike (``?x ?p ?x`` would scan everything
for a match), keywords in any ASCII case, only the engine's whitespace (`` \\t\\r\\n``)
between them, and no comment, prefix or base declaration, dataset clause, DISTINCT, OFFSET,
FILTER or anything else. Nothing in such a text can be read by the engine as more than one
pattern: no character of it starts a comment, a string, a path or a nested group where
the engine would see one that this pattern does not.

The engine evaluates the text with its LIMIT at most ``LOOKUP_ROWS + 1``, and the solutions
of the answer it wrote are counted; past ``LOOKUP_ROWS`` the query goes to the workers after
all, with the time budget and the client's limits.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from palmyra_graph.errors import PalmyraError
from palmyra_graph.graph.formats import RESULT_FORMATS, Format, by_name
from palmyra_graph.query.answer import QueryJob
from palmyra_graph.query.store import is_store, open_store

#: Solutions a lookup may have to be answered in the request thread.
LOOKUP_ROWS = 1000
#: Seconds before a store that failed to open is tried again.
RETRY_SECONDS = 30.0

_WS = "[ \t\r\n]"
_IRI = '<[^\\x00-\\x20<>"{}|^`\\\\]*>'
_VAR = "[?$][A-Za-z_][A-Za-z0-9_]*"
_LITERAL = f'"[^"\\\\\\r\\n]*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\\^\\^{_IRI})?'
_LOOKUP = re.compile(
    f"{_WS}*(?:SELECT{_WS}+(?:\\*|(?:{_VAR}{_WS}*)+)|(?P<ask>ASK)){_WS}*(?:WHERE{_WS}*)?"
    f"\\{{{_WS}*(?P<s>{_IRI}|{_VAR}){_WS}+(?P<p>{_IRI}|{_VAR}){_WS}+"
    f"(?P<o>{_IRI}|{_VAR}|{_LITERAL}){_WS}*(?:\\.{_WS}*)?\\}}{_WS}*"
    f"(?:(?P<limit>LIMIT{_WS}+(?P<n>[0-9]+)){_WS}*)?",
    re.IGNORECASE | re.ASCII,
)


@dataclass(frozen=True)
class Lookup:
    """A query that is one triple-pattern lookup, as the request thread evaluates it."""

    #: the query, its LIMIT at most LOOKUP_ROWS + 1 (an ASK as it is)
    limited: str
    #: whether more than LOOKUP_ROWS solutions may come (a SELECT)
    capped: bool


def lookup_of(text: str) -> Lookup | None:
    """The lookup ``text`` is, or None when it is any other query (the module docstring)."""
    match = _LOOKUP.fullmatch(text)
    if match is None:
        return None
    variables = [match[term].replace("$", "?", 1) for term in "spo" if match[term][0] in "?$"]
    if len(set(variables)) < len(variables):
        return None
    if match["ask"] is not None:
        return Lookup(text, capped=False)
    cap = LOOKUP_ROWS + 1
    if match["limit"] is None:
        return Lookup(f"{text}\nLIMIT {cap}", capped=True)
    limit = min(int(match["n"]), cap)
    before, after = text[: match.start("limit")], text[match.end("limit") :]
    return Lookup(f"{before}LIMIT {limit}{after}", capped=True)


def answer_lookup(store: ox.Store, lookup: Lookup, job: QueryJob) -> tuple[str, bytes] | None:
    """The answer to ``job`` (whose query is ``lookup``, with no dataset of its own) from
    ``store``: its content type and body. None when it has more than LOOKUP_ROWS solutions,
    or when the engine refuses the text: the workers answer it then, and say what is wrong
    in their own words.

    The engine is asked as :class:`palmyra_graph.query.engine.OxigraphEngine` asks it for a
    query with no dataset clause (the union of the named graphs, the data's base), once,
    with the limit: up to LIMIT solutions, a LIMIT changes nothing in what is written.
    """
    kind = "solutions" if lookup.capped else "boolean"
    fmt = by_name(job.formats.get(kind, ""), RESULT_FORMATS)
    if fmt is None or fmt.oxigraph is None:
        return None
    body = io.BytesIO()
    try:
        answer = store.query(lookup.limited, use_default_graph_as_union=True, base_iri=job.base)
        answer.serialize(body, format=fmt.oxigraph)  # type: ignore[arg-type]
    except (SyntaxError, OSError, ValueError, RuntimeError):
        return None
    data = body.getvalue()
    if lookup.capped and _solutions(data, fmt) > LOOKUP_ROWS:
        return None
    return fmt.content_type, data


def _solutions(data: bytes, fmt: Format) -> int:
    """How many solutions a serialized answer holds (CSV, which the engine does not read
    back, by its records after the header: a value may hold a line break)."""
    if fmt.oxigraph == ox.QueryResultsFormat.CSV:
        return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1
    answer = ox.parse_query_results(data, format=fmt.oxigraph)  # type: ignore[arg-type]
    assert isinstance(answer, ox.QuerySolutions)  # the answer of a SELECT
    return sum(1 for _ in answer)


class LookupStore:
    """A server process's read-only handle on the store lookups are answered from, opened
    the first time it is asked for after the store exists (``serve`` writes it beside the
    dumps once per graph, after the first answer; an on-disk store served with ``--store``
    is there from the start)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._store: ox.Store | None = None
        self._lock = threading.Lock()
        self._failed_at = -RETRY_SECONDS

    def store(self) -> ox.Store | None:
        """The store, opened read-only, or None while it is not written (yet), or when it
        could not be opened in the last RETRY_SECONDS (so that a store that fails to open is
        not tried by every request, one at a time under the lock)."""
        if self._store is None and is_store(self.directory):
            if time.monotonic() - self._failed_at < RETRY_SECONDS:
                return None
            with self._lock:
                if self._store is None:
                    try:
                        self._store = open_store(self.directory)
                    except PalmyraError:
                        self._failed_at = time.monotonic()
                        return None
        return self._store
