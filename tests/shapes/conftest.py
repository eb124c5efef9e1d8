"""Fixtures for the shape tests: the broken-data fixtures and the bundled data's report.

Each ``fixtures/broken-*.ttl`` is loaded on top of ``fixtures/valid.ttl`` (which breaks no
rule) and ``fixtures/vocabulary.ttl`` (the slice of the ontology the shapes read), so a
fixture's results are exactly what its one addition breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from palmyra_graph.graph.validate import Report, validate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def fixture_files() -> Callable[[str | None], list[Path]]:
    """The files of one fixture: vocabulary, valid base, and the broken file (if named)."""

    def files(name: str | None) -> list[Path]:
        broken = [FIXTURES / name] if name else []
        return [FIXTURES / "vocabulary.ttl", FIXTURES / "valid.ttl", *broken]

    return files


@pytest.fixture(scope="session")
def fixture_report(
    fixture_files: Callable[[str | None], list[Path]],
) -> Callable[[str | None], Report]:
    """Validate one fixture (None: the valid base alone) with the bundled shapes."""

    def report(name: str | None) -> Report:
        return validate(fixture_files(name), ontology=False)

    return report


@pytest.fixture(scope="session")
def bundled_report() -> Report:
    """The report on the bundled ontology and data, with the bundled shapes."""
    return validate()
