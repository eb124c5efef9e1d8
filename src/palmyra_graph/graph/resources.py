"""Where the bundled ontology, data, shapes and queries live.

They are the repository's top-level folders: the package is used from a checkout, where
``make`` installs it editable.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

ONTOLOGY_FILE = ROOT / "ontology" / "palmyra.ttl"
DATA_FILE = ROOT / "data" / "palmyra.ttl"
SHAPES_DIR = ROOT / "shapes"
QUERIES_DIR = ROOT / "queries"


def default_data_files() -> list[Path]:
    """The files the graph is built from when the user names none: ontology, then data."""
    return [ONTOLOGY_FILE, DATA_FILE]


def shape_files() -> list[Path]:
    """Every bundled SHACL shapes file, in a stable order."""
    return sorted(SHAPES_DIR.glob("*.ttl"))
