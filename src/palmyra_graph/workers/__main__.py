"""``python -m palmyra_graph.workers --socket PATH --settings JSON``: the query broker's
process (:mod:`palmyra_graph.workers.broker`); prints ``ready`` once it listens."""

from __future__ import annotations

import argparse
import sys

from palmyra_graph.errors import LoadError, StorageError
from palmyra_graph.workers import messages
from palmyra_graph.workers.broker import Broker
from palmyra_graph.workers.settings import BrokerSettings, engine_for


def main(argv: list[str] | None = None) -> int:
    """Run the broker until SIGTERM; exit 2 when the graph does not load (the message says why)."""
    parser = argparse.ArgumentParser(prog="palmyra_graph.workers")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--path", action="append", default=[], help="extra sys.path entry")
    args = parser.parse_args(argv)
    sys.path.extend(p for p in args.path if p not in sys.path)
    settings = BrokerSettings.from_json(args.settings)
    try:
        engine = engine_for(settings)
    except (LoadError, StorageError) as error:
        print(f"palmyra-graph: {error}", file=sys.stderr)
        return 2
    listener = messages.seqpacket()
    listener.bind(args.socket)
    listener.listen(1024)
    listener.setblocking(False)
    broker = Broker(settings, listener, engine)
    print("ready", flush=True)
    broker.run()
    broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
