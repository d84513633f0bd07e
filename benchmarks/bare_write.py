"""remediate with its write's safety commands stubbed out: an analysis bound for issue 19, not a mode of
the product (nothing in remediate can run this way).

    python bare_write.py apply PLAYBOOK --inventory FILE --yes ...   (remediate's own arguments)

Runs the installed remediate as its console script does, except that the script of a host's write has
its safety commands replaced by shell no-ops:

- the lock folder's ``stat`` and the ``flock`` (the lock file is still opened, by the shell);
- the drift ``stat`` (the file's mode and owner unchanged since the read);
- both ``sha256sum`` runs: the compare-and-swap with the upload check, and the read-back;
- both ``sync`` runs: the temporary file and the backup before the rename, the folder after it.

What stays is what any tool that keeps a backup does: the read (``stat``, ``base64``, ``getfattr``), the
backup (``mkdir`` and its bytes, through the shell's ``printf``), the temporary file (``printf``) and the
rename (``mv``). Its apply time answers the question the issue's targets raise: how fast would the apply
be with no safety step left on the write at all?

Every substitution must match the script it is applied to: one that no longer does (the write script
changed) stops the run at once with exit 2, so this can never time the full script by mistake.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import remediate.fleet.transport as transport
from remediate.cli.main import run

# (what it stubs, the pattern, its replacement). Each must match every write script at least once. Each
# pattern starts with literal text, which the regex engine finds fast: the harness's own time on the
# controller (about 0.25 ms a 70 KB script) stays small beside the bound it measures.
STUBS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("the lock folder's stat", re.compile(re.escape('m=$(stat -c %f -- "$d" 2>/dev/null)')), "m=41c0"),
    ("flock", re.compile(r"flock -[nw] (?:[0-9.]+ )?9 \|\|"), "true ||"),
    (
        "the drift stat",
        re.compile(r"if \[ \"\$\(stat -c '%f %u %g' -- [^)]*\)\" != '[^']*' \]; then"),
        "if false; then",
    ),
    (
        "sha256sum (compare-and-swap and upload check; read-back)",
        re.compile(r"if \[ \"\$\(sha256sum -- [^)]*\)\" != '[^']*' \]; then"),
        "if false; then",
    ),
    ("sync", re.compile(r"\nsync -- [^\n]*"), "\n:"),
)
WRITE_MARK = b"say ready 0 -"  # only a write's script says it is about to rename


def bare(script: str) -> str:
    """The write script with every stub applied; exit 2 at once when one of them matches nothing."""
    for what, pattern, replacement in STUBS:
        script, count = pattern.subn(replacement, script)
        if count == 0:
            sys.stderr.write(f"bare_write.py: the write script no longer has {what}: update its STUBS\n")
            sys.stderr.flush()
            os._exit(2)  # from a host's thread too: no half-measured run
    return script


_run_script = transport.SshTransport.run_script


def _bare_run_script(self: transport.SshTransport, script: bytes, *args: Any, **kwargs: Any) -> Any:
    if WRITE_MARK in script:
        script = bare(script.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    return _run_script(self, script, *args, **kwargs)


if __name__ == "__main__":
    transport.SshTransport.run_script = _bare_run_script  # type: ignore[method-assign]
    sys.argv[0] = "remediate"
    run()
