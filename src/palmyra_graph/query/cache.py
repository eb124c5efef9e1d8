"""A cache of whole answers, for a graph that does not change while it is served.

Bounded by bytes (at most ``max_bytes`` in all, each entry counted as its body and
``ENTRY_BYTES`` for what keeping it costs beside, no one body over an eighth of the bound),
least recently used first out, keyed by a digest of the request (query text,
dataset, the formats chosen), so a key holds no query text. Only answers that were written
whole are stored: an error, a timeout or a cut answer never is (the caller stores an answer
only once its last chunk has gone out).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: What an entry costs beside its body: the key (a 64-character str), the record, the bytes
#: object's header and the LRU's links and table; tracemalloc measured 336-358 bytes on
#: CPython 3.11. Counting bodies alone, lookups' answers (about 250 bytes) held twice the bound.
ENTRY_BYTES = 384


@dataclass(frozen=True)
class Cached:
    """A stored answer."""

    content_type: str
    body: bytes


def _cost(body: bytes) -> int:
    """What keeping an answer costs, counted against the bound."""
    return len(body) + ENTRY_BYTES


def request_key(*parts: object) -> str:
    """The digest a request is stored under (``repr`` of each part, in order)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


class AnswerCache:
    """A thread-safe LRU of answers, bounded by bytes; ``max_bytes`` 0 stores nothing."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.size = 0
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Cached | None:
        """The stored answer, now the most recently used, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, content_type: str, body: bytes) -> bool:
        """Store an answer if it fits; older ones leave to make room. Whether it was stored."""
        if not self.max_bytes or len(body) > self.max_entry:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= _cost(old.body)
            self._entries[key] = Cached(content_type, body)
            self.size += _cost(body)
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= _cost(evicted.body)
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def keeping(self, key: str, content_type: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass ``chunks`` on, and store their whole once the last one has gone out (not if
        they stop early, fail, or outgrow an entry)."""
        parts: list[bytes] = []
        size, keep = 0, bool(self.max_bytes)
        for chunk in chunks:
            if keep:
                size += len(chunk)
                keep = size <= self.max_entry
                if keep:
                    parts.append(chunk)
                else:
                    parts.clear()
            yield chunk
        if keep:
            self.put(key, content_type, b"".join(parts))
