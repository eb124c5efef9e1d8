"""The addresses of a server: what it binds and how it names itself."""

from __future__ import annotations


def server_url(host: str, port: int) -> str:
    """The SERVER_URL for a server bound to ``host``:``port``; a wildcard bind is named by the
    loopback name, an IPv6 address is bracketed (``server_url("::1", 80)`` is
    ``http://[::1]:80/``)."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"
