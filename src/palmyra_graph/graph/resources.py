"""The bundled ontology, data, shapes and queries, read from the installed package.

Each has one source, the repository's top-level folder (``ontology/``, ``data/``,
``shapes/``, ``queries/``). The wheel and the sdist carry them as ``palmyra_graph/bundled/…``
(hatch's ``force-include`` in ``pyproject.toml``); in a checkout,
``src/palmyra_graph/bundled/`` holds symbolic links to those folders, so an editable install
reads the checkout's own files. Either way they are found with :mod:`importlib.resources`,
relative to the package, never to the working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _bundled() -> Path:
    """The package's ``bundled`` folder, as a real directory (the loaders need file paths)."""
    root = files("palmyra_graph").joinpath("bundled")
    if not isinstance(root, Path) or not root.is_dir():
        raise ImportError(
            f"palmyra_graph's bundled files are missing ({root}): install the package from "
            "its wheel or sdist, unzipped (pip does), or from a checkout with `make`"
        )
    return root


#: Where the bundled files are; symbolic links into the checkout in an editable install.
BUNDLED = _bundled()

# Resolved, so that a checkout names its own files (``…/data/palmyra.ttl``), as users see them.
ONTOLOGY_FILE = (BUNDLED / "ontology" / "palmyra.ttl").resolve()
CONTEXT_FILE = (BUNDLED / "ontology" / "context.jsonld").resolve()
DATA_FILE = (BUNDLED / "data" / "palmyra.ttl").resolve()
SHAPES_DIR = (BUNDLED / "shapes").resolve()
QUERIES_DIR = (BUNDLED / "queries").resolve()


def default_data_files() -> list[Path]:
    """The files the graph is built from when the user names none: ontology, then data."""
    return [ONTOLOGY_FILE, DATA_FILE]


def shape_files() -> list[Path]:
    """Every bundled SHACL shapes file, in a stable order."""
    return sorted(SHAPES_DIR.glob("*.ttl"))


def is_installed_copy(path: Path) -> bool:
    """Whether ``path`` is one of the files an installed package carries (not a checkout's
    file): rewriting it would change the installation, and a reinstall would lose it."""
    return path.resolve().is_relative_to(BUNDLED.resolve())
