"""Options more than one command takes, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from palmyra_graph.graph import resources

F = TypeVar("F", bound=Callable[..., Any])


def data_option(help: str, *, single: bool = False) -> Callable[[F], F]:
    """``--data FILE``: RDF files to use instead of the bundled ontology and data (repeatable,
    as ``data_files``), or with ``single`` the one data file to read and write (``data_file``,
    default the bundled ``data/palmyra.ttl``)."""
    if single:
        return click.option(
            "--data",
            "data_file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=resources.DATA_FILE,
            show_default="the bundled data/palmyra.ttl",
            help=help,
        )
    return click.option(
        "--data", "data_files", multiple=True, type=click.Path(path_type=Path), help=help
    )
