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


def test_a_cached_file_is_reused_only_by_the_generator_that_wrote_it(
    generate: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: a file cached by a generator from before the synthetic articles was
    # measured as this one's output (validate found 570,024 violations at 10^5).
    monkeypatch.setattr(generate, "CACHE", tmp_path / "cache")
    first = generate.cached_file(500, seed=3)
    assert first.read_bytes() == generate.cached_file(500, seed=3).read_bytes()
    assert first.stat().st_mtime_ns == generate.cached_file(500, seed=3).stat().st_mtime_ns
    changed = tmp_path / "generate.py"
    changed.write_text(GENERATE.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    monkeypatch.setattr(generate, "__file__", str(changed))
    second = generate.cached_file(500, seed=3)
    assert second != first and second.exists() and first.exists()
    assert generate.cached_file(500, seed=4) not in (first, second)
    assert not list((tmp_path / "cache").glob("*.partial"))
