"""Report files replaced atomically: a reader (node_exporter, a CI job) sees the old file or the new one,
never a half-written one, and a failed write leaves the old file as it was."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from remediate.errors import UserError

# node_exporter and CI runners often read as another user: the file is world-readable unless the umask
# says otherwise, like a file made by open(). (mkstemp's 0600 would hide it from them.)
_MODE = 0o644


def check_writable_folder(path: Path, option: str) -> None:
    """Refuses, before any host is audited, a report file whose folder does not exist."""
    if not path.parent.is_dir():
        raise UserError(f"{option} {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise UserError(f"{option} {path}: is a folder")


def replace_file(path: Path, data: bytes, option: str) -> None:
    """Writes ``data`` to a temporary file beside ``path``, fsyncs it, renames it over ``path`` and fsyncs
    the folder: after a crash the folder holds the old file or the whole new one."""
    folder = path.parent
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise UserError(f"{option} {path}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            # Reading the umask means setting it; the audit's threads are done by now, so none sees 0.
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), _MODE & ~umask)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as e:  # also Ctrl-C: no temporary file is left behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise UserError(f"{option} {path}: cannot write: {e.strerror or e}") from None
        raise
    try:
        _fsync_folder(folder)
    except OSError as e:  # the new file is in place, but a crash now could still bring the old one back
        raise UserError(f"{option} {path}: written, but its folder could not be synced: {e.strerror or e}") from None


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
