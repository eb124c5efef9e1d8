"""Export against the engine's own parse and serialise of the same files, in the same run.

The graph: the bundled ontology and data plus synthetic triples (``generate.py``; 10^5 by
default). For every dump format, two programs each run in a fresh process, best of
``--repeats`` runs, with the peak resident set of that process:

- ``palmyra``: ``export_files`` (parse, canonical blank nodes, sort, write), as ``export``
  and the served dumps do;
- ``pyoxigraph``: the same files parsed by pyoxigraph and written by its serialiser in that
  format (N-Triples and N-Quads lines sorted, as a deterministic dump needs), nothing else.

The goal is a ratio of at most 3 for every format. ``oxigraph convert`` of the synthetic
file to N-Triples (Rust alone, no Python) is printed for scale. Results go to
``bench/results/export.{json,md}``.

    python bench/export.py
    python bench/export.py --size 1000000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from generate import cached_file  # noqa: E402
from run import OXIGRAPH  # noqa: E402

from palmyra_graph.graph import formats, resources  # noqa: E402

GOAL = 3.0
SORTED = (formats.NTRIPLES, formats.NQUADS)


def run_palmyra(files: list[Path], fmt: formats.Format) -> int:
    from palmyra_graph.graph.export import export_files

    return len(export_files(files, fmt))


def run_pyoxigraph(files: list[Path], fmt: formats.Format) -> int:
    """Parse every file, write them in ``fmt`` (triples for triple formats, each file a named
    graph for quad formats); sort the lines of the line formats."""
    import pyoxigraph as ox

    from palmyra_graph.graph.loader import graph_name

    quads: list[Any] = []
    for path in files:
        graph = ox.NamedNode(graph_name(path))
        for quad in ox.parse(path=path, base_iri=path.resolve().as_uri()):
            if fmt in (formats.NQUADS, formats.TRIG):
                quads.append(ox.Quad(quad.subject, quad.predicate, quad.object, graph))
            else:
                quads.append(quad.triple)
    data = ox.serialize(quads, format=fmt.oxigraph) or b""  # type: ignore[arg-type]
    if fmt in SORTED:
        data = b"".join(sorted(data.splitlines(keepends=True)))
    return len(data)


RUNNERS = {"palmyra": run_palmyra, "pyoxigraph": run_pyoxigraph}


def one(program: str, fmt_name: str, repeats: int, files: list[Path]) -> dict[str, Any]:
    """Best of ``repeats`` runs of one program on one format, in this process."""
    fmt = formats.by_name(fmt_name, formats.DUMP_FORMATS)
    assert fmt is not None
    times, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        size = RUNNERS[program](files, fmt)
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": min(times), "bytes": size, "peak_mb": peak_mb}


def measure(program: str, fmt: formats.Format, repeats: int, files: list[Path]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--one", program, fmt.names[0], "--repeats", str(repeats)]
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def oxigraph_convert(synthetic: Path) -> float:
    """Seconds for the Oxigraph CLI to convert the synthetic file to N-Triples."""
    started = time.perf_counter()
    subprocess.run(
        [OXIGRAPH, "convert", "--from-file", str(synthetic), "--to-format", "nt"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| format | palmyra s | palmyra peak MB | pyoxigraph s | pyoxigraph peak MB | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, theirs = row["palmyra"], row["pyoxigraph"]
        lines.append(
            f"| {row['format']} | {ours['seconds']:.3f} | {ours['peak_mb']:.0f} "
            f"| {theirs['seconds']:.3f} | {theirs['peak_mb']:.0f} | {row['ratio']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="synthetic triples")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        files = [Path(f) for f in args.files]
        print(json.dumps(one(*args.one, args.repeats, files)))
        return 0
    synthetic = cached_file(args.size)
    files = [*resources.default_data_files(), synthetic]
    rows = []
    for fmt in formats.DUMP_FORMATS:
        row: dict[str, Any] = {"format": fmt.names[0]}
        for program in RUNNERS:
            row[program] = measure(program, fmt, args.repeats, files)
        row["ratio"] = row["palmyra"]["seconds"] / row["pyoxigraph"]["seconds"]
        rows.append(row)
        print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    convert = oxigraph_convert(synthetic)
    worst = max(row["ratio"] for row in rows)
    verdict = "met" if worst <= GOAL else "NOT met"
    summary = (
        f"\nsynthetic {args.size:,} triples + bundled; oxigraph convert to N-Triples: "
        f"{convert:.2f} s. Goal (every ratio <= {GOAL}): {verdict} (worst {worst:.2f})."
    )
    RESULTS.mkdir(exist_ok=True)
    result = {"size": args.size, "rows": rows, "oxigraph_convert_s": convert}
    (RESULTS / "export.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (RESULTS / "export.md").write_text(table(rows) + "\n" + summary + "\n", encoding="utf-8")
    print(table(rows) + "\n" + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
