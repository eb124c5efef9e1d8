"""palmyra-graph: a sourced linked-data knowledge graph of the 2017 Palmyra offensive."""

from __future__ import annotations

__version__ = "0.1.0"
