"""The report stays the one stock pySHACL gave before validation ran each SPARQL rule once
over the whole graph: ``baseline.json`` holds the reports of commit 29b5457 (every SPARQL
constraint evaluated once per focus node) on the bundled data, on the valid base, on each
broken fixture and on all of them at once. Each result is compared whole: focus node and
its label, path, value, message, severity, source shape, constraint and the sources named.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from palmyra_graph.graph.validate import Report, validate

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
BASELINE: dict[str, dict[str, Any]] = json.loads(
    (HERE / "baseline.json").read_text(encoding="utf-8")
)
#: The broken fixtures the baseline was taken on (fixtures added since have no baseline).
BROKEN = sorted(name for name in BASELINE if name.startswith("broken-"))


def _results(report: dict[str, Any]) -> Counter[str]:
    """The report's results as a multiset, each result one canonical JSON text."""
    return Counter(
        json.dumps(result, sort_keys=True, ensure_ascii=False)
        for items in report["results"].values()
        for result in items
    )


def _assert_same(report: Report, name: str) -> None:
    expected = BASELINE[name]
    actual = report.to_dict()
    assert actual["counts"] == expected["counts"]
    assert actual["conforms"] == expected["conforms"]
    missing = _results(expected) - _results(actual)
    extra = _results(actual) - _results(expected)
    assert not missing and not extra, {"missing": list(missing), "extra": list(extra)}


def test_every_baseline_has_its_fixture() -> None:
    assert set(BASELINE) == {"bundled", "valid", "all-broken", *BROKEN}
    assert all((FIXTURES / f"{name}.ttl").is_file() for name in BROKEN)


def test_the_bundled_report_is_the_baseline(bundled_report: Report) -> None:
    _assert_same(bundled_report, "bundled")


@pytest.mark.parametrize("name", [None, *BROKEN])
def test_each_fixture_report_is_the_baseline(
    name: str | None, fixture_report: Callable[[str | None], Report]
) -> None:
    _assert_same(fixture_report(f"{name}.ttl" if name else None), name or "valid")


def test_every_broken_fixture_at_once_gives_the_baseline(
    fixture_files: Callable[[str | None], list[Path]],
) -> None:
    files = [*fixture_files(None), *(FIXTURES / f"{name}.ttl" for name in BROKEN)]
    _assert_same(validate(files, ontology=False), "all-broken")
