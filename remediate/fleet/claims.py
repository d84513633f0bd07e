"""Claims on hosts that reach past one controller: what a run holds around each host's write besides the
host's own lock.

The host's lock (remote/hostlock) is a file on the host, so it keeps out only the runs that use that
file: two controllers logging in as different users (root, and a user with ``~/.remediate/lock``) both
get it. A journal shared between controllers (PostgreSQL) can hold a lock per host for the whole fleet;
the rollout and each host's write ask for it here, and ``runs/recorder`` answers over the journal. This
base claims nothing, at no cost: what a run with a journal of its own (SQLite) uses.
"""

from __future__ import annotations

from remediate.model import Host


class HostClaims:
    """Called from the rollout's worker threads, around each host's write: ``claim`` before anything is
    written (the journal's row included), ``release`` once the host is done (verified, or put back)."""

    def claim(self, host: Host, wait: float) -> str | None:
        """None: this run may write ``host``. Otherwise who holds it, as the host's lock names its holder
        (``RUN (user@machine)``), after waiting up to ``wait`` seconds for it to be let go."""
        return None

    def release(self, host: Host) -> None:
        """The host is done: another run may claim it."""


NO_CLAIMS = HostClaims()
