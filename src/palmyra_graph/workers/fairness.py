"""Per-client limits on query evaluation, as the Wikidata Query Service has them.

Each client (an address: the peer, or what a trusted proxy says) may have at most
``concurrency`` queries running or waiting at once, and may use at most ``budget`` seconds of
query time (a worker busy on its queries) in any ``window`` seconds. Past either limit its
next query is refused with 429 and a ``Retry-After`` that says when it would be admitted.

IPv6 clients are counted by their /64 prefix: one host usually holds a whole /64, so single
addresses would let it rotate past every limit.

Memory is bounded: a client's finished queries are kept in one-second buckets and dropped
once they leave the window; a client with nothing running and nothing in its window is
forgotten.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClientLimits:
    """The limits each client gets; ``concurrency`` 0 or ``budget`` 0 turns that limit off."""

    concurrency: int = 2
    budget: float = 60.0
    window: float = 60.0


@dataclass(frozen=True)
class Refusal:
    """Why a client's query is refused now, and in how many whole seconds to try again."""

    message: str
    retry_after: int


@dataclass
class _Usage:
    active: int = 0
    #: (second the queries ended in, seconds used), oldest first
    buckets: deque[tuple[int, float]] = field(default_factory=deque)
    #: start times of the queries running now
    running: dict[int, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=4096)
def client_key(address: str) -> str:
    """The key a client is counted by: the address, or its /64 for IPv6 (remembered for the
    last 4,096 addresses: it is read several times for every query)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class Fairness:
    """The bookkeeping behind the limits (single-threaded: the broker's loop owns it)."""

    def __init__(self, limits: ClientLimits) -> None:
        self.limits = limits
        self._clients: dict[str, _Usage] = {}
        self._tickets = 0

    def admit(self, client: str, now: float) -> Refusal | None:
        """Count a new query of ``client`` as active, or say why it must wait."""
        key = client_key(client)
        usage = self._clients.setdefault(key, _Usage())
        limits = self.limits
        if limits.concurrency and usage.active >= limits.concurrency:
            return Refusal(
                f"too many queries at once from {key}: at most {limits.concurrency} may run "
                "or wait at a time; wait for one to finish",
                1,
            )
        if limits.budget and self.used(key, now) >= limits.budget:
            return Refusal(
                f"{key} used its {limits.budget:g} s of query time per {limits.window:g} s",
                self._seconds_until_under_budget(usage, now),
            )
        usage.active += 1
        return None

    def start(self, client: str, now: float) -> int:
        """A worker begins one of the client's admitted queries; returns its ticket."""
        self._tickets += 1
        self._clients[client_key(client)].running[self._tickets] = now
        return self._tickets

    def finish(self, client: str, ticket: int | None, now: float) -> None:
        """One of the client's admitted queries ended (answered, failed, refused or stopped)."""
        key = client_key(client)
        usage = self._clients.get(key)
        if usage is None:
            return
        usage.active = max(usage.active - 1, 0)
        started = usage.running.pop(ticket, None) if ticket is not None else None
        if started is not None:
            second = math.floor(now)
            if usage.buckets and usage.buckets[-1][0] == second:
                usage.buckets[-1] = (second, usage.buckets[-1][1] + now - started)
            else:
                usage.buckets.append((second, now - started))
        self._expire(key, usage, now)

    def used(self, client: str, now: float) -> float:
        """Query seconds the client used in the window, running queries included."""
        usage = self._clients.get(client_key(client))
        if usage is None:
            return 0.0
        self._drop_old(usage, now)
        running = sum(now - started for started in usage.running.values())
        return running + sum(seconds for _, seconds in usage.buckets)

    def clients(self) -> int:
        """How many clients are remembered (for tests and monitoring)."""
        return len(self._clients)

    def _seconds_until_under_budget(self, usage: _Usage, now: float) -> int:
        excess = sum(s for _, s in usage.buckets) - self.limits.budget
        excess += sum(now - started for started in usage.running.values())
        for second, seconds in usage.buckets:
            excess -= seconds
            if excess < 0:
                return max(1, math.ceil(second + 1 + self.limits.window - now))
        # Running queries alone are over the budget: they end within the time budget.
        return max(1, math.ceil(self.limits.window))

    def _drop_old(self, usage: _Usage, now: float) -> None:
        while usage.buckets and usage.buckets[0][0] + 1 <= now - self.limits.window:
            usage.buckets.popleft()

    def _expire(self, key: str, usage: _Usage, now: float) -> None:
        self._drop_old(usage, now)
        if not usage.active and not usage.running and not usage.buckets:
            del self._clients[key]
