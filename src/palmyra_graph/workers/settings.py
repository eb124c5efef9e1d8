"""What the query broker is told at start, and the graph its workers answer from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from palmyra_graph.workers.fairness import ClientLimits


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the broker is told at start."""

    data_files: tuple[str, ...] = ()
    store: str | None = None
    workers: int = 2
    federated_workers: int = 0
    timeout: float = 30.0
    memory: int = 0
    recycle: int = 0
    limits: ClientLimits = field(default_factory=ClientLimits)
    drain: float = 2.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BrokerSettings:
        values = json.loads(text)
        values["data_files"] = tuple(values["data_files"])
        values["limits"] = ClientLimits(**values["limits"])
        return cls(**values)


def engine_for(settings: BrokerSettings) -> Any:
    """The graph the workers share: loaded here, or (on disk) opened by each worker, once
    opened here first so that a store that cannot be opened stops the start (StorageError)
    rather than every worker as it starts."""
    if settings.store:
        from palmyra_graph.query.store import open_engine, open_store

        open_store(settings.store)  # closed again at once: RocksDB is not carried over a fork
        return partial(open_engine, settings.store)
    from palmyra_graph.query.engine import OxigraphEngine

    return OxigraphEngine.from_files(list(settings.data_files) or None)
