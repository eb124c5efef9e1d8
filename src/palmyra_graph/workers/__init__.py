"""Killable query workers: the broker that holds the graph and forks them (``broker``), one
worker's life (``worker``), their confinement (``sandbox``), per-client limits
(``fairness``), why one died (``diagnosis``), the messages between all of them
(``messages``), and the server processes' side of it (``pool``)."""
