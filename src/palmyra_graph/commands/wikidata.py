"""``palmyra-graph wikidata``: links, reconcile, check and quickstatements.

- ``links --format table|sssom``: every entity with its Wikidata item or "unlinked";
- ``reconcile [--accept ENTITY=QID]``: candidates for unlinked entities, with scores; writes
  a link only when a person accepts one;
- ``check``: every linked item fetched again; exit 1 when a link is wrong or stale;
- ``quickstatements``: sourced claims about linked entities as QuickStatements V1 (stdout),
  with a summary of what was skipped and why (stderr).

The API base URL comes from ``--api`` or ``PALMYRA_WIKIDATA_API``, the cache directory from
``--cache-dir`` or ``PALMYRA_WIKIDATA_CACHE`` (default: under the user's cache directory).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from palmyra_graph.commands._options import data_option
from palmyra_graph.graph import resources
from palmyra_graph.wikidata.api import DEFAULT_API, WikidataClient, default_cache_dir
from palmyra_graph.wikidata.check import check_links
from palmyra_graph.wikidata.links import Link, load_graph
from palmyra_graph.wikidata.links import links as all_links
from palmyra_graph.wikidata.quickstatements import quickstatements
from palmyra_graph.wikidata.reconcile import Candidates, Reconciler, accept, parse_acceptance
from palmyra_graph.wikidata.sssom import write_sssom

F = TypeVar("F", bound=Callable[..., Any])


def _graph_options(function: F) -> F:
    function = click.option(
        "--ontology",
        type=click.Path(path_type=Path, dir_okay=False),
        default=resources.ONTOLOGY_FILE,
        show_default="the bundled ontology",
        help="The ontology file (class and property alignments to Wikidata).",
    )(function)
    return data_option(
        "The data file to read (and, with --accept, to write the link into).", single=True
    )(function)


def _api_options(function: F) -> F:
    function = click.option(
        "--api",
        "api_url",
        envvar="PALMYRA_WIKIDATA_API",
        default=DEFAULT_API,
        show_default=True,
        help="Wikidata Action API URL (env PALMYRA_WIKIDATA_API).",
    )(function)
    function = click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        envvar="PALMYRA_WIKIDATA_CACHE",
        help="Where API answers are cached (env PALMYRA_WIKIDATA_CACHE; "
        "default ~/.cache/palmyra-graph/wikidata).",
    )(function)
    return click.option("--no-cache", is_flag=True, help="Ask the API every time.")(function)


def _client(api_url: str, cache_dir: Path | None, no_cache: bool) -> WikidataClient:
    cache = None if no_cache else (cache_dir or default_cache_dir())
    return WikidataClient(api_url, cache_dir=cache)


@click.group("wikidata")
def command() -> None:
    """Wikidata links: list, reconcile, check, and export claims as QuickStatements."""


@command.command("links")
@_graph_options
@click.option(
    "--format",
    "format_name",
    type=click.Choice(["table", "sssom"]),
    default="table",
    show_default=True,
)
def links_command(data_file: Path, ontology: Path, format_name: str) -> None:
    """Every entity with its Wikidata item, or "unlinked"."""
    found = all_links(load_graph([ontology, data_file]))
    if format_name == "sssom":
        click.echo(write_sssom(found), nl=False)
        return
    click.echo(_table(found), nl=False)


def _table(found: list[Link]) -> str:
    rows = [("entity", "label", "wikidata", "justification")]
    for link in found:
        mapping = link.mapping
        how = str(mapping.justification).rsplit("/", 1)[-1] if mapping else ""
        rows.append((f"id:{link.slug}", link.label, link.qid or "unlinked", how))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "".join(line.rstrip() + "\n" for line in lines)


@command.command("reconcile")
@_graph_options
@_api_options
@click.option("--entity", "only", multiple=True, help="Only this entity (slug; repeatable).")
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--accept", "acceptance", metavar="ENTITY=QID", help="Write this link.")
@click.option("--reviewer", help="Who accepts the link (recorded as SSSOM reviewer_label).")
def reconcile_command(
    data_file: Path,
    ontology: Path,
    api_url: str,
    cache_dir: Path | None,
    no_cache: bool,
    only: tuple[str, ...],
    limit: int,
    acceptance: str | None,
    reviewer: str | None,
) -> None:
    """Candidates for unlinked entities with scores; --accept ENTITY=QID writes one link."""
    if acceptance and resources.is_installed_copy(data_file):
        raise click.UsageError(
            f"{data_file} is the installed package's copy of the data, which --accept must not "
            "rewrite: copy it and name the copy with --data (or run from a checkout)"
        )
    graph = load_graph([ontology, data_file])
    reconciler = Reconciler(graph, _client(api_url, cache_dir, no_cache), limit=limit)
    if acceptance:
        entity, qid = parse_acceptance(acceptance)
        scored = accept(reconciler, data_file, entity, qid, reviewer=reviewer)
        click.echo(
            f"linked id:{entity.removeprefix('id:')} to {qid} (score {scored.score}) in {data_file}"
        )
        return
    for link in reconciler.unlinked(only):
        click.echo(_candidates_text(reconciler.candidates(link)))


def _candidates_text(found: Candidates) -> str:
    link = found.link
    lines = [f"id:{link.slug}  {link.label!r}"]
    if not found.fits:
        lines.append("  no candidates")
    for f in found.fits:
        lines.append(
            f"  {f.score:.3f}  {f.qid:<12} {f.item_label!r}"
            f" — {f.item_description or 'no description'}"
            f"  [name {f.name:.2f}, description {f.description:.1f}, type {f.type}]"
        )
    return "\n".join(lines)


@command.command("check")
@_graph_options
@_api_options
def check_command(
    data_file: Path, ontology: Path, api_url: str, cache_dir: Path | None, no_cache: bool
) -> None:
    """Fetch every linked item; report wrong, redirected and deleted ones (exit 1 if any)."""
    reports = check_links(load_graph([ontology, data_file]), _client(api_url, cache_dir, no_cache))
    bad = 0
    for report in reports:
        status = "ok" if report.ok else "PROBLEM"
        click.echo(f"{status:<8} id:{report.link.slug}  {report.link.qid}")
        for problem in report.problems:
            click.echo(f"         {problem.kind}: {problem.detail}")
        bad += not report.ok
    click.echo(f"{len(reports)} links checked, {bad} with problems", err=True)
    if bad:
        click.get_current_context().exit(1)


@command.command("quickstatements")
@_graph_options
def quickstatements_command(data_file: Path, ontology: Path) -> None:
    """Sourced claims about linked entities as QuickStatements V1; skips on stderr."""
    export = quickstatements(load_graph([ontology, data_file]))
    for line in export.lines:
        click.echo(line)
    click.echo(export.summary(), err=True)
