"""A real PostgreSQL server for the tests: Debian's postgresql (scripts/setup.sh installs it), a cluster
made by ``initdb`` in a temporary folder, listening on 127.0.0.1 only, on a port of this pytest worker's
own (25432 + N for gwN, so sessions running at once do not meet), its unix socket in the folder too.
The port is below Linux's ephemeral range (32768 to 60999 by default): a port inside it can be taken, as
the source port of any outgoing connection to 127.0.0.1, by the lab tests' thousands of SSH connections
(55432 was, once, in a whole-suite run: "could not bind ... Address already in use").

initdb refuses to run as root: as root the cluster belongs to the package's ``postgres`` user. The
server is stopped through its data folder's pid file (``pg_ctl stop``), whatever the tests did.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BASE_PORT = 25432
USER = "remediate"


def _bin_dir() -> Path:
    """Debian's server binaries: PostgreSQL 15 where it is, else the newest installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    preferred = [p for p in found if p.parent.parent.name == "15"]
    if not (preferred or found):
        raise RuntimeError("no PostgreSQL server: scripts/setup.sh installs Debian's postgresql")
    return (preferred or found)[-1].parent


def worker_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return BASE_PORT + int(worker.removeprefix("gw") or 0)


@dataclass(frozen=True)
class Server:
    port: int
    folder: Path
    started_in: float  # seconds from initdb to accepting connections
    _names: Iterator[int]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on the server: one journal of its own for each test."""
        import psycopg

        name = f"journal_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _as_owner(owner: pwd.struct_passwd | None) -> dict[str, object]:
    return {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[Server]:
    """``durable``: the server's own settings (fsync, full-page writes), for a benchmark; the tests' server
    skips them (a test's journal need not outlive a crash of the machine)."""
    bin_dir = _bin_dir()
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="remediate-pg-"))
    data = folder / "data"
    port = worker_port()
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    # In the folder: the postgres user may not enter the working directory (a clone under /root).
    run = {**_as_owner(owner), "cwd": folder}
    begun = time.monotonic()
    try:
        # trust: only this user's tests reach the server (127.0.0.1 and a socket in a private folder).
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True, capture_output=True, **run,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
        subprocess.run(
            [bin_dir / "pg_ctl", "start", "-D", data, "-w", "-t", "30", "-l", folder / "server.log", "-o", options],
            check=True, capture_output=True, **run,
        )  # fmt: skip
        try:
            yield Server(port, folder, time.monotonic() - begun, itertools.count(1))
        finally:
            subprocess.run(
                [bin_dir / "pg_ctl", "stop", "-D", data, "-m", "fast", "-w"],
                check=False, capture_output=True, **run,
            )  # fmt: skip
    except subprocess.CalledProcessError as e:
        log = folder / "server.log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr.decode(errors='replace')}{detail}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
