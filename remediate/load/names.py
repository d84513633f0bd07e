"""What our inventory and Ansible's share: finding a file by name (``fix-phpp`` is
``playbooks/fix-phpp.yml``), paths relative to the inventory, and the connection keys of a host."""

from __future__ import annotations

from pathlib import Path

from remediate.errors import UserError

CONNECTION_KEYS = ("user", "port", "identity_file", "known_hosts", "become")


HOST_KEYS = ("address", *CONNECTION_KEYS, "vars")


DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


def find_named_file(name: str, folder: str, what: str) -> Path:
    """``NAME`` means ``folder/NAME.yml`` (or .yaml) below the working directory; anything path-like is a path."""
    as_path = Path(name).expanduser()
    if as_path.suffix in (".yml", ".yaml") or "/" in name or as_path.is_file():
        return as_path
    candidates = [Path(folder) / f"{name}{suffix}" for suffix in (".yml", ".yaml")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise UserError(f"{what} '{name}' not found (looked for {looked})")


def local_path(value: str | None, inventory_path: Path) -> str | None:
    """``~`` expands; a relative path is relative to the inventory's folder, so inventories travel."""
    if value is None:
        return None
    expanded = Path(value).expanduser()
    return str(expanded if expanded.is_absolute() else (inventory_path.parent / expanded).resolve())
