"""The graph itself: the bundled files, loading them (one named graph per file), claim IRIs,
namespaces, the RDF and result formats (media types, suffixes, as plain data), validation with
the SHACL shapes, deterministic export. It imports nothing else of the package."""
