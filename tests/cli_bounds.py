"""Running remediate's CLI in a child process whose time and memory are bounded and measured.

``PEAK_REPORTER`` runs the CLI (argv after the report's path) and writes its peak resident memory
(VmHWM, KiB) as it ends (the CLI ends with os._exit, which atexit does not see). Not wait4's
ru_maxrss: Linux keeps in it the peak of the image a child had before exec, which is the forking pytest
process's whole size (300 MB late in the suite was seen), not the controller's.

``run_bounded`` runs the CLI under a hang guard: the child is killed and the test fails when it has not
ended ``seconds`` after its interpreter is up (remediate's modules imported: about 0.7 s, which a busy
machine can stretch, so it is not on the clock). Its address space is capped (``ADDRESS_SPACE_CAP``) so
that a runaway input fails the test instead of taking the machine; its peak resident memory is measured.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDRESS_SPACE_CAP = 1 << 30  # virtual: far above the 50 MB resident a refused input costs
STARTUP_SECONDS = 60  # for the interpreter and imports alone: only a stuck machine takes this long

PEAK_REPORTER = """
import os, re, runpy, sys
report, end = sys.argv[1], os._exit
def write_peak_and_end(code):
    status = open("/proc/self/status").read()
    open(report, "w").write(re.search(r"^VmHWM:\\s+(\\d+) kB$", status, re.M).group(1))
    end(code)
os._exit = write_peak_and_end
sys.argv = ["remediate", *sys.argv[2:]]
runpy.run_module("remediate.cli.main", run_name="__main__", alter_sys=True)
"""

# argv: the fd to say "imported" on, then PEAK_REPORTER's (the report's path, the CLI's arguments).
_BOUNDED = f"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_CAP}, {ADDRESS_SPACE_CAP}))
ready = int(sys.argv.pop(1))
import remediate.runs.session, remediate.cli.apply  # what remediate.cli.main and apply import (not the cli itself: runpy runs it)
os.write(ready, b"."); os.close(ready)
{PEAK_REPORTER}
"""


@dataclass(frozen=True)
class Ended:
    code: int
    stdout: str
    stderr: str
    peak_kib: int | None  # None when the CLI ended without reaching os._exit (a traceback)


def run_bounded(argv: list[str], cwd: Path, seconds: float) -> Ended:
    """The CLI run with ``argv`` in ``cwd``; the test fails if it runs ``seconds`` past its imports."""
    report = cwd / ".peak-kib"
    report.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _BOUNDED, str(write_end), str(report), *argv],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, pass_fds=(write_end,),
        )  # fmt: skip
        os.close(write_end)
        write_end = -1
        if not select.select([read_end], [], [], STARTUP_SECONDS)[0]:
            child.kill()
            child.communicate()
            pytest.fail(f"the interpreter did not import remediate within {STARTUP_SECONDS} s")
        os.read(read_end, 1)  # b"." imported, or b"" when it died first (its stderr says why)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    try:
        stdout, stderr = child.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        stdout, stderr = child.communicate()
        pytest.fail(f"remediate {' '.join(argv)} did not end within {seconds:g} s; stderr: {stderr[-2000:]}")
    peak = int(report.read_text()) if report.exists() else None
    return Ended(child.returncode, stdout, stderr, peak)
