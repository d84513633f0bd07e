"""The static halves of the remote scripts: the shell function libraries in ``sh/``, shipped as package
data, which the script builders put before the per-run lines they generate (calls with quoted paths,
one line per file). A library reads what a run sets (a limit, a lock folder) from shell variables that
the generated part sets first, so its text is the same for every run and ``shellcheck`` reads it."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# The first line of every generated script: its single-quoted words are data, never code of this shell.
DATA_WORDS = (
    "# shellcheck disable=SC2016  # single-quoted words are data here (file bytes, paths, messages,"
    " commands for sh -c): none is to expand"
)
# Before a generated ``A && B || C`` whose C is to run when any of the checks before it fails.
CHECKS_CHAIN = "# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails"

LIBRARIES = ("records.sh", "reader.sh", "xattrs.sh", "commit.sh", "probe.sh")


@cache
def library(name: str) -> str:
    """The text of ``sh/NAME``, without its last newline (the builders join lines)."""
    if name not in LIBRARIES:
        raise ValueError(f"no shell library {name!r}")
    return files("remediate.remote").joinpath("sh", name).read_text(encoding="utf-8").rstrip("\n")
