"""``remediate lab up|down|status``: the local fleet for rehearsing fixes."""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from pathlib import Path

from remediate.errors import EXIT_HOST_FAILED, EXIT_OK
from remediate.lab import fleet as lab
from remediate.report.console import make_console


def _http_answer(url: str) -> str:
    """What the lab host's site answers, e.g. "HTTP 500": the outage made visible."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return f"no answer ({getattr(e, 'reason', e)})"


def cmd_lab(args: argparse.Namespace) -> int:
    lab_dir = Path(args.dir) if args.dir else lab.DEFAULT_LAB_DIR
    console = make_console()
    if args.lab_command == "up":
        started = lab.lab_up(args.hosts, lab_dir=lab_dir, inventory_path=Path(args.inventory_file), apache=args.apache)
        for host in started.hosts:
            apache = f"  apache {host.apache_url}" if started.apache else ""
            console.print(f"{host.name}  ssh {host.address}:{host.ssh_port}  http {host.url}{apache}")
        count = len(started.hosts)
        console.print(f"lab of {count} host(s) up in {started.directory}; inventory: {started.inventory_path}")
        return EXIT_OK
    if args.lab_command == "down":
        stopped = lab.lab_down(lab_dir)
        console.print(f"lab down: {stopped} host(s) stopped")
        return EXIT_OK
    statuses = lab.lab_status(lab_dir)
    if not statuses:
        console.print(f"no lab in {lab_dir}")
        return EXIT_OK
    hosts = {h.name: h for h in lab.load_lab(lab_dir).hosts}
    for s in statuses:
        sshd = "up" if s.sshd_running else "DOWN"
        http = _http_answer(hosts[s.name].url) if s.http_running else "DOWN"
        line = f"{s.name}  {s.address}  sshd {sshd}  {hosts[s.name].url} {http}"
        if s.apache_running:
            line += f"  apache {hosts[s.name].apache_url} {_http_answer(hosts[s.name].apache_url)}"
        console.print(line)
    return EXIT_OK if all(s.sshd_running for s in statuses) else EXIT_HOST_FAILED
