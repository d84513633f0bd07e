"""Reading every target file of a host in one remote command: a shell half and a pure parser half.

The script needs only POSIX sh and coreutils on the host (no Python there). Its answer is framed as
``answer`` says; for each path it prints one line: ``INDEX KIND`` (``INDEX missing orphan K``: its
folder is missing too, and the first K components of its path exist; ``blocked`` instead of ``orphan``:
the last of them is not a folder, so no folder can be made there) or
``INDEX stat REALPATH MODEHEX SIZE UID GID OWNER GROUP CONTENT`` where REALPATH is ``=`` when no
component of the path is a symlink (the path is its own real path) or else base64 of the resolved path,
and CONTENT is ``b`` + base64 of the bytes, ``-`` when not read (not a regular file, or over the size
limit), or ends in ``!`` when reading failed half-way. After the files, the extended attributes and ACLs
of the regular ones, as ``xattrs`` says: one ``xattrs`` record when some file has any, ``no-getfattr``
when the host cannot tell.

Every process started on a host costs about a millisecond of its CPU, and a fleet shares the machine it
runs on, so the common case (a regular file with no symlink on its path) starts two: ``stat`` and
``base64``, and one ``getfattr`` for the whole host. The symlink tests on each component of the path are
shell builtins; ``readlink -f`` runs only when one of them finds a link.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import shlex
import stat
from collections.abc import Sequence

from remediate.errors import HostError
from remediate.model import FileKind, RemoteFile, Xattrs, path_components
from remediate.remote.answer import BEGIN_LINE, END_LINE, read_answer
from remediate.remote.hostlock import LOCK_FUNCTIONS, locked_message
from remediate.remote.shell import DATA_WORDS, library
from remediate.remote.xattrs import (
    NO_GETFATTR_RECORD,
    REGULAR_SEEN,
    XATTRS_RECORD,
    parse_xattr_dump,
    read_xattrs_script,
)

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024

# ``r INDEX PATH COMPONENT...`` (sh/reader.sh), which reads ``LIMIT`` and sets ``REGULAR_SEEN``.
_READER = library("reader.sh")


def gather_script(paths: Sequence[str], max_file_size: int = DEFAULT_MAX_FILE_SIZE, lock: str = "") -> bytes:
    """``lock``: shell that takes the host's lock before anything is read (``hostlock.lock_shell``), for a
    read whose write follows in the same shell (a rollback's)."""
    calls = "".join(
        f"r {i} {shlex.quote(path)} {' '.join(shlex.quote(p) for p in path_components(path))}\n"
        for i, path in enumerate(paths)
    )
    locking = f"{LOCK_FUNCTIONS}\n{lock}\n" if lock else ""
    start = f"{DATA_WORDS}\nLIMIT={int(max_file_size)}; {REGULAR_SEEN}=''\n{_READER}\n{BEGIN_LINE}\n{locking}"
    return f"{start}{calls}{read_xattrs_script(paths)}\n{END_LINE}\n".encode()


def parse_gather(
    output: bytes, paths: Sequence[str], max_file_size: int = DEFAULT_MAX_FILE_SIZE, lock_wait: float = 0.0
) -> dict[str, RemoteFile]:
    answer = read_answer(output)
    files: dict[str, RemoteFile] = {}
    if (refusal := _refusal_in(answer.records, lock_wait)) is not None:
        raise HostError(refusal)
    attributes: dict[str, Xattrs] | None = {}
    for raw in answer.records:
        fields = raw.split(" ")
        if fields[0] in (XATTRS_RECORD, NO_GETFATTR_RECORD):
            attributes = _xattrs(fields, paths, answer.unexpected("while reading files"))
            continue
        if len(fields) < 2 or not fields[0].isdigit() or int(fields[0]) >= len(paths):
            raise HostError(answer.unexpected("while reading files"))
        path = paths[int(fields[0])]
        files[path] = _parse_record(path, fields[1:], max_file_size)
    if not answer.complete:
        raise HostError(answer.unexpected("while reading files (it stopped before its end)"))
    missing = [p for p in paths if p not in files]
    if missing:
        raise HostError(f"incomplete answer while reading files: nothing about {', '.join(missing)}")
    return {path: _with_xattrs(remote, attributes) for path, remote in files.items()}


def _xattrs(fields: list[str], paths: Sequence[str], unexpected: str) -> dict[str, Xattrs] | None:
    """The attributes of the files from an ``xattrs`` record (None from a ``no-getfattr`` one)."""
    if fields == [NO_GETFATTR_RECORD]:
        return None
    if len(fields) != 2 or fields[0] != XATTRS_RECORD:
        raise HostError(unexpected)
    try:
        dump = base64.b64decode(fields[1], validate=True)
    except binascii.Error:
        raise HostError(unexpected) from None
    return parse_xattr_dump(dump, paths)


def _with_xattrs(remote: RemoteFile, attributes: dict[str, Xattrs] | None) -> RemoteFile:
    """A regular file with the attributes read (none when the dump did not name it); other kinds none."""
    if remote.kind != FileKind.FILE:
        return remote
    return dataclasses.replace(remote, xattrs=None if attributes is None else attributes.get(remote.path, ()))


def lock_refusal(output: bytes, lock_wait: float = 0.0) -> str | None:
    """Why the read did not take the host's lock (another run holds it, or it is not the run's user's
    own), when it was to take it; None when it took it, or was not to."""
    return _refusal_in(read_answer(output).records, lock_wait)


def _refusal_in(records: Sequence[str], lock_wait: float) -> str | None:
    """``lock_refusal`` from an answer's records (an answer already read is not split into lines again)."""
    for raw in records:
        word, _, rest = raw.partition(" ")
        if word in ("locked", "unlockable"):
            try:
                detail = base64.b64decode(rest.partition(" ")[2], validate=True).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                detail = "(an unreadable answer)"
            return locked_message(detail, lock_wait) if word == "locked" else f"{detail}; not touched"
    return None


def _orphan(path: str, blocked: bool, existing: int) -> RemoteFile:
    """A missing file whose folder is missing too, from how many components of its path exist."""
    components = path_components(path)
    if not int(blocked) <= existing < len(components):
        raise HostError(f"unexpected answer about {path}: {existing} components exist")
    if blocked:
        return RemoteFile(path, FileKind.MISSING, not_a_folder=components[existing - 1])
    return RemoteFile(path, FileKind.MISSING, missing_folders=tuple(components[existing:-1]))


def _parse_record(path: str, fields: list[str], max_file_size: int) -> RemoteFile:
    kind = fields[0]
    if kind == "missing" and len(fields) == 3 and fields[1] in ("orphan", "blocked") and fields[2].isdigit():
        return _orphan(path, fields[1] == "blocked", int(fields[2]))
    if kind in ("missing", "dangling", "unreadable"):
        return RemoteFile(path, FileKind(kind), error="permission denied or I/O error" if kind == "unreadable" else "")
    if kind != "stat" or len(fields) != 9:
        raise HostError(f"unexpected answer about {path}: {' '.join(fields)[:120]!r}")
    real_b64, mode_hex, size, uid, gid, owner, group, content_field = fields[1:]
    try:
        raw_mode = int(mode_hex, 16)
        # readlink ends its answer with one newline, which is not part of the path
        if real_b64 == "=":
            real_path = path
        else:
            real_path = base64.b64decode(real_b64).decode("utf-8", errors="surrogateescape").removesuffix("\n") or path
        numbers = (stat.S_IMODE(raw_mode), int(uid), int(gid))
        byte_count = int(size)

        def record(kind: FileKind, content: bytes | None = None, error: str = "") -> RemoteFile:
            mode, user_id, group_id = numbers
            return RemoteFile(path, kind, real_path, mode, user_id, group_id, owner, group, byte_count, content, error)

        if stat.S_ISDIR(raw_mode):
            return record(FileKind.DIRECTORY)
        if not stat.S_ISREG(raw_mode):
            return record(FileKind.OTHER)
        if content_field.endswith("!"):
            return record(FileKind.UNREADABLE, error="permission denied while reading")
        if content_field == "-":
            return record(FileKind.FILE, error=f"file is {size} bytes, over the {max_file_size}-byte limit")
        return record(FileKind.FILE, base64.b64decode(content_field[1:], validate=True))
    except (ValueError, binascii.Error) as e:
        raise HostError(f"unexpected answer about {path}: {e}") from None
