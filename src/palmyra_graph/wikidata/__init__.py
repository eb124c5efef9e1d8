"""Wikidata: the graph's owl:sameAs links, a reconciler and a checker for them, and exports.

- ``api``: a polite client for Wikidata's Action API (``wbsearchentities``,
  ``wbgetentities``) with a descriptive User-Agent, ``maxlag``, ``Retry-After`` and a cache;
- ``links``: the entities of the graph with their Wikidata item (or none) and how the link
  was made; ``sssom`` writes them as an SSSOM mapping set;
- ``matching``: how well a Wikidata item fits one of our entities (names, description, type);
- ``reconcile``: candidates for unlinked entities, and writing an accepted link safely;
- ``check``: every linked item fetched again and compared with our entity;
- ``quickstatements``: our sourced claims about linked entities as QuickStatements V1.
"""

from __future__ import annotations
