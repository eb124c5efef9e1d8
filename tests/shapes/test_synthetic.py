"""``bench/generate.py`` writes data the shapes accept: many articles, each numbering its own
references from 1, beside the bundled data, with no violation."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from palmyra_graph.graph import resources
from palmyra_graph.graph.namespaces import PAL
from palmyra_graph.graph.validate import validate

GENERATE = Path(__file__).resolve().parents[2] / "bench" / "generate.py"  # the checkout's


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 7])
def test_synthetic_offensives_conform(generate: ModuleType, tmp_path: Path, seed: int) -> None:
    path = tmp_path / "synthetic.nt"
    generate.generate_file(path, 3000, seed=seed)
    report = validate([*resources.default_data_files(), path])
    assert report.to_dict()["counts"]["Violation"] == 0, [r.message for r in report.of("Violation")]
    assert report.conforms


def test_synthetic_articles_repeat_reference_numbers(generate: ModuleType) -> None:
    """The case the per-article rule is for: reference 1 in every synthetic article."""
    numbers = [o for _s, p, o in generate.triples(3000) if p == PAL.referenceNumber]
    assert len(numbers) > len(set(numbers)) > 1
