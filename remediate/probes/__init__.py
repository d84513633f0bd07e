"""Verification probes: one module per kind (http, tcp, command, file), each a ``ProbeKind`` (base) with its
value type, loading, JSON codec and where and how it runs; ``registry`` holds them by key."""
