"""What one connection and one command cost in CPU, on the controller and on the host's sshd: remediate's
transport (paramiko, as remediate ships it) beside the OpenSSH client of the fleet benchmark's floor
(curve25519, as bench.py runs it). With host_script_cost.py, it splits a fleet run's CPU per host into
its parts: a fleet run on this machine is bound by the CPU that the controller and every host share.

    .venv/bin/python benchmarks/connection_cost.py [--blocks 10] [--connections 20]

Run it as root on a quiet machine (it starts a one-host lab, on addresses of its own, and stops it).
Each block, for both clients in turn (interleaved, so that the machine's drift hits both alike), makes
``--connections`` connections one after the other, each running one command (``true``) and closing.
Measured per block: the whole machine's CPU (/proc/stat: the controller, sshd, the kernel's
networking, and whatever else ran, so only exact on a quiet machine), the controller's CPU (this process
for remediate's transport; the ssh processes for OpenSSH, user and system), the CPU of the host's sshd
(the listener, whose forks are its own, and its reaped children that served the connections, read from
/proc in clock ticks, hence the blocks), and the wall time. Reported: the means per connection; the
results, with the machine, go to ``benchmarks/results/<date>T<time>-connection.json``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from bench import children_cpu_seconds, machine_cpu_seconds  # noqa: E402
from one_host_lab import add_lab_options, one_host_lab  # noqa: E402
from results_file import add_results_options, write_results  # noqa: E402

from remediate.fleet.transport import ConnectOptions, SshTransport  # noqa: E402
from remediate.lab.fleet import sshd_pid  # noqa: E402
from remediate.model import Host  # noqa: E402

CLIENTS = ("remediate", "openssh")
# Seconds for the listener to reap a block's sshd processes before their CPU is read: they end well after
# the connection closes (with 0.3 s, a third of remediate's sshd CPU showed up in the next block's).
REAPED_WAIT = 2.0


def sshd_cpu(pid: int) -> float:
    """CPU seconds of the listening sshd and of its reaped children (/proc/PID/stat utime, stime, cutime
    and cstime): the listener's forks are its own, each connection's processes its children's."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def remediate_connection(host: Host) -> None:
    connection = SshTransport.connect(host, ConnectOptions())
    try:
        if connection.run_script(b"true\n").exit_status != 0:
            raise SystemExit("connection_cost: the command failed on the lab host")
    finally:
        connection.close()


def openssh_argv(host: Host) -> list[str]:
    """The floor's ssh (bench.py), with the command ``true``."""
    ssh = shutil.which("ssh")
    if ssh is None:
        raise SystemExit("connection_cost: no ssh client on this machine")
    return [
        ssh, "-F", "/dev/null", "-i", str(host.identity_file), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={host.known_hosts}",
        "-o", "KexAlgorithms=curve25519-sha256", "-p", str(host.port), f"{host.user}@{host.address}", "true",
    ]  # fmt: skip


def block(client: str, host: Host, listener: int, connections: int) -> dict[str, float]:
    """``connections`` connections of one client; CPU and wall seconds per connection."""
    argv = openssh_argv(host)

    def connect() -> None:
        if client == "remediate":
            remediate_connection(host)
        else:
            subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)

    time.sleep(REAPED_WAIT)  # the block before it wholly reaped
    mine, theirs, served, machine = own_cpu(), children_cpu_seconds(), sshd_cpu(listener), machine_cpu_seconds()
    started = time.perf_counter()
    for _ in range(connections):
        connect()
    wall = time.perf_counter() - started
    time.sleep(REAPED_WAIT)
    controller = (own_cpu() - mine) if client == "remediate" else (children_cpu_seconds() - theirs)
    return {
        "machine_cpu_s": (machine_cpu_seconds() - machine) / connections,
        "controller_cpu_s": controller / connections,
        "sshd_cpu_s": (sshd_cpu(listener) - served) / connections,
        "wall_s": wall / connections,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10, help="blocks per client (default 10)")
    parser.add_argument("--connections", type=int, default=20, help="connections per block (default 20)")
    add_lab_options(parser, "/var/lib/remediate/connection", 3910)
    add_results_options(parser)
    args = parser.parse_args()

    blocks: dict[str, list[dict[str, float]]] = {client: [] for client in CLIENTS}
    with one_host_lab(args.lab_dir, args.first_index) as (lab, host):
        listener = sshd_pid(lab.hosts[0])
        if listener is None:
            raise SystemExit("connection_cost: the lab host's sshd has no pid file")
        for client in CLIENTS:  # unmeasured: page cache, the known_hosts and key caches
            block(client, host, listener, 2)
        for _ in range(args.blocks):
            for client in CLIENTS:
                blocks[client].append(block(client, host, listener, args.connections))

    summary = {
        client: {
            "machine_cpu_ms": 1000 * statistics.mean(b["machine_cpu_s"] for b in measured),
            "controller_cpu_ms": 1000 * statistics.mean(b["controller_cpu_s"] for b in measured),
            "sshd_cpu_ms": 1000 * statistics.mean(b["sshd_cpu_s"] for b in measured),
            "wall_ms": 1000 * statistics.median(b["wall_s"] for b in measured),
        }
        for client, measured in blocks.items()
    }
    for client, values in summary.items():
        print(f"{client:10s} " + "  ".join(f"{name} {value:6.2f}" for name, value in values.items()))
    if not args.no_save:
        openssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False).stderr.strip()
        write_results(
            args.results_dir, "connection", "connection-cost",
            {
                "openssh": openssh, "blocks": args.blocks, "connections_per_block": args.connections,
                "summary": summary, "blocks_measured": blocks,
            },
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
