"""The pristine filesystem of a lab host, read from package data so tests can compare bytes.

A lab host serves a small WordPress-like site whose ``wp-settings.php`` carries the outage typo
(``class-wp-locale.phpp``): ``php -l`` accepts the file, but every request dies on the failed
``require`` and the PHP server answers 500. Fixing the one line makes ``GET /`` answer 200 with a
greeting and the host name. Next to the docroot each host gets a minimal Debian-style
``/etc/apache2`` and empty ``/var/backups``, ``/tmp``, ``/run/lock`` and ``/run/remediate`` (the lock
folder of a root run: each host has its own, as a real host would).

A lab with Apache (:class:`ApacheBuild`) gets instead a complete, working Debian Apache 2.4 config,
modelled on the files of Debian's apache2 and libapache2-mod-php packages but with only the modules the
site needs (prefork, mod_php, authz_core, dir, mime, headers), and a static ``health.txt`` in the
docroot that answers 200 whatever PHP does. Three of its files differ per host
(:func:`apache_host_files`): ``ports.conf`` listens on the host's own address only, ``envvars`` names
the host, and ``conf-available/servername.conf`` sets its ServerName. ``envvars`` keeps Apache's run
directory, pid file, lock directory and logs in the host's own ``/run/lock`` and ``/tmp``: ``/run`` and
``/var/log`` are shared by every lab host, so ``apache2ctl`` run on a host must not look there.

The files are data, not code: ``site/tree.txt`` lists every entry (kind, mode, owner, path) in the
order it is written, and ``site/base/`` and ``site/apache/`` hold the contents at the paths the host
sees. What differs per lab or per host is an ``@NAME@`` placeholder, filled in by :func:`substitute`:
explicit, so that a typo in a name fails loudly instead of leaving text behind, and unlike ``$name``
(string.Template) it cannot be mistaken for the shell and Apache variables the files are full of.

Everything here is pure (reading package data aside): :func:`pristine_tree` returns values;
``lab.fleet`` writes them.
"""

from __future__ import annotations

import grp
import pwd
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Literal, cast

# The folders a lab host sees from its own backing directory (bind mounts in its namespace).
BOUND_DIRS = ("/var/www", "/etc/apache2", "/var/backups", "/tmp", "/run/lock", "/run/remediate")

DOCROOT = "/var/www/html"

# Where a lab host's Apache keeps its state, as site/apache/etc/apache2/envvars sets it; Debian's own
# places are shared by every lab host.
APACHE_RUN_DIR = "/run/lock/apache2-run"
APACHE_PID_FILE = f"{APACHE_RUN_DIR}/apache2.pid"
APACHE_LOCK_DIR = "/run/lock/apache2"
APACHE_LOG_DIR = "/tmp/apache2-log"

EntryKind = Literal["dir", "file", "symlink"]
_KINDS: tuple[EntryKind, ...] = ("dir", "file", "symlink")

_SITE = files("remediate.lab") / "site"
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")


@dataclass(frozen=True)
class TreeEntry:
    """One file, directory or symlink of a lab host, by its path as the host sees it."""

    path: str
    kind: EntryKind
    mode: int
    uid: int = 0
    gid: int = 0
    data: bytes = b""  # file content, or the target of a symlink


@dataclass(frozen=True)
class ApacheBuild:
    """What the working Apache config needs from this machine: mod_php's shared object."""

    php_module: str  # e.g. /usr/lib/apache2/modules/libphp8.2.so (libapache2-mod-php)

    @property
    def php_module_name(self) -> str:
        """Debian's name for the module's files: libphp8.2.so -> php8.2 (mods-available/php8.2.load)."""
        match = re.fullmatch(r"lib(php[0-9.]*)\.so", self.php_module.rsplit("/", 1)[-1])
        return match.group(1) if match else "php"


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``@NAME@`` replaced by ``values[NAME]``; ValueError names one with no value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values)) or "none here"
            raise ValueError(f"lab site placeholder @{name}@ has no value (known: {known})")
        return values[name]

    return _PLACEHOLDER.sub(value, text)


def _www_data_ids() -> tuple[int, int]:
    try:
        return pwd.getpwnam("www-data").pw_uid, grp.getgrnam("www-data").gr_gid
    except KeyError:  # not Debian: keep the tree valid, owned by root
        return 0, 0


def _ids(owner: str) -> tuple[int, int]:
    www_uid, www_gid = _www_data_ids()
    user, group = owner.split(":")
    return {"root": 0, "www-data": www_uid}[user], {"root": 0, "www-data": www_gid}[group]


@cache
def _sections() -> dict[str, tuple[tuple[str, ...], ...]]:
    """tree.txt's sections: name -> its lines, split into fields (a symlink's target as the last)."""
    sections: dict[str, list[tuple[str, ...]]] = {}
    current: list[tuple[str, ...]] | None = None
    for number, line in enumerate(_SITE.joinpath("tree.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        head, _, target = line.partition(" -> ")
        fields = (*head.split(), *((target,) if target else ()))
        if current is None or fields[0] not in _KINDS or len(fields) != 4 + (fields[0] == "symlink"):
            raise ValueError(f"lab site tree.txt line {number}: not `kind mode owner path [-> target]`: {line!r}")
        current.append(fields)
    return {name: tuple(lines) for name, lines in sections.items()}


def _content(path: str, layers: tuple[str, ...]) -> bytes:
    for layer in layers:
        source: Traversable = _SITE.joinpath(layer, *path.lstrip("/").split("/"))
        if source.is_file():
            return source.read_bytes()
    raise FileNotFoundError(f"lab site: no content for {path} in {', '.join(layers)}")


def _section(name: str, values: Mapping[str, str] = {}) -> tuple[TreeEntry, ...]:
    """The entries of one section of tree.txt, placeholders filled in from ``values``."""
    layers = ("apache", "base") if name.startswith("apache") else ("base",)
    entries = []
    for kind, mode, owner, path, *target in _sections()[name]:
        if kind == "file":
            data = substitute(_content(path, layers).decode(), values).encode()
        else:
            data = substitute(target[0], values).encode() if target else b""
        uid, gid = _ids(owner)
        entries.append(TreeEntry(substitute(path, values), cast(EntryKind, kind), int(mode, 8), uid, gid, data))
    return tuple(entries)


def apache_host_files(host_name: str, address: str) -> tuple[TreeEntry, ...]:
    """The files of a lab host with Apache that differ from host to host (not in the shared tree)."""
    return _section("apache-host", {"HOST_NAME": host_name, "HOST_ADDRESS": address})


@cache
def pristine_tree(apache: ApacheBuild | None = None) -> tuple[TreeEntry, ...]:
    """Every entry under :data:`BOUND_DIRS`, the bound folders first, parents before children.

    With ``apache``: the working Apache config and the health file, without the files of
    :func:`apache_host_files`; this is the part every host shares, :func:`host_pristine_tree` is one
    host's whole tree.
    """
    if apache is None:
        etc = _section("no-apache")
    else:
        etc = _section("apache", {"PHP_MODULE": apache.php_module, "PHP_MODULE_NAME": apache.php_module_name})
    return (*_section("docroot"), *etc, *_section("state"))


def host_pristine_tree(host_name: str, address: str, apache: ApacheBuild | None = None) -> tuple[TreeEntry, ...]:
    """One host's whole pristine tree: the shared tree with the host's own files in place."""
    shared = pristine_tree(apache)
    return shared if apache is None else (*shared, *apache_host_files(host_name, address))
