"""``palmyra-graph load --store DIR [FILE…]``: bulk-load files into a persistent on-disk store."""

from __future__ import annotations

from pathlib import Path

import click

from palmyra_graph.graph import resources
from palmyra_graph.query.store import load_store, size_on_disk


@click.command("load")
@click.option(
    "--store",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the on-disk Oxigraph store (created; must be absent or empty).",
)
@click.option("--replace", is_flag=True, help="Replace an existing store at DIR.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def command(directory: Path, replace: bool, files: tuple[Path, ...]) -> None:
    """Bulk-load FILES (default: the bundled ontology and data), one named graph per file.

    Serve the result with `palmyra-graph serve --store DIR`. A file that does not parse
    leaves DIR as it was (exit 2).
    """
    paths = list(files) or resources.default_data_files()

    def on_file(path: Path, quads: int) -> None:
        click.echo(f"  {path}: {quads} triples", err=True)

    report = load_store(directory, paths, replace=replace, on_file=on_file)
    megabytes = size_on_disk(directory) / 1e6
    click.echo(
        f"loaded {report.triples} triples from {len(paths)} file(s) into {directory} "
        f"in {report.seconds:.2f} s ({megabytes:.1f} MB on disk)"
    )
