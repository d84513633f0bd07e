"""OpenSSH client configuration (``~/.ssh/config`` or ``--ssh-config FILE``) applied to inventory hosts.

Looked up by the host's inventory name, as ``ssh NAME`` would. It fills what the inventory leaves
unsaid (HostName, User, Port, IdentityFile, UserKnownHostsFile); the inventory wins where it speaks.
ProxyJump hops become connections of their own, checked against the same known_hosts.
"""

from __future__ import annotations

import dataclasses
import os
import re
from functools import lru_cache
from pathlib import Path

from remediate.errors import UserError
from remediate.fleet.paramiko_import import allow_match_exec, paramiko
from remediate.model import Host

DEFAULT_SSH_CONFIG = "~/.ssh/config"
# A `Match exec` line (keywords are case-insensitive, `=` may join them), the one that needs invoke.
_MATCH_EXEC = re.compile(r"^[ \t]*match\b[^\n]*\bexec\b", re.IGNORECASE | re.MULTILINE)


@lru_cache(maxsize=8)
def read_ssh_config(path: str) -> paramiko.SSHConfig:
    try:
        config = paramiko.SSHConfig.from_path(os.path.expanduser(path))
    except FileNotFoundError:
        raise UserError(f"--ssh-config: {path}: file not found") from None
    except (OSError, ValueError, paramiko.SSHException) as e:
        raise UserError(f"{path}: cannot read the ssh_config: {e}") from None
    if _MATCH_EXEC.search(Path(os.path.expanduser(path)).read_text(errors="replace")):
        allow_match_exec()
    return config


def ssh_config_path(option: str | None) -> str | None:
    """``--ssh-config FILE``, else ``~/.ssh/config`` when it exists, else none."""
    if option is not None:
        return option
    default = os.path.expanduser(DEFAULT_SSH_CONFIG)
    return default if Path(default).is_file() else None


def resolve(host: Host, config: paramiko.SSHConfig) -> tuple[Host, tuple[Host, ...]]:
    """The host with ssh_config's values where the inventory said nothing, and its ProxyJump hops, first hop
    first. A hop's own settings come from ssh_config too; its known_hosts and key are the host's."""
    entry = config.lookup(host.name)
    changes: dict[str, object] = {}
    if "address" not in host.explicit and "hostname" in entry:
        changes["address"] = entry["hostname"]
    if "user" not in host.explicit and "user" in entry:
        changes["user"] = entry["user"]
    if "port" not in host.explicit and "port" in entry:
        changes["port"] = int(entry["port"])
    if "identity_file" not in host.explicit and entry.get("identityfile"):
        changes["identity_file"] = os.path.expanduser(entry["identityfile"][0])
    if "known_hosts" not in host.explicit and "userknownhostsfile" in entry:
        changes["known_hosts"] = os.path.expanduser(entry["userknownhostsfile"].split()[0])
    resolved = dataclasses.replace(host, **changes)  # type: ignore[arg-type]
    jumps = tuple(
        _hop(spec, resolved, config) for spec in entry.get("proxyjump", "").split(",") if spec and spec != "none"
    )
    return resolved, jumps


def _hop(spec: str, target: Host, config: paramiko.SSHConfig) -> Host:
    """``[user@]host[:port]`` of a ProxyJump, completed by ssh_config's entry for that name."""
    user, _, rest = spec.rpartition("@")
    name, _, port = rest.partition(":")
    entry = config.lookup(name)
    return Host(
        name=name,
        address=entry.get("hostname", name),
        port=int(port or entry.get("port", "22")),
        user=user or entry.get("user", target.user),
        identity_file=os.path.expanduser(entry["identityfile"][0])
        if entry.get("identityfile")
        else target.identity_file,
        known_hosts=target.known_hosts,
    )
