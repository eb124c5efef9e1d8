"""What a client connection is doing: why its reading is paused, and what it is sending."""

# Why reading from a client is paused (several can hold at once).
_CONNECTING, _UPSTREAM_FULL, _PIPELINE, _HOLD = 1, 2, 4, 8
# What the client is sending.
_HEAD, _BODY, _CHUNKED, _DONE = range(4)
