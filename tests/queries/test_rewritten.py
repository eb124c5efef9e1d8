"""The questions rewritten for large graphs (issue 16) give the answers of their earlier forms
(``tests/queries/original/NAME.rq``) on the bundled graph. Beside other offensives, the three
that now start from the article's list of references (publishers, single-source,
uncited-references) answer for it alone while their whole-graph forms answer for every
offensive and article; the others, the same questions written
for Oxigraph's planner, still answer as their originals do."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from palmyra_graph.graph import resources
from palmyra_graph.graph.resources import QUERIES_DIR
from palmyra_graph.query.engine import OxigraphEngine

CHECKOUT = Path(__file__).resolve().parents[2]  # bench/ is not in the package

ORIGINALS = sorted((Path(__file__).parent / "original").glob("*.rq"))
IDS = [q.stem for q in ORIGINALS]
#: Questions narrowed from the whole graph to the article's references (same answers on the
#: bundled data).
NARROWED = ("publishers", "single-source", "uncited-references")

OTHER_ARTICLE = """\
@prefix pal: <https://w3id.org/palmyra/ontology#> .
@prefix schema: <https://schema.org/> .
<https://w3id.org/palmyra/source/other-article> a pal:Source .
<https://w3id.org/palmyra/source/other-1> a pal:Reference ; pal:referenceNumber 1 ;
    pal:inArticle <https://w3id.org/palmyra/source/other-article> ;
    schema:headline "A reference of another article" .
"""


def solutions(engine: OxigraphEngine, query: Path) -> Counter[tuple[tuple[str, str], ...]]:
    """The solutions as a multiset of (variable, term in N-Triples) rows."""
    result = engine.query(query.read_text(encoding="utf-8"))
    assert isinstance(result.raw, ox.QuerySolutions)
    names = [v.value for v in result.raw.variables]
    return Counter(
        tuple((name, str(row[name])) for name in names if row[name] is not None)
        for row in result.raw
    )


@pytest.fixture(scope="module")
def bundled() -> OxigraphEngine:
    return OxigraphEngine.from_files()


@pytest.fixture(scope="module")
def with_others(tmp_path_factory: pytest.TempPathFactory) -> OxigraphEngine:
    """The bundled graph beside 10^4 triples of synthetic offensives (bench/generate.py),
    and another article with a reference nothing cites (every synthetic one is cited)."""
    sys.path.insert(0, str(CHECKOUT / "bench"))
    from generate import generate_file

    folder = tmp_path_factory.mktemp("synthetic")
    generate_file(folder / "synthetic.nt", 10_000, seed=0)
    (folder / "other-article.ttl").write_text(OTHER_ARTICLE, encoding="utf-8")
    files = [folder / "synthetic.nt", folder / "other-article.ttl"]
    return OxigraphEngine.from_files([*resources.default_data_files(), *files])


def test_every_original_has_its_rewrite() -> None:
    assert set(NARROWED) <= set(IDS)
    for query in ORIGINALS:
        assert (QUERIES_DIR / query.name).read_text() != query.read_text(), query.name


@pytest.mark.parametrize("original", ORIGINALS, ids=IDS)
def test_the_rewrite_gives_the_original_answers_on_the_bundled_graph(
    bundled: OxigraphEngine, original: Path
) -> None:
    expected = solutions(bundled, original)
    assert sum(expected.values()) > 0
    assert solutions(bundled, QUERIES_DIR / original.name) == expected


@pytest.mark.parametrize("original", ORIGINALS, ids=IDS)
def test_beside_other_offensives_the_rewrite_answers_for_the_offensive(
    bundled: OxigraphEngine, with_others: OxigraphEngine, original: Path
) -> None:
    rewrite = solutions(with_others, QUERIES_DIR / original.name)
    if original.stem in NARROWED:
        assert rewrite == solutions(bundled, original)
        assert sum(solutions(with_others, original).values()) > sum(rewrite.values())
    else:
        assert rewrite == solutions(with_others, original)
