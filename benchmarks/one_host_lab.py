"""The one-host lab a small benchmark measures on (command_latency.py, connection_cost.py): its options,
and the lab itself, on addresses of the benchmark's own, stopped at the end."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from remediate.lab.fleet import Lab, lab_down, lab_up
from remediate.model import Host


def add_lab_options(parser: argparse.ArgumentParser, lab_dir: str, first_index: int) -> None:
    """--lab-dir and --first-index, with the benchmark's own defaults."""
    parser.add_argument("--lab-dir", default=lab_dir, help="lab folder (default %(default)s)")
    parser.add_argument("--first-index", type=int, default=first_index, help="lab address index (default %(default)s)")


def lab_host(lab: Lab) -> Host:
    """The lab's one host, as an inventory names it: reached as root, with the lab's key and known_hosts."""
    only = lab.hosts[0]
    return Host(
        only.name, only.address, only.ssh_port, "root", str(lab.identity_file), str(lab.known_hosts)
    )  # fmt: skip


@contextmanager
def one_host_lab(lab_dir: str, first_index: int) -> Iterator[tuple[Lab, Host]]:
    with tempfile.TemporaryDirectory() as scratch:
        lab = lab_up(1, Path(lab_dir), Path(scratch) / "inventory.yml", first_index, http=False)
        try:
            yield lab, lab_host(lab)
        finally:
            lab_down(Path(lab_dir))
