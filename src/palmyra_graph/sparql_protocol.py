"""The SPARQL 1.1 Protocol endpoint (https://www.w3.org/TR/sparql11-protocol/)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sparql", __name__)
