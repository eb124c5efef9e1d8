"""``palmyra-graph export``: the whole graph (ontology and data) in one RDF format.

Exit codes: 0 written, 2 a file cannot be read or parsed, or the output cannot be written
(nothing is written then: the output file appears complete or not at all).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from palmyra_graph.commands._options import data_option
from palmyra_graph.errors import OutputError
from palmyra_graph.graph.export import export, export_format
from palmyra_graph.graph.loader import load

#: ``--format`` choices, each a name ``formats.by_name`` knows.
CHOICES = ("turtle", "jsonld", "nt", "nq", "trig", "rdfxml")


@click.command("export")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(CHOICES),
    default="turtle",
    show_default=True,
    help="nq and trig keep the named graphs (graph:ontology, graph:data); the others merge.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (replaced only when the export succeeds); default: standard output.",
)
@data_option("RDF file to export (repeatable); default: the bundled ontology and data.")
def command(format_name: str, output: Path | None, data_files: tuple[Path, ...]) -> None:
    """Write the graph as Turtle, JSON-LD, N-Triples, N-Quads, TriG or RDF/XML.

    The output is deterministic: the same files give the same bytes, run after run.
    """
    data = export(load(data_files or None), export_format(format_name))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomically(output, data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    Raises:
        StorageError: the directory cannot be written (exit code 2 for a usage problem).
    """
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", where=str(path)) from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a dump is not
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror}", where=str(path)) from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
