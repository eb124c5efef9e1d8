"""How long the query guard takes to read a text, for adversarial and typical shapes.

``check_query`` reads every text an endpoint receives before the engine does, so it must be
linear in the length of the text whatever the text is. Each shape is grown to 8 KB, 32 KB,
64 KB and 1 MB; the time is the best of three runs of ``check_query`` (one run past a
second), and a run that passes ``--timeout`` seconds is stopped and printed as such. Then
the bundled ``queries/*.rq``, each checked once.

    python bench/guard.py                  # every shape, 8 KB to 1 MB
    python bench/guard.py --sizes 1048576 --shape a.a.a.

Run it from another checkout (``PYTHONPATH=…/src``) to compare two versions of the guard.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from palmyra_graph.errors import PalmyraError
from palmyra_graph.query import text as sparql_text
from palmyra_graph.query.guard import check_query

HERE = Path(__file__).resolve().parent
QUERIES = HERE.parent / "queries"
SIZES = (8 * 1024, 32 * 1024, 64 * 1024, 1024 * 1024)
WIKIDATA = "http://www.wikidata.org/entity/"


def repeat(head: str, unit: str, tail: str, size: int) -> str:
    """``head``, then ``unit`` repeated until the text is ``size`` characters, then ``tail``."""
    count = max(1, (size - len(head) - len(tail)) // len(unit))
    return head + unit * count + tail


def values_of_iris(size: int) -> str:
    rows = []
    total, i = 0, 0
    while total < size:
        rows.append(f"<{WIKIDATA}Q{i}>")
        total += len(rows[-1]) + 1
        i += 1
    return "SELECT ?item ?label WHERE { VALUES ?item { " + " ".join(rows) + " } ?item ?p ?label }"


def triple_patterns(size: int) -> str:
    unit = (
        '  ?s{i} rdfs:label "Palmyra {i}"@en ; pal:startDate ?d{i} .\n'
        '  FILTER(?d{i} >= "2017-01-13"^^xsd:date && ?d{i} != ?s{i}) # check {i}\n'
    )
    head = (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        "PREFIX pal: <https://w3id.org/palmyra/ontology#>\nSELECT * WHERE {\n"
    )
    body, i = [], 0
    while len(head) + sum(map(len, body)) < size:
        body.append(unit.format(i=i))
        i += 1
    return head + "".join(body) + "}"


def bundled_queries(size: int) -> str:
    texts = [path.read_text(encoding="utf-8") for path in sorted(QUERIES.glob("*.rq"))]
    bodies = [text[text.index("{") : text.rindex("}") + 1] for text in texts]
    head = texts[0][: texts[0].index("SELECT")] + "SELECT * WHERE { "
    return repeat(head, " UNION ".join(bodies) + " UNION ", "{} }", size)


SHAPES: dict[str, Callable[[int], str]] = {
    "a.a.a.": lambda n: repeat("SELECT * FROM <x> WHERE { ", "a.", "}", n),
    "service words": lambda n: repeat("SELECT * WHERE { ", "service ", "}", n),
    "servicesservice…": lambda n: repeat("SELECT * WHERE { ?s ?p ", "service", " }", n),
    "SERVICE <iri> {}": lambda n: repeat(
        "SELECT * WHERE { ", "SERVICE SILENT <http://127.0.0.1:9/> {} ", "}", n
    ),
    "#service comment": lambda n: repeat("SELECT * WHERE { # ", "#service ", "\n}", n),
    "#service lines": lambda n: repeat("SELECT * WHERE {\n", "#service <x> {\n", "}", n),
    "unclosed string": lambda n: repeat('SELECT * WHERE { BIND("', "service (", "", n),
    "unclosed long": lambda n: repeat("SELECT * WHERE { BIND('''", "service\n'' (", "", n),
    "unclosed IRI": lambda n: repeat("SELECT * WHERE { ?s ?p <http://example.org/", "a/", "", n),
    "unclosed IRI of service:": lambda n: repeat("SELECT * WHERE { ?s ?p <", "aservice:", "", n),
    "IRI of service:": lambda n: repeat("SELECT * WHERE { ?s ?p <", "aservice:", "> }", n),
    "<<<<": lambda n: repeat("SELECT * WHERE { FILTER(", "<", "", n),
    "deep (((": lambda n: repeat("SELECT * WHERE { FILTER(", "(", "", n),
    "()()()": lambda n: repeat("SELECT * WHERE { FILTER(", "()", ")}", n),
    "(+)(+)": lambda n: repeat("SELECT * WHERE { FILTER(", "(+)", ")}", n),
    "+1+1": lambda n: repeat("SELECT * WHERE { BIND(1", "+1", " AS ?x)}", n),
    'tiny "strings"': lambda n: repeat("SELECT * WHERE { VALUES ?x { ", '"a" ', "} }", n),
    "long projection (((": lambda n: repeat("SELECT ", "(", " {}", n),
    "DESCRIBE ?a ?a ?a": lambda n: repeat("DESCRIBE ", "?a ", "", n),
    "typical: VALUES of IRIs": values_of_iris,
    "typical: triple patterns": triple_patterns,
    "typical: queries/*.rq": bundled_queries,
}


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_once(text: str) -> float:
    cache_clear = getattr(sparql_text.inspect, "cache_clear", None)
    if cache_clear:  # the guard before issue 17 cached whole texts
        cache_clear()
    start = time.perf_counter()
    with contextlib.suppress(PalmyraError):  # a refusal is an answer too
        check_query(text)
    return time.perf_counter() - start


def best_time(text: str, timeout: float) -> str:
    try:
        with time_limit(timeout):
            times = [check_once(text)]
            while len(times) < 3 and times[-1] < 1:
                times.append(check_once(text))
    except TimeoutError:
        return f"> {timeout:g} s"
    return f"{min(times):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, action="append", help="text sizes in characters")
    parser.add_argument("--shape", action="append", choices=list(SHAPES))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    args = parser.parse_args()
    sizes = args.sizes or list(SIZES)
    labels = [f"{size // 1024} KB" if size < 1 << 20 else f"{size >> 20} MB" for size in sizes]
    print(f"{'shape':28}" + "".join(f"{label:>12}" for label in labels))
    for name in args.shape or list(SHAPES):
        cells = [best_time(SHAPES[name](size), args.timeout) for size in sizes]
        print(f"{name:28}" + "".join(f"{cell:>12}" for cell in cells), flush=True)
    print()
    for path in sorted(QUERIES.glob("*.rq")) + sorted((QUERIES / "federated").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        micros = min(check_once(text) for _ in range(20)) * 1e6
        print(f"{path.relative_to(QUERIES)!s:40} {len(text):>6} chars {micros:>8.0f} µs")


if __name__ == "__main__":
    main()
