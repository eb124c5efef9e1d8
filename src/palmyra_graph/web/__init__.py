"""The HTTP layer: the Flask app (factory, blueprints, templates, static files, page view
models, charts and headers). Everything that imports Flask is here."""

from __future__ import annotations

import json
import os

from flask import Flask

from palmyra_graph.web.app import DEFAULTS, create_app
from palmyra_graph.web.findings import quality_of

__all__ = ["DEFAULTS", "SETTINGS_VARIABLE", "create_app", "served_app"]

#: The environment variable in which ``serve`` hands its server processes the app's settings.
SETTINGS_VARIABLE = "PALMYRA_SERVE_SETTINGS"


def served_app() -> Flask:
    """The app of one of ``serve``'s server processes (granian's factory): ``create_app`` with
    the settings ``serve`` handed over in :data:`SETTINGS_VARIABLE`, and the validation report
    ready before it answers (inherited from ``serve`` when forked; the pages mark every finding,
    so the first request would otherwise wait for it)."""
    app = create_app(json.loads(os.environ.get(SETTINGS_VARIABLE, "{}")))
    quality_of(app)
    return app
