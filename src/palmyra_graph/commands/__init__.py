"""One module per CLI command; each exposes ``command`` (see ``palmyra_graph.cli``)."""
