"""The ``palmyra-graph`` command line: one click group, each command in its own module.

Every module in ``palmyra_graph.commands`` (but the ``_``-prefixed ones, which hold what
several commands share) exposes a click command (or group) named ``command``; it is added
here, once. Exit codes: 0 success, 1 the data does not conform or
the query failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from palmyra_graph import __version__, commands
from palmyra_graph.errors import PalmyraError


class _Group(click.Group):
    """Turns a PalmyraError from any command into its message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PalmyraError as error:
            click.echo(f"palmyra-graph: error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="palmyra-graph")
def main() -> None:
    """A sourced knowledge graph of the 2017 Palmyra offensive: validate, query, serve, export."""


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):  # shared pieces of the commands, not commands
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        main.add_command(module.command)


_register()
