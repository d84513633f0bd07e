"""The Fabric floor: one SSH connection and one ``sed -i`` per host, all hosts at once.

    python fabric_sed.py HOSTS_FILE --port 2222 --user root --key KEY --known-hosts FILE --command CMD

``HOSTS_FILE`` holds one address per line. This is what the simplest possible fleet fix costs over
paramiko (the transport remediate uses too): Fabric's ``ThreadingGroup.run``, one thread per host, no
backup, no check, no read-back. Unlike Fabric's default (``AutoAddPolicy``, no known_hosts) the lab's
known_hosts is loaded and unknown host keys are refused, as every other tool in the benchmark does.
Prints one JSON line: ``{"ok": N, "failed": N, "errors": {address: message}}``; exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import sys

import paramiko
from fabric import Connection, ThreadingGroup
from fabric.exceptions import GroupException


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("hosts_file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--known-hosts", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    with open(args.hosts_file) as hosts:
        addresses = [line.strip() for line in hosts if line.strip()]
    connections = []
    for address in addresses:
        connection = Connection(
            address,
            user=args.user,
            port=args.port,
            connect_timeout=args.timeout,
            connect_kwargs={"key_filename": args.key, "look_for_keys": False, "allow_agent": False},
        )
        connection.client.load_host_keys(args.known_hosts)
        connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        connections.append(connection)
    group = ThreadingGroup.from_connections(connections)
    try:
        results = group.run(args.command, hide=True, warn=True, in_stream=False)
    except GroupException as error:
        results = error.result
    finally:
        group.close()
    errors: dict[str, str] = {}
    ok = 0
    for connection, result in results.items():
        if isinstance(result, Exception):
            errors[connection.host] = f"{type(result).__name__}: {result}"
        elif result.exited != 0:
            errors[connection.host] = f"exit {result.exited}: {result.stderr.strip()}"
        else:
            ok += 1
    print(json.dumps({"ok": ok, "failed": len(errors), "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
