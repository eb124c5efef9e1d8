"""``serve``'s process tree: the supervisor that starts and stops it, the connection gate in
front of granian (and its strict HTTP/1.1 reading), and the server's own addresses."""
