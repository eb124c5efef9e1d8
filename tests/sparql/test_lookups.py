"""One-pattern lookups are answered in the request thread from a read-only store; every
other query, and a lookup with too many solutions, still goes to the query workers."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask

from palmyra_graph.graph import dumpfiles
from palmyra_graph.graph.formats import RESULT_FORMATS
from palmyra_graph.query import lookup as lookup_module
from palmyra_graph.query.answer import QueryJob, answer_job
from palmyra_graph.query.engine import OxigraphEngine
from palmyra_graph.query.lookup import LOOKUP_ROWS, Lookup, LookupStore, answer_lookup, lookup_of
from palmyra_graph.query.store import load_store, open_store
from palmyra_graph.web import create_app
from palmyra_graph.workers.pool import QueryPool

from .conftest import DATA, VOCABULARY

FILES = [str(DATA), str(VOCABULARY)]
BASE = "https://w3id.org/palmyra/"
OFFENSIVE = "<https://w3id.org/palmyra/id/palmyra-offensive-2017>"
JSON = "application/sparql-results+json"

LOOKUPS = [
    f"SELECT ?p ?o WHERE {{ {OFFENSIVE} ?p ?o }}",
    f"select * {{ {OFFENSIVE} ?p ?o . }} limit 5",
    f"SELECT ?o WHERE {{ {OFFENSIVE} <http://www.w3.org/2000/01/rdf-schema#label> ?o }}",
    'SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Palmyra"@en }',
    "SELECT ?s ?o WHERE {\n\t?s <https://w3id.org/palmyra/ontology#belligerent> ?o\r\n}",
    "SELECT $s WHERE { $s ?p <https://w3id.org/palmyra/id/side-pro-government> }",
    f"ASK {{ {OFFENSIVE} ?p ?o }}",
    "ASKWHERE{?s ?p ?o}",
    "SELECT ?x WHERE { <id/palmyra-offensive-2017> ?p ?x } LIMIT 2000",
    'SELECT * { ?s ?p "2017"^^<http://www.w3.org/2001/XMLSchema#gYear> }',
]

NOT_LOOKUPS = [
    "SELECT * WHERE { ?x ?p ?x }",  # the engine would scan everything for a match
    "SELECT * WHERE { ?s ?p $s }",
    "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",  # hash-deduplicates: skips rows unseen
    "SELECT * WHERE { ?s ?p ?o } OFFSET 1000000",
    "SELECT * WHERE { ?s ?p ?o FILTER(false) }",
    "SELECT * WHERE { ?s ?p ?o . ?o ?q ?r }",
    "SELECT * WHERE { ?s ?p ?o } ORDER BY ?o",
    "PREFIX pal: <https://w3id.org/palmyra/ontology#> SELECT * WHERE { ?s pal:x ?o }",
    "BASE <http://e/> SELECT * WHERE { <a> ?p ?o }",
    "SELECT * FROM <http://e/g> WHERE { ?s ?p ?o }",
    "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o } # a comment",
    "# a comment\nSELECT * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s <http://e/p>+ ?o }",
    "SELECT * WHERE { ?s a ?o }",
    "SELECT * WHERE { _:b ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o ; ?q ?r }",
    "SELECT * WHERE { ?s ?p ?o , ?r }",
    "SELECT * WHERE { ?s ?p 'single quotes' }",
    'SELECT * WHERE { ?s ?p "an \\"escape\\"" }',
    "SELECT * WHERE { ?s ?p <http://e/\\u0041> }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT * WHERE { { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o } VALUES ?s { <http://e/a> }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "DESCRIBE <http://e/a>",
    "SELECT * WHERE { ?s ?p ?o }\u00a0",  # not the engine's whitespace
    "SELECT * WHERE { ?s ?p 42 }",
    "SELECT * WHERE { ?é ?p ?o }",
    "SELECT * WHERE { SERVICE <http://e/> { ?s ?p ?o } }",
]


@pytest.mark.parametrize("text", LOOKUPS)
def test_one_pattern_queries_are_lookups(text: str) -> None:
    assert lookup_of(text) is not None


@pytest.mark.parametrize("text", NOT_LOOKUPS)
def test_every_other_query_is_not_a_lookup(text: str) -> None:
    assert lookup_of(text) is None


def test_a_lookup_is_limited_to_one_more_solution_than_it_may_have() -> None:
    text = f"SELECT ?p ?o WHERE {{ {OFFENSIVE} ?p ?o }}"
    assert lookup_of(text) == Lookup(f"{text}\nLIMIT {LOOKUP_ROWS + 1}", capped=True)
    assert lookup_of(text + " LIMIT 5").limited == text + " LIMIT 5"  # type: ignore[union-attr]
    assert lookup_of(text + " LIMIT 99999").limited == f"{text} LIMIT {LOOKUP_ROWS + 1}"  # type: ignore[union-attr]
    ask = f"ASK {{ {OFFENSIVE} ?p ?o }}"
    assert lookup_of(ask) == Lookup(ask, capped=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ox.Store]:
    """The fixture graph as an on-disk store, opened read-only as a server process does."""
    directory = tmp_path_factory.mktemp("lookups") / "store"
    load_store(directory, [Path(f) for f in FILES])
    yield open_store(directory)


@pytest.fixture(scope="module")
def memory() -> OxigraphEngine:
    """The same graph in memory, as the query workers hold it."""
    return OxigraphEngine.from_files(FILES)


def _job(text: str, media_type: str = JSON) -> QueryJob:
    return QueryJob(text, base=BASE, formats={"solutions": media_type, "boolean": media_type})


def _worker_answer(engine: OxigraphEngine, job: QueryJob) -> tuple[str, bytes]:
    content_type, write = answer_job(engine, job)
    body = io.BytesIO()
    write(body)
    return content_type, body.getvalue()


def _rows(data: bytes, media_type: str) -> list[tuple[str, ...]]:
    """The solutions of an answer as sorted rows of strings, whatever their order."""
    fmt = next(f for f in RESULT_FORMATS if f.media_type == media_type)
    if fmt.names[0] == "csv":
        return sorted(tuple(row) for row in csv.reader(io.StringIO(data.decode("utf-8"))))
    answer = ox.parse_query_results(data, format=fmt.oxigraph)  # type: ignore[arg-type]
    if isinstance(answer, ox.QueryBoolean):
        return [(str(bool(answer)),)]
    return sorted(tuple(str(term) for term in solution) for solution in answer)


@pytest.mark.parametrize("text", LOOKUPS)
@pytest.mark.parametrize("media_type", [f.media_type for f in RESULT_FORMATS])
def test_a_lookup_answers_what_the_workers_answer(
    text: str, media_type: str, store: ox.Store, memory: OxigraphEngine
) -> None:
    lookup = lookup_of(text)
    assert lookup is not None
    if not lookup.capped and media_type not in (JSON, "application/sparql-results+xml"):
        return  # an ASK has no CSV or TSV answer
    job = _job(text, media_type)
    answered = answer_lookup(store, lookup, job)
    assert answered is not None
    expected = _worker_answer(memory, job)
    assert answered[0] == expected[0]
    rows, wanted = _rows(answered[1], media_type), _rows(expected[1], media_type)
    if module_match(text)["limit"] is None:
        assert rows == wanted
    else:  # the stores keep different orders, so a LIMIT may cut different solutions
        everything = _rows(
            _worker_answer(memory, _job(_canonical_select(text), media_type))[1], media_type
        )
        assert len(rows) == len(wanted) and set(rows) <= set(everything)


def test_the_solutions_of_a_single_answer_are_counted_in_every_format(
    tmp_path: Path,
) -> None:
    data = tmp_path / "awkward.nt"  # a value with a line break, a comma, quotes and a tab
    data.write_text('<http://e/a> <http://e/p> "one\\ntwo, \\"three\\"\\tfour" .\n')
    load_store(tmp_path / "store", [data])
    awkward = open_store(tmp_path / "store")
    for fmt in RESULT_FORMATS:
        text = "SELECT ?o WHERE { <http://e/a> <http://e/p> ?o }"
        answered = answer_lookup(awkward, lookup_of(text), _job(text, fmt.media_type))  # type: ignore[arg-type]
        assert answered is not None, fmt.names[0]
        assert len(_rows(answered[1], fmt.media_type)) == 1 + (fmt.names[0] == "csv")


def test_a_lookup_past_its_solutions_is_left_to_the_workers(tmp_path: Path) -> None:
    data = tmp_path / "many.nt"
    lines = (f"<http://e/s> <http://e/p> <http://e/o{i}> .\n" for i in range(LOOKUP_ROWS + 1))
    data.write_text("".join(lines))
    load_store(tmp_path / "store", [data])
    many = open_store(tmp_path / "store")
    for fmt in RESULT_FORMATS:
        text = "SELECT ?o WHERE { <http://e/s> <http://e/p> ?o }"
        assert answer_lookup(many, lookup_of(text), _job(text, fmt.media_type)) is None  # type: ignore[arg-type]
        limited = text + f" LIMIT {LOOKUP_ROWS}"
        assert answer_lookup(many, lookup_of(limited), _job(limited, fmt.media_type))  # type: ignore[arg-type]


def test_a_text_the_engine_refuses_is_left_to_the_workers(store: ox.Store) -> None:
    text = "SELECT ?o WHERE { <http://[::1/> ?p ?o }"  # a lookup's shape, not a valid IRI
    assert lookup_of(text) is not None
    assert answer_lookup(store, lookup_of(text), _job(text)) is None  # type: ignore[arg-type]


#: What a mutation may insert: characters and words that start comments, strings, paths,
#: groups, lists, other clauses or other terms in the engine's grammar.
MUTATIONS = [
    "#", "{", "}", ".", ";", ",", "/", "|", "^", "*", "+", "?", "!", "(", ")", "[", "]",
    '"', "'", "<", ">", "\\", ":", "_:", " a ", " FILTER(false) ", " OPTIONAL ", " UNION ",
    " GRAPH ", " MINUS ", " VALUES ", " DISTINCT ", " OFFSET 3 ", " ORDER BY ?o ", "\n",
    "\u00a0", "@en", "^^", "$", "?s", "?o", " LIMIT 1 ", " SERVICE ",
]  # fmt: skip


def _mutants(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        text = rng.choice(LOOKUPS)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(MUTATIONS) + text[at:]
        yield text


def module_match(text: str) -> re.Match[str]:
    """How the classifier read ``text``."""
    match = lookup_module._LOOKUP.fullmatch(text)
    assert match is not None
    return match


def _canonical(text: str) -> str:
    """The query the classifier read, rebuilt from its own reading: every solution of the
    pattern it saw, all variables."""
    match = module_match(text)
    form = "ASK" if match["ask"] else "SELECT *"
    return f"{form} WHERE {{ {match['s']} {match['p']} {match['o']} }}"


def _canonical_select(text: str) -> str:
    """The query without its LIMIT, the projection kept."""
    match = module_match(text)
    return text[: match.start("limit")]


def test_whatever_the_classifier_accepts_the_engine_reads_as_that_one_pattern(
    memory: OxigraphEngine,
) -> None:
    """Against the engine: a mutated lookup that is still accepted means, to the engine,
    exactly the pattern the classifier read (every solution of the canonical query, up to
    the limit); one the engine cannot parse may be accepted (the workers answer it)."""
    accepted = 0
    for text in _mutants(seed=2026, count=3000):
        if lookup_of(text) is None:
            continue
        accepted += 1
        try:
            answer = memory.store.query(text, use_default_graph_as_union=True, base_iri=BASE)
        except SyntaxError:
            continue
        canonical = memory.store.query(
            _canonical(text), use_default_graph_as_union=True, base_iri=BASE
        )
        if isinstance(answer, ox.QueryBoolean):
            assert bool(answer) == bool(canonical), text
            continue
        assert isinstance(answer, ox.QuerySolutions) and isinstance(canonical, ox.QuerySolutions)
        names = [v.value for v in answer.variables]
        everything = [{v.value: s[v] for v in canonical.variables} for s in canonical]
        rows = sorted(repr([s[n] for n in names]) for s in answer)
        possible = sorted(repr([row.get(n) for n in names]) for row in everything)
        if module_match(text)["limit"] is None:
            assert rows == possible, text
        else:
            assert set(rows) <= set(possible) and len(rows) <= len(possible), text
    assert accepted > 50  # the mutations left enough lookups to compare


def _app(lookups: Path | None) -> Flask:
    settings = {"TESTING": True, "DATA_FILES": FILES, "QUERY_WORKERS": 1}
    if lookups is not None:
        settings["LOOKUPS"] = str(lookups)
    return create_app(settings)


def _admitted(app: Flask) -> int:
    pool = app.extensions["palmyra.pool"]
    assert isinstance(pool, QueryPool)
    return int(pool.stats()["admitted"])


@pytest.fixture(scope="module")
def lookups_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("app-lookups") / "store"
    load_store(directory, [Path(f) for f in FILES])
    app = _app(directory)
    yield app
    app.extensions["palmyra.pool"].close()


def _get(app: Flask, text: str, accept: str = JSON) -> tuple[int, bytes]:
    response = app.test_client().get(
        "/sparql", query_string={"query": text}, headers={"Accept": accept}
    )
    return response.status_code, response.get_data()


def test_the_endpoint_answers_a_lookup_without_a_worker(lookups_app: Flask) -> None:
    before = _admitted(lookups_app)
    status, body = _get(lookups_app, f"SELECT ?p ?o WHERE {{ {OFFENSIVE} ?p ?o }} LIMIT 3")
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == 3
    assert _admitted(lookups_app) == before


def test_the_endpoint_sends_every_other_query_to_a_worker(lookups_app: Flask) -> None:
    before = _admitted(lookups_app)
    status, body = _get(lookups_app, f"SELECT DISTINCT ?p WHERE {{ {OFFENSIVE} ?p ?o }}")
    assert status == 200 and json.loads(body)["results"]["bindings"]
    assert _admitted(lookups_app) == before + 1


def test_a_lookup_the_engine_refuses_gets_the_workers_message(lookups_app: Flask) -> None:
    before = _admitted(lookups_app)
    status, body = _get(lookups_app, "SELECT ?o WHERE { <http://[::1/> ?p ?o }")
    assert status == 400 and b"syntax error" in body
    assert _admitted(lookups_app) == before + 1


def test_lookups_go_to_the_workers_until_the_store_is_written(tmp_path: Path) -> None:
    directory = tmp_path / "not-yet"
    app = _app(directory)
    try:
        text = f"ASK {{ {OFFENSIVE} ?p ?o }}"
        assert _get(app, text) == (200, b'{"head":{},"boolean":true}')
        assert _admitted(app) == 1
        load_store(directory, [Path(f) for f in FILES])  # as serve's writer does, later
        assert _get(app, text) == (200, b'{"head":{},"boolean":true}')
        assert _admitted(app) == 1
        assert isinstance(app.extensions["palmyra.lookups"], LookupStore)
    finally:
        app.extensions["palmyra.pool"].close()


def test_a_store_that_fails_to_open_is_not_tried_by_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for marker in ("CURRENT", "IDENTITY"):  # looks like a store, holds none
        (tmp_path / marker).write_text("not RocksDB\n")
    opened: list[Path] = []

    def counting(directory: Path) -> ox.Store:
        opened.append(directory)
        return open_store(directory)

    monkeypatch.setattr(lookup_module, "open_store", counting)
    lookups = LookupStore(tmp_path)
    assert [lookups.store() for _ in range(5)] == [None] * 5
    assert opened == [tmp_path]
    monkeypatch.setattr(lookup_module, "RETRY_SECONDS", 0.0)  # the interval is over
    assert lookups.store() is None and len(opened) == 2


def test_without_query_workers_there_is_no_lookup_store(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "DATA_FILES": FILES, "QUERY_WORKERS": 0, "LOOKUPS": str(tmp_path)}
    )
    assert app.extensions["palmyra.lookups"] is None


def test_the_writer_bulk_loads_the_lookup_store_once(tmp_path: Path) -> None:
    written = dumpfiles.write_store(FILES, directory=tmp_path, key="k" * 40)
    assert written == dumpfiles.store_path(tmp_path, "k" * 40)
    stamp = (written / "CURRENT").stat().st_mtime_ns
    assert dumpfiles.write_store(FILES, directory=tmp_path, key="k" * 40) == written
    assert (written / "CURRENT").stat().st_mtime_ns == stamp
    assert len(open_store(written)) == len(OxigraphEngine.from_files(FILES).store)
