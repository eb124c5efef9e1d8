"""Claim IRIs derived from what they claim, so rebuilding the graph never renames a claim.

``claim:{subject-key}_{predicate-local-name}_{object-key}``; see ``docs/data-model.md``.
"""

from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.term import Node

from palmyra_graph.graph.namespaces import CLAIM, WD

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_LITERAL_KEY_LENGTH = 48


def term_key(term: Node) -> str:
    """The key of a term in a claim IRI: an IRI's last segment, a QID, or a slugified literal."""
    if isinstance(term, Literal):
        slug = _NON_SLUG.sub("-", str(term).lower()).strip("-")
        return slug[:_LITERAL_KEY_LENGTH].rstrip("-")
    if isinstance(term, URIRef):
        iri = str(term)
        if iri.startswith(str(WD)):
            return iri[len(str(WD)) :]
        return re.split(r"[/#]", iri.rstrip("/#"))[-1]
    raise TypeError(f"a claim is about IRIs and literals, not {type(term).__name__}")


def claim_iri(subject: Node, predicate: Node, obj: Node) -> URIRef:
    """The IRI of the claim node that describes the triple ``(subject, predicate, obj)``."""
    return CLAIM[f"{term_key(subject)}_{term_key(predicate)}_{term_key(obj)}"]
