"""The HTTP layer: the Flask app (factory, blueprints, templates, static files, page view
models, charts and headers). Everything that imports Flask is here."""

from palmyra_graph.web.app import DEFAULTS, create_app

__all__ = ["DEFAULTS", "create_app"]
