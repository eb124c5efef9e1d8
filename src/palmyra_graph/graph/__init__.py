"""The graph itself: the bundled files, loading them (one named graph per file), claim IRIs,
namespaces, validation with the SHACL shapes, deterministic export. No engine, no HTTP."""
