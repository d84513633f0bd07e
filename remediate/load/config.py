"""The operator's configuration file: settings a controller keeps between commands.

``$REMEDIATE_CONFIG``, else ``$XDG_CONFIG_HOME/remediate/config.yml``, else ``~/.config/remediate/config.yml``;
none is fine. Today it holds one setting, the journal every command uses when neither ``--journal`` nor
``$REMEDIATE_JOURNAL`` names one::

    journal: postgresql://ann@db.example.com/remediate

The file is trusted only as the user's own and private to changes (writable by nobody else):
the journal it names tells ``rollback`` what to write on the hosts.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from remediate.errors import UserError
from remediate.yamlnode import Node, display_path, load_yaml

CONFIG_ENV = "REMEDIATE_CONFIG"
JOURNAL_SCHEMES = ("postgresql", "postgres")  # SQLite needs no setting: it is the default, in the state folder


@dataclass(frozen=True)
class Config:
    journal: str | None = None  # a journal URL


def config_path() -> Path:
    """Where the configuration file is looked for (it need not exist)."""
    if explicit := os.environ.get(CONFIG_ENV):
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    # The XDG base directory spec ignores a relative path: it would change with the working directory.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "remediate" / "config.yml"


def load_config(path: Path | None = None) -> Config:
    """The configuration, or the defaults when there is no file; a bad one is a UserError in one line. A
    file named by ``$REMEDIATE_CONFIG`` must exist."""
    path = config_path() if path is None else path
    try:
        info = path.stat()  # through a link (dotfiles often are): the file it reaches is what counts
    except FileNotFoundError:
        if os.environ.get(CONFIG_ENV):
            raise UserError(f"{display_path(path)}: file not found (named by ${CONFIG_ENV})") from None
        return Config()
    except OSError as e:
        raise UserError(f"{display_path(path)}: cannot read: {e.strerror}") from None
    _check_trusted(path, info)
    root = Node(path, "", load_yaml(path))
    fields = root.mapping(("journal",))
    journal = fields["journal"].string() if "journal" in fields else None
    if journal is not None and urlsplit(journal).scheme not in JOURNAL_SCHEMES:
        raise fields["journal"].error(
            "expected a postgresql://... URL (the default journal is SQLite in the state folder)"
        )
    return Config(journal=journal)


def _check_trusted(path: Path, info: os.stat_result) -> None:
    shown = display_path(path)
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{shown}: not a regular file")
    if info.st_uid != os.geteuid():
        raise UserError(f"{shown}: belongs to another user; the configuration must be a file of your own")
    if info.st_mode & 0o022:
        raise UserError(f"{shown}: is writable by others (mode {stat.S_IMODE(info.st_mode):04o}); chmod go-w it")
