"""How long a connection and a command take on a lab host, on the transport's responsive socket
(Nagle's algorithm off, TCP_NODELAY, and immediate acknowledgements, TCP_QUICKACK after every read: as
remediate ships) and on the socket as paramiko leaves it (the kernel's defaults). A latency, not a
fleet's throughput: what a small run, a canary wave or a host's probes wait for, where the fleet
benchmark (bench.py) is bound by CPU instead.

    benchmarks/.venv-remediate/bin/python benchmarks/command_latency.py [--rounds 20] [--commands 10]

Run it as root on a quiet machine (it starts a one-host lab, on addresses of its own, and stops it).
Each round, in both modes in turn, opens a connection to the host, runs ``--commands`` short scripts
in the shell it keeps open (each answers two lines, as a survey's records are several writes of the
host's shell), ends that shell, runs ``--commands`` more each in a new session (as a host's probes and a
rollback do), and closes the connection. It reports the medians of: the connection (handshake and
authentication), the first command (which also opens the session and starts the shell), the commands
after it in the same shell, and the commands in new sessions. The results, with the machine, go to
``benchmarks/results/<date>T<time>-latency.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from one_host_lab import add_lab_options, one_host_lab
from results_file import add_results_options, write_results

from remediate.fleet import transport
from remediate.fleet.transport import ConnectOptions, SshTransport
from remediate.model import Host

SCRIPT = b"echo one; echo two\n"
MODES = ("responsive", "paramiko-default")


def measure(host: Host, mode: str, commands: int) -> dict[str, Any]:
    """One round: connect, ``commands`` scripts in the shell kept open, ``commands`` in new sessions,
    close; seconds of each part."""
    shipped = transport._responsive
    if mode == "paramiko-default":
        transport._responsive = lambda sock: sock  # the socket as paramiko made it
    try:
        started = time.perf_counter()
        connection = SshTransport.connect(host, ConnectOptions())
        connected = time.perf_counter()
        kept, new = [], []
        try:
            for _ in range(commands):
                kept.append(timed(connection, host, stay=True))
            timed(connection, host, stay=False)  # the kept shell's last: it ends
            for _ in range(commands):
                new.append(timed(connection, host, stay=False))
        finally:
            connection.close()
    finally:
        transport._responsive = shipped
    return {
        "connect_s": connected - started, "first_command_s": kept[0], "later_commands_s": kept[1:],
        "new_session_commands_s": new,
    }  # fmt: skip


def timed(connection: SshTransport, host: Host, stay: bool) -> float:
    before = time.perf_counter()
    if connection.run_script(SCRIPT, stay=stay).stdout != b"one\ntwo\n":
        raise SystemExit(f"command_latency: unexpected answer from {host.name}")
    return time.perf_counter() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="connections per mode (default 20)")
    parser.add_argument("--commands", type=int, default=10, help="commands per connection (default 10)")
    add_lab_options(parser, "/var/lib/remediate/latency", 3900)
    add_results_options(parser)
    args = parser.parse_args()
    if args.commands < 2:
        parser.error("--commands must be at least 2 (the first command also opens the session)")

    rounds: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    with one_host_lab(args.lab_dir, args.first_index) as (_, host):
        measure(host, MODES[0], 2)  # unmeasured: page cache, the known_hosts and key caches
        for _ in range(args.rounds):
            for mode in MODES:  # interleaved, so that the machine's drift hits both alike
                rounds[mode].append(measure(host, mode, args.commands))

    summary = {
        mode: {
            "connect_ms": 1000 * statistics.median(r["connect_s"] for r in runs),
            "first_command_ms": 1000 * statistics.median(r["first_command_s"] for r in runs),
            "later_command_ms": 1000 * statistics.median(t for r in runs for t in r["later_commands_s"]),
            "new_session_command_ms": 1000 * statistics.median(t for r in runs for t in r["new_session_commands_s"]),
        }
        for mode, runs in rounds.items()
    }
    for mode, medians in summary.items():
        print(f"{mode:12s} " + "  ".join(f"{name} {value:6.1f}" for name, value in medians.items()))
    if not args.no_save:
        write_results(
            args.results_dir, "latency", "command-latency",
            {
                "rounds": args.rounds, "commands": args.commands, "script": SCRIPT.decode(),
                "summary": summary, "runs": rounds,
            },
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
