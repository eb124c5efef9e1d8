"""What the connection gate costs and what it buys, in one run.

    python bench/gate.py [--duration 5] [--rounds 2] [--connections 8] [--hostile 1000]

Serves the bundled graph twice, as ``serve`` configures granian (``--workers`` workers, 4
threads and 256 connection permits each, 10 s header timeout): granian alone on a loopback
port, and granian on a Unix socket with ``palmyra_graph.server.gate`` in front on another port.

1. Cost: a light query (the entity lookup of ``bench/run.py``) driven by the same closed-loop
   client (``bench/loadgen.py``: wrk when installed, else asyncio) with ``--connections``
   keep-alive connections, ``--duration`` s per run, the two alternated ``--rounds`` times.
   Prints req/s, p50 and p99 of each run and the ratio of the medians (gate / direct).
2. What it buys: for each kind of hostile connection (connect and send nothing; slowloris, a
   head that never ends; idle keep-alive, a request, 2 s for its answer, then nothing),
   ``--hostile`` connections are opened from 127.0.0.2 and a new client's wait for the light
   query is measured from 127.0.0.3 (given up at 20 s). The gate's per-address cap is lifted
   for this (with the default of 64, all but 64 would be refused at once with 429), so what is
   measured is the gate holding them.

Results go to ``bench/results/gate.md`` and ``gate.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
from run import QUERIES  # noqa: E402

from palmyra_graph.server.gate import GateSettings  # noqa: E402
from palmyra_graph.testing import GateProcess, GranianOnSocket, free_port  # noqa: E402

QUERY = QUERIES["entity lookup"][0]
TARGET = "/sparql?" + urlencode({"query": QUERY})
HOSTILE_ADDRESS, PROBE_ADDRESS = "127.0.0.2", "127.0.0.3"
PROBE_TIMEOUT = 20.0
KINDS = ("connect and send nothing", "slowloris", "idle keep-alive")


def granian_options(workers: int) -> list[str]:
    """granian as ``serve`` runs it (commands/serve.py)."""
    return [
        "--workers",
        str(workers),
        "--blocking-threads",
        "4",
        "--backpressure",
        "256",
        "--http1-header-read-timeout",
        "10000",
        "--http1-buffer-size",
        str(64 * 1024),
    ]


@contextmanager
def granian_direct(workers: int) -> Iterator[str]:
    """granian alone on a loopback port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--no-ws"]
    command += ["--http", "1", "--log-level", "warning", "--no-access-log"]
    command += ["--host", "127.0.0.1", "--port", str(port), *granian_options(workers)]
    process = subprocess.Popen([*command, "palmyra_graph.web:create_app"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe(port, timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def granian_gated(workers: int, lifted: int) -> Iterator[str]:
    """granian on a Unix socket with the gate in front, its per-address cap raised to ``lifted``
    (every client here is on one address); yields the gate's base URL."""
    with tempfile.TemporaryDirectory() as folder:
        server = GranianOnSocket(
            "palmyra_graph.web:create_app",
            Path(folder) / "granian.sock",
            factory=True,
            options=granian_options(workers),
        )
        gate = GateProcess(server.path, GateSettings(max_per_address=lifted))
        try:
            probe(gate.port, timeout=30)
            yield gate.url
        finally:
            gate.stop()
            server.stop()


def probe(port: int, *, timeout: float = PROBE_TIMEOUT) -> float:
    """Seconds a new client from PROBE_ADDRESS waits for the light query's answer."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(PROBE_ADDRESS, 0)
    )
    try:
        connection.request("GET", TARGET, headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise OSError(f"probe answered {response.status}")
    finally:
        connection.close()
    return time.monotonic() - started


def throughput(url: str, args: argparse.Namespace) -> dict[str, float | None]:
    result = loadgen.run(
        url + "/sparql", QUERY, connections=args.connections, duration=args.duration
    )
    p50, p99 = result.percentile(0.5), result.percentile(0.99)
    return {
        "rps": result.throughput,
        "p50_ms": p50 * 1000 if p50 is not None else None,
        "p99_ms": p99 * 1000 if p99 is not None else None,
        "errors": result.errors,
        "client": result.client,  # type: ignore[dict-item]
    }


def open_hostile(kind: str, port: int, count: int) -> list[socket.socket]:
    """``count`` connections from HOSTILE_ADDRESS, left as ``kind`` says."""
    hostile = []
    for _ in range(count):
        sock = socket.socket()
        sock.settimeout(2)
        sock.bind((HOSTILE_ADDRESS, 0))
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        hostile.append(sock)
        if kind == "slowloris":
            sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        elif kind == "idle keep-alive":
            sock.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n")
    if kind == "idle keep-alive":  # 2 s for the answers, then nothing more is sent
        deadline = time.monotonic() + 2
        for sock in hostile:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            with contextlib.suppress(OSError):
                sock.recv(65536)  # the small answer, whole in one read
    return hostile


def under_attack(kind: str, port: int, count: int) -> dict[str, object]:
    hostile = open_hostile(kind, port, count)
    try:
        try:
            wait: float | None = probe(port)
        except OSError:
            wait = None  # no answer within PROBE_TIMEOUT
        return {"kind": kind, "open": len(hostile), "probe_s": wait}
    finally:
        for sock in hostile:
            sock.close()
        recovered = time.monotonic() + 30
        while time.monotonic() < recovered:
            try:
                probe(port, timeout=5)
                break
            except OSError:
                time.sleep(0.5)


def report(results: dict[str, object]) -> str:
    lines = ["# The connection gate: cost and protection", ""]
    lines += ["| run | server | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for row in results["throughput"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {row['round']} | {row['server']} | {row['rps']:.0f} | "
            f"{_ms(row['p50_ms'])} | {_ms(row['p99_ms'])} |"
        )
    lines += ["", f"Ratio gate / direct (median req/s): {results['ratio']:.3f}"]
    before, after = results["load_average"]  # type: ignore[misc]
    lines += [f"Load average (1 min) before and after: {before:.2f}, {after:.2f}", ""]
    lines += ["| hostile connections | server | opened | new client waits |", "|---|---|---|---|"]
    for row in results["hostile"]:  # type: ignore[attr-defined]
        wait = "no answer in 20 s" if row["probe_s"] is None else f"{row['probe_s']:.3f} s"
        lines.append(f"| {row['kind']} | {row['server']} | {row['open']} | {wait} |")
    return "\n".join(lines) + "\n"


def _ms(value: object) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hostile", type=int, default=1000, help="0 skips that part")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 3 * args.hostile + 256)), hard))
    rows: list[dict[str, object]] = []
    hostile_rows: list[dict[str, object]] = []
    load_before = os.getloadavg()[0]  # other jobs on the machine skew a 2-core benchmark
    with (
        granian_direct(args.workers) as direct,
        granian_gated(args.workers, max(args.hostile, args.connections) + 16) as gated,
    ):
        servers = {"granian direct": direct, "gate + granian": gated}
        for url in servers.values():  # every granian worker starts its query workers
            loadgen.run(url + "/sparql", QUERY, connections=16, duration=2.0, use_wrk=False)
        for round_ in range(1, args.rounds + 1):
            for name, url in servers.items():
                row = {"round": round_, "server": name, **throughput(url, args)}
                print(row, flush=True)
                rows.append(row)
        for kind in KINDS if args.hostile else ():
            for name, url in servers.items():
                port = int(url.rsplit(":", 1)[1])
                row = {"server": name, **under_attack(kind, port, args.hostile)}
                print(row, flush=True)
                hostile_rows.append(row)
    rps = {
        name: statistics.median(float(r["rps"]) for r in rows if r["server"] == name)  # type: ignore[arg-type]
        for name in ("granian direct", "gate + granian")
    }
    results = {
        "throughput": rows,
        "ratio": rps["gate + granian"] / rps["granian direct"],
        "hostile": hostile_rows,
        "load_average": [load_before, os.getloadavg()[0]],
        "settings": vars(args) | {"out": str(args.out)},
    }
    text = report(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gate.md").write_text(text, encoding="utf-8")
    (args.out / "gate.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
