"""Extended attributes and POSIX ACLs of a host's files: a shell half and a pure parser half for reading
them (``getfattr``).

The ACL is the ``system.posix_acl_access`` attribute, which ``getfattr -m -`` lists like any other, so one
tool reads both, and the SELinux label (``security.selinux``) comes with them. Reading is one
``getfattr`` for every file of a host (one process); the dump it prints holds the file names the
controller passed, escaped by getfattr (``\\ooo`` for a backslash, a newline, a carriage return), and is
sent back base64 in one record, so nothing in it can break the answer's frame. A host without getfattr
says so.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Sequence

from .errors import HostError
from .model import Xattrs

XATTRS_RECORD = "xattrs"  # ``xattrs BASE64``: getfattr's dump of the host's files, when it printed any
NO_GETFATTR_RECORD = "no-getfattr"  # the host has no getfattr: its files' attributes are not known
REGULAR_SEEN = "xa"  # set by the reader's shell for a regular file, which is what has attributes to keep
_OCTAL = re.compile(rb"\\([0-3][0-7][0-7])")


# --- reading ---------------------------------------------------------------------------------------------


def read_xattrs_script(paths: Sequence[str]) -> str:
    """Shell for the end of the reading script: every attribute of ``paths`` (followed through links, as
    the file's bytes are), when one of them was found to be a regular file. The common case, a file
    with none, costs one process and no record."""
    files = " ".join(shlex.quote(path) for path in paths)
    return "\n".join(
        [
            f'if [ -n "${REGULAR_SEEN}" ]; then',
            "  if command -v getfattr >/dev/null; then",
            f"    xd=$(getfattr -d -m - -e base64 --absolute-names -- {files} 2>/dev/null)",
            f"    [ -z \"$xd\" ] || {{ printf '{XATTRS_RECORD} '; printf '%s\\n' \"$xd\" | base64 -w0; echo; }}",
            f"  else echo {NO_GETFATTR_RECORD}",
            "  fi",
            "fi",
        ]
    )


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
    """getfattr's ``\\ooo``: the byte with that octal value."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), text)
