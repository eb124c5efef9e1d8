"""One graph per server, measured against Oxigraph's own in-memory server in one run.

    python bench/serving.py [--triples 1000000] [--duration 5]

The bundled graph plus ``bench/generate.py`` synthetic offensives up to ``--triples``, served
by ``palmyra-graph serve`` (defaults, ``--query-timeout 3``) and by ``oxigraph serve`` in
memory (loaded over the Graph Store Protocol), one after the other. For each, issue 15's
five measures:

1. start-up: seconds from the process start to the first answered query (Oxigraph: to the
   end of its load, which is what it needs before it answers);
2. memory: PSS of the server and all its processes while the dumps are written (a child
   that writes each dump file once and exits: its time and peak are reported apart), after
   the start, after every query of ``queries/`` and the light mix have run (workers copy
   what they read), and once 180,000 more distinct lookups have filled the answer caches
   (each server process keeps up to ``--cache-bytes``);
3. recovery: 8 runaway queries at once from 4 addresses, stopped at the budget (503); then
   the wait of the next quick queries (what a replacement costs);
4. distinct light queries, no two alike (entity lookups of distinct subjects, so no answer
   cache helps): requests a second with the time budget, and with ``--query-workers 0``;
   with the time budget they are one-pattern lookups answered in the server processes
   (``palmyra_graph.query.lookup``), so the same kind of lookups wrapped in a group (which
   the workers answer) are measured too: the price of the hop. The ``--query-workers 0``
   server runs beside the measured one, and the three light measures alternate in bursts
   (their medians), so that a slow spell of the shared machine does not fall on one alone;
5. a repeated engine-bound query (the aggregate of ``bench/run.py``): median latency of 20.

Prints a table with the ratios the issue sets goals for, and writes
``bench/results/serving.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import cached_file  # noqa: E402
from loadgen import closed_loop, get_request  # noqa: E402
from run import QUERIES, _memory_mb, oxigraph_memory, palmyra  # noqa: E402

from palmyra_graph.graph.resources import QUERIES_DIR, default_data_files  # noqa: E402
from palmyra_graph.testing import stop_process  # noqa: E402

JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z . ?d ?t ?w }"
QUICK = "ASK { ?s ?p ?o }"


def ask(url: str, query: str, *, timeout: float = 60.0, source: str | None = None) -> int:
    """One GET of ``query``; its status."""
    session = requests.Session()
    if source is not None:
        adapter = requests.adapters.HTTPAdapter()
        adapter.init_poolmanager(1, 1, source_address=(source, 0))
        session.mount("http://", adapter)
    answer = session.get(url, params={"query": query}, headers={"Accept": JSON}, timeout=timeout)
    answer.content  # noqa: B018  # read whole
    return answer.status_code


def first_answer(url: str, started: float, process: subprocess.Popen[bytes]) -> float:
    """Seconds from ``started`` to the first 200 to a trivial query."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if ask(url, QUICK, timeout=5) == 200:
                return time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)


def every_question(url: str) -> int:
    """Ask every question of queries/; how many were not answered whole (past the budget)."""
    unanswered = 0
    for path in sorted(QUERIES_DIR.glob("*.rq")):
        try:
            unanswered += ask(url, path.read_text(encoding="utf-8"), timeout=120) != 200
        except requests.RequestException:  # stopped at the budget while it was written
            unanswered += 1
    return unanswered


def distinct_lookups(data: Path, count: int) -> list[str]:
    """``count`` distinct lookups in the synthetic data: the values of one property of one
    subject (each pair once, so no two queries are alike and no answer cache helps; 827,938
    pairs at 10^6, of 1 to 4 values each)."""
    pairs: dict[tuple[str, str], None] = {}
    with data.open(encoding="utf-8") as lines:
        for line in lines:
            subject, predicate, _ = line.split(" ", 2)
            pairs[(subject, predicate)] = None
            if len(pairs) == count:
                break
    if len(pairs) < count:
        raise SystemExit(f"{data} holds {len(pairs):,} subject-property pairs, not {count:,}")
    return [f"SELECT ?o WHERE {{ {s} {p} ?o }}" for s, p in pairs]


def throughput(
    url: str, queries: list[str], *, connections: int, duration: float, once: bool = False
) -> float:
    """Requests a second over ``duration`` s, each connection sending its own share of
    ``queries`` in turn (with ``once``, each at most once), from its own address."""
    host, port, _ = get_request(url, QUICK, JSON)
    done: list[int] = []

    async def drive() -> None:
        stop_at = time.perf_counter() + duration
        shares = [queries[i::connections] for i in range(connections)]

        def record(status: int, seconds: float, said: bytes) -> None:
            if status == 200:
                done.append(1)

        await asyncio.gather(
            *(
                closed_loop(
                    host,
                    port,
                    [get_request(url, q, JSON)[2] for q in share],
                    stop_at,
                    record,
                    local_addr=(f"127.0.3.{i + 1}", 0),
                    once=once,
                )
                for i, share in enumerate(shares)
            )
        )

    asyncio.run(drive())
    return len(done) / duration


def recovery(url: str) -> float:
    """8 runaways at once from 4 addresses (2 each, the per-client cap), stopped at the
    budget; then the slowest of 5 quick queries asked right after, in seconds."""
    threads = [
        threading.Thread(target=ask, args=(url, RUNAWAY), kwargs={"source": f"127.0.4.{i // 2}"})
        for i in range(2, 10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waits = []
    for _ in range(5):
        started = time.perf_counter()
        assert ask(url, QUICK) == 200
        waits.append(time.perf_counter() - started)
    return max(waits)


def repeated(url: str, query: str) -> float:
    """Median milliseconds of 20 runs of ``query`` (after a first one)."""
    ask(url, query, timeout=300)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        ask(url, query, timeout=300)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def dump_writer(pid: int) -> tuple[float, float]:
    """Wait for the child that writes the dumps at start-up (it exits when done): its
    seconds, from now, and its peak PSS in MB, sampled every 0.5 s."""
    import psutil

    started, peak = time.perf_counter(), 0.0
    while True:
        writers = [
            child
            for child in psutil.Process(pid).children(recursive=True)
            if "palmyra_graph.graph.dumpfiles" in " ".join(_cmdline(child))
        ]
        if not writers:
            return time.perf_counter() - started, peak
        peak = max(peak, _memory_mb(writers[0].pid))
        time.sleep(0.5)


def _cmdline(process: Any) -> list[str]:
    import psutil

    try:
        return list(process.cmdline())
    except psutil.Error:  # gone meanwhile
        return []


#: Rounds of the alternated light-query measures (each target gets one burst per round).
ROUNDS = 4
#: Distinct lookups of the light measures, and after them to fill the answer caches (at
#: 10^6 each answer is kept at about 600 bytes: 90,000 for each of the two server
#: processes are over three times the default 16 MiB), sent within FILLING_S at most.
LIGHT_LOOKUPS, FILLING_LOOKUPS, FILLING_S = 120_000, 180_000, 120.0


def measure_palmyra(
    files: list[Path],
    lookups: list[str],
    duration: float,
    dumps: Path,
    bare: str,
    filling: list[str],
) -> dict[str, float]:
    """Issue 15's measures of ``serve`` with its defaults; the light queries alternated, in
    ROUNDS bursts, with the same kind of lookups sent to ``bare`` (``--query-workers 0``,
    running beside it and idle otherwise), so that a slow spell of the machine falls on
    both: the medians of the bursts, and their ratio. Last, the PSS once ``filling`` (more
    distinct lookups, each answer kept) has filled the server processes' answer caches."""
    server = palmyra(files, 2)
    server.command += ["--query-timeout", "3", "--dumps-dir", str(dumps)]
    started = time.perf_counter()
    process = subprocess.Popen(server.command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        result = {"first_answer_s": first_answer(server.url, started, process)}
        result["pss_writing_mb"] = _memory_mb(process.pid)
        result["dumps_s"], result["dumps_peak_mb"] = dump_writer(process.pid)
        result["pss_start_mb"] = _memory_mb(process.pid)
        result["questions_unanswered"] = every_question(server.url)
        third = len(lookups) // 3
        # the same kind of lookups in a group of their own: not one-pattern lookups, so the
        # workers answer them (the price of the hop, which the plain lookups skip)
        grouped = [q.replace("{", "{ {", 1) + " }" for q in lookups[2 * third :]]
        targets = [(server.url, lookups[:third]), (bare, lookups[third : 2 * third])]
        rates = alternated([*targets, (server.url, grouped)], duration=duration)
        result["light_rps"], result["bare_rps"], result["light_worker_rps"] = rates
        result["pss_after_mb"] = _memory_mb(process.pid)
        result["recovery_s"] = recovery(server.url)
        result["repeated_ms"] = repeated(server.url, QUERIES["aggregate"][0])
        result["pss_end_mb"] = _memory_mb(process.pid)
        throughput(server.url, filling, connections=8, duration=FILLING_S, once=True)
        result["pss_full_mb"] = _memory_mb(process.pid)
    finally:
        stop_process(process, timeout=30)
    return result


def alternated(targets: list[tuple[str, list[str]]], *, duration: float) -> list[float]:
    """Requests a second at each target (a URL and its distinct queries), ROUNDS bursts of
    ``duration`` / 2 each, taken in turn: the median burst of each."""
    rates: list[list[float]] = [[] for _ in targets]
    for round_ in range(ROUNDS):
        for rate, (url, queries) in zip(rates, targets, strict=True):
            share = queries[round_::ROUNDS]  # a query is never sent twice
            rate.append(throughput(url, share, connections=8, duration=duration / 2))
    return [statistics.median(rate) for rate in rates]


@contextlib.contextmanager
def without_workers(files: list[Path], dumps: Path) -> Iterator[str]:
    """``serve --query-workers 0`` on ``files``, answering, its dumps written: its URL."""
    server = palmyra(files, 2)
    server.command += ["--query-workers", "0", "--dumps-dir", str(dumps)]
    process = subprocess.Popen(server.command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        first_answer(server.url, time.perf_counter(), process)
        dump_writer(process.pid)
        yield server.url
    finally:
        stop_process(process, timeout=30)


def measure_oxigraph(files: list[Path], lookups: list[str], duration: float) -> dict[str, float]:
    server = oxigraph_memory(files)
    started = time.perf_counter()
    process = subprocess.Popen(server.command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        port = urlsplit(server.url).port
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        up = time.perf_counter()
        assert server.load is not None
        server.load()
        result = {
            "load_s": time.perf_counter() - up,
            "first_answer_s": time.perf_counter() - started,
        }
        result["pss_start_mb"] = _memory_mb(process.pid)
        result["questions_unanswered"] = every_question(server.url)
        result["light_rps"] = throughput(server.url, lookups, connections=8, duration=duration)
        result["pss_after_mb"] = _memory_mb(process.pid)
        result["repeated_ms"] = repeated(server.url, QUERIES["aggregate"][0])
    finally:
        stop_process(process, timeout=30)
    return result


def report(triples: int, ours: dict[str, float], bare: float, peer: dict[str, float]) -> str:
    rows = [
        ("first answer (s)", ours["first_answer_s"], peer["load_s"], "≤ 2× Oxigraph's load"),
        ("PSS while the dumps are written (MB)", ours["pss_writing_mb"], peer["pss_start_mb"], ""),
        ("PSS after start (MB)", ours["pss_start_mb"], peer["pss_start_mb"], ""),
        ("PSS after the questions (MB)", ours["pss_after_mb"], peer["pss_after_mb"], "≤ 2×"),
        ("PSS at the end (MB)", ours["pss_end_mb"], peer["pss_after_mb"], "≤ 2×"),
        ("PSS, answer caches full (MB)", ours["pss_full_mb"], peer["pss_after_mb"], "≤ 2×"),
        ("distinct light queries (req/s)", ours["light_rps"], peer["light_rps"], ""),
        ("repeated aggregate (ms)", ours["repeated_ms"], peer["repeated_ms"], "≤ 0.2×"),
    ]
    lines = [
        f"# One graph per server at {triples:,} triples",
        "",
        "| measure | palmyra | Oxigraph in memory | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {a:.2f} | {b:.2f} | {a / b:.2f} | {goal} |" for name, a, b, goal in rows]
    lines += [
        "",
        f"- questions of queries/ not answered within the budget (3 s): palmyra "
        f"{ours['questions_unanswered']:.0f}, Oxigraph {peer['questions_unanswered']:.0f}",
        f"- the dumps, written once at start-up by a child process that then exits: "
        f"{ours['dumps_s']:.1f} s after the first answer, its peak PSS "
        f"{ours['dumps_peak_mb']:.0f} MB",
        f"- next quick query after 8 runaways were stopped: {ours['recovery_s']:.3f} s "
        "(goal ≤ 0.5 s)",
        f"- distinct light queries with the time budget {ours['light_rps']:.0f} req/s, "
        f"without (`--query-workers 0`) {bare:.0f}: {ours['light_rps'] / bare:.2f}× "
        "(goal ≥ 0.75×); the same lookups in a group of their own, answered by the workers, "
        f"{ours['light_worker_rps']:.0f} req/s ({ours['light_worker_rps'] / bare:.2f}×)",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    data = cached_file(args.triples)
    files = [*default_data_files(), data]
    every = distinct_lookups(data, LIGHT_LOOKUPS + FILLING_LOOKUPS)
    lookups, filling = every[:LIGHT_LOOKUPS], every[LIGHT_LOOKUPS:]
    with tempfile.TemporaryDirectory(prefix="serving-dumps-") as dumps:  # written anew
        with without_workers(files, Path(dumps) / "bare") as bare_url:
            ours = measure_palmyra(
                files, lookups, args.duration, Path(dumps) / "ours", bare_url, filling
            )
        bare = ours["bare_rps"]
    peer = measure_oxigraph([data, *default_data_files()], lookups, args.duration)
    text = report(args.triples, ours, bare, peer)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving.md").write_text(text, encoding="utf-8")
    figures = {"palmyra": ours, "palmyra_without_workers_rps": bare, "oxigraph": peer}
    (args.out / "serving.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
