"""The query layer: the Engine protocol and its embedded, on-disk and remote engines, pushing
the graph to other stores, the guard that reads a query before any engine does (lexer,
grammar, limits, IRI resolution), answering one protocol query, and the command line's
result tables."""
