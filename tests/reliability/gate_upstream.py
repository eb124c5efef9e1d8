"""A tiny WSGI app behind the gate in its tests, served by granian (``gate_upstream:app``).

- ``/count``: how many other requests reached the app (one granian worker, so one counter);
- ``/pid``: the server process that answered;
- ``/echo``: what the app was given, as JSON: the client header, REMOTE_ADDR, the body's
  length and its first bytes, the query string;
- ``/big?mb=N``: N MiB streamed in 64 KiB chunks (a huge result);
- ``/slow?s=X``: answers after X seconds (a slow query).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

_lock = threading.Lock()
_seen = itertools.count(1)
_count = 0
CHUNK = b"x" * 65536

StartResponse = Callable[..., Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    global _count
    path = environ["PATH_INFO"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path == "/count":
        return _answer(start_response, str(_count).encode())
    if path == "/pid":
        return _answer(start_response, str(os.getpid()).encode())
    with _lock:
        _count = next(_seen)
    if path == "/big":
        mebibytes = int(query.get("mb", "1"))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _chunks(mebibytes * 16)
    if path == "/slow":
        time.sleep(float(query.get("s", "1")))
    body = environ["wsgi.input"].read()
    echo = {
        "client": environ.get("HTTP_X_PALMYRA_CLIENT"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "length": len(body),
        "start": body[:40].decode("latin-1"),
        "query": query,
        "method": environ["REQUEST_METHOD"],
    }
    return _answer(start_response, json.dumps(echo).encode(), "application/json")


def _answer(start_response: StartResponse, body: bytes, kind: str = "text/plain") -> list[bytes]:
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


def _chunks(count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield CHUNK
