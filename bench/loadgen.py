"""A closed-loop HTTP/1.1 load generator: the same client for every server in the benchmark.

``connections`` keep-alive connections each send one request, wait for the whole answer, and
send the next, until the time is up. It is asyncio on raw streams (no HTTP library on the hot
path), so one process drives several thousand requests a second; it reads Content-Length and
chunked bodies, which covers granian, Oxigraph's server and uvicorn.

A run is bounded: it stops at ``duration`` seconds, or, when no request has finished by then
(a slow peer on a heavy query), at the first finished request or ``max_wait`` seconds,
whichever comes first. Unfinished requests are counted, not timed.

When ``wrk`` (https://github.com/wg/wrk, a C load generator: ``apt-get install wrk``) is on
the PATH, :func:`run` uses it instead, since on a 2-core machine the Python client's own CPU
use caps what it can measure; a run in which wrk sees no answer at all (a peer slower than
the run) is measured again with the Python client, which waits for the first answer.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


@dataclass
class RunResult:
    """What one run measured."""

    completed: int = 0
    errors: int = 0
    unfinished: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    #: Percentiles reported by wrk (fraction -> seconds), when wrk measured the run.
    reported: dict[float, float] = field(default_factory=dict)
    client: str = "python-asyncio"

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float | None:
        """Latency (seconds) at ``fraction`` (0.5 median, 0.99 p99), None without data."""
        if fraction in self.reported:
            return self.reported[fraction]
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0]
        cuts = statistics.quantiles(self.latencies, n=1000, method="inclusive")
        return cuts[min(int(fraction * 1000) - 1, len(cuts) - 1)]


def get_request(url: str, query: str, accept: str) -> tuple[str, int, bytes]:
    """Host, port and the raw bytes of a protocol GET for ``query`` at endpoint ``url``."""
    parts = urlsplit(url)
    target = f"{parts.path or '/'}?{urlencode({'query': query})}"
    raw = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: {accept}\r\n"
        "User-Agent: palmyra-bench\r\n\r\n"
    ).encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, raw


def post_request(url: str, body: bytes, accept: str, *, chunked: bool = False) -> bytes:
    """The raw bytes of a protocol POST of ``body`` as ``application/sparql-query``."""
    parts = urlsplit(url)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: {accept}\r\n"
        "Content-Type: application/sparql-query\r\nUser-Agent: palmyra-bench\r\n"
    )
    if not chunked:
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    encoded = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces)
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + encoded + b"0\r\n\r\n"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one response; returns its status, whether the server keeps the connection, and
    the start of the body of an error (what it says is wrong)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    said = b""
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await reader.readexactly(size + 2)
            said = said or data[:200]
            if size == 0:
                break
    else:
        said = (await reader.readexactly(int(headers.get("content-length", "0"))))[:200]
    return status, headers.get("connection") != "close", said if status >= 400 else b""


#: Called with each answer's status, its latency in seconds, and what an error said.
Record = Callable[[int, float, bytes], None]


async def closed_loop(
    host: str,
    port: int,
    requests: Sequence[bytes],
    stop_at: float,
    record: Record,
    *,
    done: asyncio.Event | None = None,
    local_addr: tuple[str, int] | None = None,
    once: bool = False,
) -> None:
    """One keep-alive connection sending ``requests`` in turn, each after the last answer,
    until ``stop_at`` (or ``done``, or with ``once`` after the last request); ``record(status,
    seconds)`` for each answer. Status 0 records a connection the server closed without an
    answer."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr)
    sent = 0
    try:
        while time.perf_counter() < stop_at and not (done and done.is_set()):
            if once and sent == len(requests):
                break
            started = time.perf_counter()
            writer.write(requests[sent % len(requests)])
            sent += 1
            try:
                status, keep, said = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                status, keep, said = 0, False, b"the connection ended without an answer"
            record(status, time.perf_counter() - started, said)
            if not keep:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr)
    finally:
        writer.close()


async def _connection(
    host: str, port: int, raw: bytes, stop_at: float, result: RunResult, done: asyncio.Event
) -> None:
    def record(status: int, seconds: float, said: bytes) -> None:
        result.latencies.append(seconds)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if status >= 400 or status == 0:
            result.errors += 1
        else:
            result.completed += 1

    await closed_loop(host, port, [raw], stop_at, record, done=done)


async def _run(
    url: str, query: str, accept: str, *, connections: int, duration: float, max_wait: float
) -> RunResult:
    host, port, raw = get_request(url, query, accept)
    result = RunResult()
    started = time.perf_counter()
    done = asyncio.Event()
    tasks = [
        asyncio.create_task(_connection(host, port, raw, started + duration, result, done))
        for _ in range(connections)
    ]
    await asyncio.wait(tasks, timeout=duration)
    while result.completed + result.errors == 0 and time.perf_counter() - started < max_wait:
        await asyncio.sleep(0.05)  # a slow peer: wait for its first answer, within bounds
    done.set()
    result.elapsed = time.perf_counter() - started
    pending = [task for task in tasks if not task.done()]
    result.unfinished = len(pending)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def run(
    url: str,
    query: str,
    *,
    accept: str = "application/sparql-results+json",
    connections: int = 8,
    duration: float = 5.0,
    max_wait: float = 60.0,
    use_wrk: bool = True,
) -> RunResult:
    """Drive ``url`` with ``query`` for about ``duration`` seconds (see the module doc)."""
    if use_wrk and shutil.which("wrk"):
        result = run_wrk(url, query, accept, connections=connections, duration=duration)
        if result.completed + result.errors > 0:
            return result
    return asyncio.run(
        _run(url, query, accept, connections=connections, duration=duration, max_wait=max_wait)
    )


def run_wrk(url: str, query: str, accept: str, *, connections: int, duration: float) -> RunResult:
    """One run of wrk (one thread, ``connections`` connections), its report parsed."""
    target = f"{url}?{urlencode({'query': query})}"
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "60s",
        "-H",
        f"Accept: {accept}",
        target,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(output: str) -> RunResult:
    """The numbers of a ``wrk --latency`` report."""
    result = RunResult(client="wrk")
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if total:
        result.elapsed = float(total.group(2)) * _UNITS[total.group(3)]
        result.completed = int(total.group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        result.errors = int(bad.group(1))
        result.completed -= result.errors
    for percent, value, unit in re.findall(
        r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, flags=re.MULTILINE
    ):
        result.reported[int(percent) / 100] = float(value) * _UNITS[unit]
    return result
