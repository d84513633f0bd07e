"""Extended attributes and POSIX ACLs, kept across a replacement: a shell half and a pure parser half each
for reading them (``getfattr``) and for giving them to another file (``setfattr``).

The ACL is the ``system.posix_acl_access`` attribute, which ``getfattr -m -`` lists and ``setfattr``
sets like any other, so one tool carries both, and the SELinux label (``security.selinux``) comes with
them. Reading is one ``getfattr`` for every file of a host (one process); the dump it prints holds the
file names the controller passed, escaped by getfattr (``\\ooo`` for a backslash, a newline, a
carriage return), and is sent back base64 in one record, so nothing in it can break the answer's frame.
A host without getfattr says so, and the plan says the attributes of its files cannot be kept.

Writing is one ``setfattr --restore`` for every file of a host, fed a dump whose ``# file:`` headers name
the files to give the attributes to. setfattr unescapes a restore line before it splits it at ``=``, so
an attribute whose name holds ``=`` goes through ``setfattr -n`` instead (its name is unescaped alone).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence

from remediate.errors import HostError
from remediate.model import FileChange, Xattrs
from remediate.remote.shell import library

ACL = "system.posix_acl_access"
# The records and the variable as sh/xattrs.sh and sh/reader.sh spell them.
XATTRS_RECORD = "xattrs"  # ``xattrs BASE64``: getfattr's dump of the host's files, when it printed any
NO_GETFATTR_RECORD = "no-getfattr"  # the host has no getfattr: its files' attributes are not known
REGULAR_SEEN = "xa"  # set by the reader's shell for a regular file, which is what has attributes to keep
_EOF = "__REMEDIATE_XATTRS__"  # a dump line holds ``# file: `` or an ``=``: it never reads like this
_OCTAL = re.compile(rb"\\([0-3][0-7][0-7])")
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+@:,%~^")


# --- reading ---------------------------------------------------------------------------------------------


def read_xattrs_script(paths: Sequence[str]) -> str:
    """Shell for the end of the reading script: every attribute of ``paths`` (followed through links, as
    the file's bytes are), when one of them was found to be a regular file (``read_xattrs``,
    sh/xattrs.sh). The common case, a file with none, costs one process and no record."""
    return f"{library('xattrs.sh')}\nread_xattrs {' '.join(shlex.quote(path) for path in paths)}"


def parse_xattr_dump(dump: bytes, paths: Sequence[str]) -> dict[str, Xattrs]:
    """``getfattr -d -e base64`` output, as ``{path: attributes}`` for the paths it names (a path it does
    not name has none). A line that is not of a dump, or a file that was not asked about, is a HostError:
    the host's answer is not what our script prints."""
    wanted = {path.encode("utf-8", errors="surrogateescape"): path for path in paths}
    found: dict[str, list[tuple[str, bytes]]] = {}
    current: list[tuple[str, bytes]] | None = None
    for line in dump.split(b"\n"):
        if not line:
            current = None
        elif line.startswith(b"# file: "):
            path = wanted.get(unescape(line[len(b"# file: ") :]))
            if path is None or path in found:
                raise _unexpected(line)
            current = found[path] = []
        elif current is not None:
            current.append(_attribute(line))
        else:
            raise _unexpected(line)
    return {path: tuple(attributes) for path, attributes in found.items()}


def _attribute(line: bytes) -> tuple[str, bytes]:
    name, equals, value = line.partition(b"=")
    if not name or not equals or not value.startswith(b"0s"):
        raise _unexpected(line)
    try:
        decoded = base64.b64decode(value[2:], validate=True)
    except binascii.Error:
        raise _unexpected(line) from None
    return unescape(name).decode("utf-8", errors="surrogateescape"), decoded


def _unexpected(line: bytes) -> HostError:
    return HostError(f"unexpected answer while reading extended attributes: {line[:120]!r}")


def unescape(text: bytes) -> bytes:
    """getfattr's and setfattr's ``\\ooo``: the byte with that octal value."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), text)


def escape(text: str) -> str:
    """``text`` as setfattr reads it back: every byte but plain letters, digits and a few signs as
    ``\\ooo``, so a dump line stays one line of printable ASCII with no quote, space or shell syntax."""
    raw = text.encode("utf-8", errors="surrogateescape")
    return "".join(chr(byte) if byte in _SAFE else f"\\{byte:03o}" for byte in raw)


# --- writing ---------------------------------------------------------------------------------------------


def setfattr_commands(targets: Mapping[str, Xattrs], failed: str) -> list[str]:
    """Shell that gives each file (a path known to the controller) its attributes: one ``setfattr`` for
    all (and one for each attribute it cannot restore), each followed by ``failed`` (a command that
    reports and exits) when it refuses, with what setfattr said in ``$o``. Nothing when no file has any."""
    dump = "\n\n".join(
        "\n".join([f"# file: {escape(path)}", *lines])
        for path, xattrs in targets.items()
        if (lines := _restorable(xattrs))
    )
    commands = [f"o=$(setfattr -h --restore=- 2>&1 <<'{_EOF}'", dump, _EOF, f") || {failed}"] if dump else []
    for path, xattrs in targets.items():
        commands += [f"o=$({command} 2>&1) || {failed}" for command in _by_name(shlex.quote(path), xattrs)]
    return commands


def put_back_xattrs(change: FileChange) -> str:
    """Shell that gives ``"$b"``, the copy of an original that mktemp made in its folder (``.remediate-``
    and random letters), the original's attributes: commands that each follow `` && ``, to go on a chain.
    Empty when there are none."""
    xattrs = change.before_xattrs or ()
    commands = []
    if lines := _restorable(xattrs):
        # An escaped name holds no quote, dollar or backquote: it can go in double quotes with "$b"'s name.
        header = f'"# file: {escape(posixpath.dirname(change.real_path))}/${{b##*/}}"'
        commands.append(f"printf '%s\\n' {header} {' '.join(map(shlex.quote, lines))} | setfattr -h --restore=-")
    commands += _by_name('"$b"', xattrs)
    return "".join(f" && {command}" for command in commands)


def _restorable(xattrs: Xattrs) -> list[str]:
    """The lines of a ``setfattr --restore`` dump for the attributes whose names it can carry."""
    return [f"{escape(name)}={_value(value)}" for name, value in xattrs if "=" not in name]


def _by_name(target: str, xattrs: Xattrs) -> list[str]:
    """``setfattr -n`` for each attribute a restore dump cannot carry (``=`` in its name), on the file
    that the shell word ``target`` names."""
    return [
        f"setfattr -h -n {shlex.quote(escape(name))}{f' -v {_value(value)}' if value else ''} -- {target}"
        for name, value in xattrs
        if "=" in name
    ]


def _value(value: bytes) -> str:
    # setfattr sets nothing for an empty "0s": an empty value is written as an empty quoted string.
    return f"0s{base64.b64encode(value).decode('ascii')}" if value else '""'
