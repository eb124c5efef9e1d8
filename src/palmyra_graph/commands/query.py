"""``palmyra-graph query``: run a SPARQL query on the graph, on other files, or on an endpoint.

The query comes from the argument, ``-f FILE`` or standard input. SELECT and ASK print as
an aligned table with prefixed names (or ``--format csv|tsv|json|xml``); CONSTRUCT and
DESCRIBE print as Turtle (or ``--format nt|jsonld``). Relative IRIs resolve against the data's
base IRI (``https://w3id.org/palmyra/``), as on ``/sparql``. With ``--endpoint URL`` the query
goes, as written, to a remote SPARQL 1.1 endpoint over the protocol, and the answer prints the
same way.
Exit codes: 0 success, 1 the query failed (the parser's message on stderr), 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click
import pyoxigraph as ox

from palmyra_graph.commands._options import data_option
from palmyra_graph.errors import QueryRefused
from palmyra_graph.graph import formats
from palmyra_graph.graph.formats import Format
from palmyra_graph.graph.namespaces import BASE, PREFIXES
from palmyra_graph.query.engine import OxigraphEngine, QueryResult
from palmyra_graph.query.remote import RemoteEngine
from palmyra_graph.query.results import render_table
from palmyra_graph.query.text import UPDATE_KEYWORDS, inspect

#: ``--format`` names per result kind.
TABULAR: dict[str, Format | None] = {
    "table": None,
    "csv": formats.RESULTS_CSV,
    "tsv": formats.RESULTS_TSV,
    "json": formats.RESULTS_JSON,
    "xml": formats.RESULTS_XML,
}
GRAPH: dict[str, Format] = {
    "turtle": formats.TURTLE,
    "nt": formats.NTRIPLES,
    "jsonld": formats.JSONLD,
}


@click.command("query")
@click.argument("sparql", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the query from FILE ('-' for standard input).",
)
@click.option(
    "--format",
    "format_name",
    type=click.Choice([*TABULAR, *GRAPH]),
    help="Output format; default: table (SELECT/ASK) or turtle (CONSTRUCT/DESCRIBE).",
)
@data_option("RDF file to query instead of the bundled graph (repeatable).")
@click.option("--endpoint", metavar="URL", help="Query this SPARQL 1.1 endpoint instead.")
def command(
    sparql: str | None,
    query_file: IO[str] | None,
    format_name: str | None,
    data_files: tuple[Path, ...],
    endpoint: str | None,
) -> None:
    """Run a SPARQL query (argument, -f FILE or stdin) and print its answer."""
    text = _query_text(sparql, query_file)
    info = inspect(text)
    if info.form in UPDATE_KEYWORDS:
        raise QueryRefused(f"{info.form} is a SPARQL update: the graph is read-only")
    if endpoint and data_files:
        raise click.UsageError("--endpoint and --data cannot be combined")
    engine = RemoteEngine(endpoint) if endpoint else OxigraphEngine.from_files(data_files or None)
    answer = engine.query(text, base=None if endpoint else BASE)
    _check_format(format_name, answer.kind)
    _print(answer, format_name, {**PREFIXES, **info.prefixes})


def _query_text(sparql: str | None, query_file: IO[str] | None) -> str:
    if sparql is not None and query_file is not None:
        raise click.UsageError("give the query as an argument or with -f, not both")
    if query_file is not None:
        return query_file.read()
    if sparql is not None and sparql != "-":
        return sparql
    if sys.stdin.isatty():
        raise click.UsageError("no query: give it as an argument, with -f FILE, or on stdin")
    return sys.stdin.read()


def _check_format(format_name: str | None, kind: str) -> None:
    if format_name is None:
        return
    wanted: list[str] = list(GRAPH if kind == "graph" else TABULAR)
    if format_name not in wanted:
        raise click.UsageError(
            f"--format {format_name} does not fit a {kind} result; use one of: " + ", ".join(wanted)
        )
    if kind == "boolean" and format_name in ("csv", "tsv"):
        raise click.UsageError("an ASK result has no CSV/TSV form; use table, json or xml")


def _print(answer: QueryResult, format_name: str | None, prefixes: dict[str, str]) -> None:
    out = sys.stdout.buffer
    if answer.kind == "graph":
        fmt = GRAPH[format_name or "turtle"]
        assert isinstance(fmt.oxigraph, ox.RdfFormat)
        answer.serialize(out, fmt.oxigraph)
        return
    fmt_or_table = TABULAR[format_name or "table"]
    if fmt_or_table is None:
        out.write(render_table(answer, prefixes).encode("utf-8"))
        return
    assert fmt_or_table.oxigraph is not None
    answer.serialize(out, fmt_or_table.oxigraph)
