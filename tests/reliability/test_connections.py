"""Idle keep-alive connections must not lock other clients out (a regression: granian held a
connection's permit while it idled, and the permits were as few as the threads)."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from palmyra_graph.testing import LiveServer


@pytest.mark.live
def test_idle_keep_alive_connections_do_not_lock_out_a_new_client(
    live_server: LiveServer,
) -> None:
    idle = []
    try:
        for _ in range(24):
            sock = socket.create_connection(("127.0.0.1", live_server.port), timeout=10)
            sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            idle.append(sock)
        started = time.monotonic()
        response = requests.get(
            f"{live_server.url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=15
        )
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    finally:
        for sock in idle:
            sock.close()
