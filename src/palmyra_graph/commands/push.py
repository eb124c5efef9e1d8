"""``palmyra-graph push --to URL [FILE…]``: load the graph into a remote store over GSP."""

from __future__ import annotations

import io
from pathlib import Path

import click

from palmyra_graph.graph import resources
from palmyra_graph.query.push import Credentials, push, staged

#: Pushes larger than this show a progress bar.
PROGRESS_BYTES = 1_000_000


@click.command("push")
@click.option(
    "--to",
    "gsp_url",
    required=True,
    help="Graph Store Protocol endpoint (Oxigraph …/store, Fuseki …/DATASET/data).",
)
@click.option(
    "--query-endpoint",
    help="SPARQL query endpoint for the count check (default: /query beside --to).",
)
@click.option("--user", envvar="PALMYRA_PUSH_USER", help="User for HTTP authentication.")
@click.option(
    "--password", envvar="PALMYRA_PUSH_PASSWORD", help="Password (or PALMYRA_PUSH_PASSWORD)."
)
@click.option("--digest", is_flag=True, help="HTTP Digest instead of Basic (Virtuoso).")
@click.option("--token", envvar="PALMYRA_PUSH_TOKEN", help="Bearer token (or PALMYRA_PUSH_TOKEN).")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def command(
    gsp_url: str,
    query_endpoint: str | None,
    user: str | None,
    password: str | None,
    digest: bool,
    token: str | None,
    files: tuple[Path, ...],
) -> None:
    """PUT each of FILES (default: the bundled ontology and data) as its own named graph.

    Every file is parsed before anything is sent; afterwards the remote's triple count of
    each graph must match. Exit 0 ok, 1 counts differ or the remote failed, 2 bad input.
    """
    if token and user:
        raise click.UsageError("give --user/--password or --token, not both")
    credentials = Credentials(user=user, password=password, token=token, digest=digest)
    paths = list(files) or resources.default_data_files()
    with staged(paths) as parts:
        total = sum(part.size for part in parts)
        with click.progressbar(
            length=total, label="pushing", file=None if total > PROGRESS_BYTES else io.StringIO()
        ) as bar:
            report = push(
                parts,
                to=gsp_url,
                query_endpoint=query_endpoint,
                credentials=credentials,
                on_bytes=bar.update,
            )
    for graph, count in report.found.items():
        click.echo(f"<{graph or 'default graph'}>: {count} triples", err=True)
    click.echo(
        f"pushed {sum(report.sent.values())} triples in {len(report.sent)} graph(s) to {gsp_url}"
    )
