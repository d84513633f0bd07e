"""Fleet benchmark (issue 19): remediate, installed and run as its users do, against pyinfra, Ansible, floors.

remediate against pyinfra, Ansible and the OpenSSH (and, optionally, Fabric) floors, on one lab fleet.

Run it through ``benchmarks/run.sh``, which installs every tool in a venv of its own (remediate from a
snapshot of the checkout, not editable) and runs this file with the remediate venv's Python, as root::

    benchmarks/run.sh --hosts 100 --repeat 3 [--tools remediate,pyinfra,ansible,ansible-tuned,openssh,fabric]

It starts a lab of N hosts (a real sshd per host, see ``remediate.lab.fleet``), then, for each repetition,
runs every tool's jobs interleaved (the order rotating with the repetition):

- dry-run  on the broken fleet: remediate's human output (its default) and ``--json``; pyinfra --dry;
  ansible-playbook --check;
- apply    on a freshly broken fleet (every host's wp-settings.php rewritten with the broken bytes first,
  every backup of an earlier job removed): remediate human and ``--json``, and every other tool;
- re-run   on the fixed fleet: the same apply (remediate's human output) with nothing to do.

Each job is one subprocess; its wall time, its CPU time and its peak RSS (largest process, exact, from
wait4) are measured, and for the tools that fork (Ansible, OpenSSH via xargs) the sum of PSS over all
their processes is sampled. After every job the hosts' files are read from the lab's backing folders:
an apply counts only the hosts whose file has exactly the fixed bytes (with its mode and owner kept);
a dry-run or a re-run must leave every file as it was. Results go to stdout and to
``benchmarks/results/<date>T<time>-<N>hosts.json``. No target here is a test: this measures and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import posixpath
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import remediate
from remediate.errors import RemediateError
from remediate.lab.docroot import DOCROOT, TreeEntry, pristine_tree
from remediate.lab.fleet import Lab, lab_down, lab_up

BENCHMARK = "issue-19"  # the results files' format and jobs; earlier files (issue 6's) do not compare
REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
# Each tool in a venv of its own, as its users install it (run.sh builds them).
VENVS = {name: BENCH_DIR / f".venv-{name}" for name in ("remediate", "pyinfra", "ansible", "fabric")}
SNAPSHOT_FILE = "remediate-snapshot.json"  # what run.sh installed into the remediate venv: commit, dirty
TOOLS = ("remediate", "pyinfra", "ansible", "ansible-tuned", "fabric", "openssh", "remediate-bare")
DEFAULT_TOOLS = ("remediate", "pyinfra", "ansible", "ansible-tuned", "openssh")
# The jobs of a repetition, phase by phase: the fleet is broken for the first two, fixed for the last.
# The -json jobs are remediate's only: the same run with --json (what the human output costs).
PHASES = (("dry-run", "dry-run-json"), ("apply", "apply-json"), ("re-run",))
JOBS = tuple(job for phase in PHASES for job in phase)
ROW_ORDER = ("apply", "apply-json", "dry-run", "dry-run-json", "re-run")
REMEDIATE_JOBS = JOBS
OTHER_JOBS = ("dry-run", "apply", "re-run")

# The outage the benchmark fixes: one line of the lab's wp-settings.php.
WP_SETTINGS = "/var/www/html/wp-settings.php"
BROKEN_LINE = "require ABSPATH . WPINC . '/class-wp-locale.phpp';"
FIXED_LINE = "require ABSPATH . WPINC . '/class-wp-locale.php';"
# The one-line fix, as sed (pyinfra, Fabric, OpenSSH) and as a Python regex (remediate, Ansible).
SED_COMMAND = f"sed -i 's/\\.phpp\\b/.php/' {WP_SETTINGS}"
REGEX, REPLACEMENT = r"\.phpp\b", ".php"
# playbooks/fix-phpp.yml's step, without its verify: section: the benchmark's lab runs no web server
# (lab_up(http=False)), and no other tool verifies anything either.
PLAYBOOK_NAME = "fix-phpp-bench.yml"
PLAYBOOK_TEXT = """\
# Written by benchmarks/bench.py: playbooks/fix-phpp.yml's step, without its verify: section (the
# benchmark's lab runs no web server, and no other tool of the benchmark verifies anything).
name: fix-phpp-bench
description: Fix the .phpp typo in wp-settings.php (the benchmark's playbook, no verify)
hosts: all
steps:
  - name: fix the require line
    line_patch:
      path: "{{ docroot }}/wp-settings.php"
      regex: '\\.phpp\\b'
      replace: '.php'
      expect_matches: 0..1
"""
REFERENCE_PLAYBOOK = REPO / "playbooks" / "fix-phpp.yml"

ISSUE_TARGET_HOSTS = (100, 200)  # issue 19's comparisons with pyinfra, OpenSSH and Ansible
SCALE_HOSTS = 1000  # issue 19's scale targets: census, per-host time against 100 hosts, peak RSS
REFERENCE_HOSTS = 100
ANSIBLE_MAX_HOSTS = 200  # Ansible runs at 100 and 200 hosts only (about 0.2 s per host and job)
PER_HOST_DRIFT = 1.15  # at 1,000 hosts the apply's wall time per host within 15% of that at 100
PEAK_RSS_LIMIT_MB = 250.0
PYINFRA_RATIO = 0.8  # the apply and the dry-run at most this times pyinfra's
ANSIBLE_TIMES = 10.0  # the apply at least this many times faster than Ansible's
# What those two ask the apply to take, as (tool, factor of its apply's time, label).
ASKED_OF_THE_APPLY = (
    ("pyinfra", PYINFRA_RATIO, f"{PYINFRA_RATIO:g}x pyinfra apply"),
    ("ansible", 1 / ANSIBLE_TIMES, f"Ansible apply / {ANSIBLE_TIMES:g}"),
)
NOISY_BACKGROUND = 0.25  # CPUs busy with other work before a job that make its timing suspect


def base_job(job: str) -> str:
    return job.removesuffix("-json")


# --- measuring one subprocess --------------------------------------------------------------------


@dataclass
class Measurement:
    tool: str
    job: str
    repetition: int
    wall_s: float
    rc: int | None  # None: killed at the timeout
    user_s: float
    sys_s: float
    peak_rss_mb: float  # the largest single process of the job (the tool's own process, or a worker)
    tree_pss_mb: float | None  # sampled sum over every process of the job (tools that fork), else None
    machine_cpu_s: float  # every CPU second the machine spent during the job: controller, sshd, remote commands
    background_cores: float = 0.0  # CPUs busy in the pause just before the job, when nothing of ours ran
    pids_created: int = 0  # processes and threads started machine-wide during the job (fork, exec'd commands)
    code: str = ""  # hash of the installed remediate's sources when the job started
    reported: dict[str, int] = field(default_factory=dict)  # what the tool says it did
    fleet: dict[str, int] = field(default_factory=dict)  # what the hosts' files say afterwards
    ok: bool = True
    note: str = ""


class TreeSampler:
    """Samples the summed PSS of every process in a session (the job was started as its leader)."""

    def __init__(self, session: int, interval: float = 0.1) -> None:
        self.session = session
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _members(self) -> list[int]:
        members = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    data = stat.read()
            except OSError:
                continue
            fields = data[data.rindex(b")") + 2 :].split()
            if int(fields[3]) == self.session:  # state ppid pgrp session ...
                members.append(int(entry))
        return members

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            total = 0
            for pid in self._members():
                with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/smaps_rollup") as rollup:
                    for line in rollup:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def remediate_code_hash(package: Path) -> str:
    """A short hash of the installed remediate's Python sources, to tell which code a job ran."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def last_pid() -> int:
    with open("/proc/loadavg") as loadavg:
        return int(loadavg.read().split()[4])


def pids_since(before: int) -> int:
    with open("/proc/sys/kernel/pid_max") as pid_max:
        return (last_pid() - before) % int(pid_max.read())


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot: user, nice, system, irq, softirq, steal."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time, user and system, of this process's children waited for, to the microsecond (os.times
    counts clock ticks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Runner:
    """Runs one job at a time, in a session of its own, so it can be killed as a whole at the timeout.
    Its stdout and stderr go to files: the output a user's pipe or redirection gets (not a terminal)."""

    def __init__(self, work: Path, timeout: float) -> None:
        self.work = work
        self.timeout = timeout
        self.current: subprocess.Popen[bytes] | None = None

    def run(self, name: str, argv: list[str], env: dict[str, str], sample_tree: bool) -> tuple[Measurement, str, str]:
        out_path, err_path = self.work / f"{name}.out", self.work / f"{name}.err"
        timed_out = threading.Event()
        cpu_before, pid_before = machine_cpu_seconds(), last_pid()
        start = time.perf_counter()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.work, env=env, start_new_session=True
            )
            self.current = process
            sampler = TreeSampler(process.pid) if sample_tree else None

            def kill() -> None:
                timed_out.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)

            watchdog = threading.Timer(self.timeout, kill)
            watchdog.start()
            try:
                # Wait without reaping: while the leader is a zombie its process group cannot be reused,
                # so anything the job left behind in it can be killed by the group's id, then reaped.
                os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
                wall = time.perf_counter() - start
            finally:
                watchdog.cancel()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            self.current = None
            tree = sampler.stop() if sampler else None
        cpu, pids = machine_cpu_seconds() - cpu_before, pids_since(pid_before)
        measurement = Measurement(
            tool="",
            job="",
            repetition=0,
            wall_s=wall,
            rc=None if timed_out.is_set() else process.returncode,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024,
            tree_pss_mb=tree,
            machine_cpu_s=cpu,
            pids_created=pids,
        )
        return measurement, out_path.read_text(errors="replace"), err_path.read_text(errors="replace")

    def kill_current(self) -> None:
        process = self.current
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


# --- the fleet's state, read and written through the lab's backing folders -----------------------


@dataclass(frozen=True)
class FleetFiles:
    entry: TreeEntry  # the pristine (broken) wp-settings.php: bytes, mode, owner
    folder_names: frozenset[str]  # what the pristine tree has beside it (anything else is a tool's backup)

    @property
    def broken(self) -> bytes:
        return self.entry.data

    @property
    def fixed(self) -> bytes:
        return self.entry.data.replace(BROKEN_LINE.encode(), FIXED_LINE.encode())

    def _extras(self, folder: Path) -> list[Path]:
        """What a tool left beside wp-settings.php: pyinfra's backup (``wp-settings.php.<date>``), a
        temporary file; every name the pristine tree does not have there."""
        try:
            return [child for child in folder.iterdir() if child.name not in self.folder_names]
        except OSError:
            return []

    def reset(self, lab: Lab, data: bytes) -> None:
        """Every host's wp-settings.php gets ``data`` with the pristine mode and owner; the backups a
        previous job left (remediate's in /var/backups, pyinfra's beside the file) are removed, so that
        every job starts from the same fleet."""
        for host in lab.hosts:
            path = host.local_path(WP_SETTINGS)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(descriptor, data)
                os.fchown(descriptor, self.entry.uid, self.entry.gid)
                os.fchmod(descriptor, self.entry.mode)
            finally:
                os.close(descriptor)
            for child in [*self._extras(path.parent), *host.local_path("/var/backups").iterdir()]:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    def census(self, lab: Lab) -> dict[str, int]:
        """Hosts by the state of their wp-settings.php (exactly the fixed bytes, exactly the broken ones,
        anything else), those that kept its mode and owner, and those with a backup of any tool."""
        counts = {"fixed": 0, "broken": 0, "other": 0, "mode_owner_kept": 0, "backup": 0}
        entry = self.entry
        for host in lab.hosts:
            path = host.local_path(WP_SETTINGS)
            with contextlib.suppress(OSError):
                counts["backup"] += bool(self._extras(path.parent) or any(host.local_path("/var/backups").iterdir()))
            try:
                data = path.read_bytes()
                info = path.lstat()
            except OSError:
                counts["other"] += 1
                continue
            counts["fixed" if data == self.fixed else "broken" if data == self.broken else "other"] += 1
            kept = (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (entry.mode, entry.uid, entry.gid)
            counts["mode_owner_kept"] += kept and path.is_file() and not path.is_symlink()
        return counts


def fleet_files() -> FleetFiles:
    """The lab's pristine wp-settings.php, checked against the outage this benchmark fixes."""
    tree = pristine_tree()
    folder = posixpath.dirname(WP_SETTINGS)
    if folder != DOCROOT:
        raise SystemExit(f"bench: {WP_SETTINGS} is not in the lab's docroot {DOCROOT} (the playbook's docroot)")
    entry = next((entry for entry in tree if entry.path == WP_SETTINGS and entry.kind == "file"), None)
    if entry is None:
        raise SystemExit(f"bench: the lab's pristine tree has no file {WP_SETTINGS}")
    lines = entry.data.decode(errors="replace").splitlines()
    if lines.count(BROKEN_LINE) != 1 or FIXED_LINE in lines:
        raise SystemExit(
            f"bench: the lab's pristine {WP_SETTINGS} should have the line {BROKEN_LINE!r} once and not"
            f" {FIXED_LINE!r}: the lab changed, update bench.py"
        )
    names = frozenset(posixpath.basename(e.path) for e in tree if posixpath.dirname(e.path) == folder)
    files = FleetFiles(entry, names)
    if files.fixed.count(FIXED_LINE.encode()) != 1:
        raise SystemExit(f"bench: the fixed {WP_SETTINGS} would not have {FIXED_LINE!r} once")
    return files


# --- the tools -----------------------------------------------------------------------------------


def venv_program(venv: str, name: str) -> Path | None:
    program = VENVS[venv] / "bin" / name
    return program if program.is_file() and os.access(program, os.X_OK) else None


@dataclass
class Tool:
    name: str
    label: str  # what runs, for the table's notes
    jobs: tuple[str, ...]
    sample_tree: bool
    command: Callable[[str], list[str]]  # job -> argv
    parse: Callable[[str, str, str], dict[str, int]]  # job, stdout, stderr -> reported counts
    env: dict[str, str] = field(default_factory=dict)
    keeps_backup: bool = False  # its apply must leave a backup on every host it changed
    code: Path | None = None  # remediate's installed package, for the code hash of each job
    after: Callable[[], None] | None = None  # clean-up after each job, outside its time (Ansible's ssh masters)


_SUMMARY_LINE = re.compile(r"^run (\S+): (.+)$", re.MULTILINE)


def parse_remediate(job: str, out: str, err: str) -> dict[str, int]:
    if job.endswith("-json"):
        try:
            return {str(k): int(v) for k, v in json.loads(out)["summary"].items()}
        except (ValueError, KeyError, TypeError):
            return {"unparsed": 1}
    # The human summary's last line: "run 20261207-...: 100 changed" ("100 would change", "3 failed, ...").
    found = _SUMMARY_LINE.findall(out + "\n" + err)
    if not found:
        return {"unparsed": 1}
    counts = {}
    for part in found[-1][1].split(","):
        number, _, status = part.strip().partition(" ")
        if number.isdigit() and status:
            counts[status.replace(" ", "_")] = int(number)
    return counts or {"unparsed": 1}


def parse_pyinfra(job: str, out: str, err: str) -> dict[str, int]:
    text = out + err
    if job == "dry-run":
        found = re.search(r"^\s*fix the require line\s+(\d+)\s", text, re.MULTILINE)
        return {"would_change": int(found.group(1)) if found else 0}
    found = re.search(r"Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    if not found:
        return {"unparsed": 1}
    numbers = [0 if value == "-" else int(value) for value in found.groups()]
    return dict(zip(("hosts", "success", "error", "no_change"), numbers, strict=True))


def parse_ansible(job: str, out: str, err: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in out.splitlines():
        if re.match(r"^\S+\s+: ok=", line):
            for key, value in re.findall(r"(\w+)=(\d+)", line):
                if key in ("ok", "changed", "unreachable", "failed"):
                    counts[key] = counts.get(key, 0) + int(value)
    return counts or {"unparsed": 1}


def parse_fabric(job: str, out: str, err: str) -> dict[str, int]:
    try:
        data = json.loads(out.strip().splitlines()[-1])
        return {"ok": int(data["ok"]), "failed": int(data["failed"])}
    except (ValueError, KeyError, IndexError):
        return {"unparsed": 1}


def parse_openssh(job: str, out: str, err: str) -> dict[str, int]:
    return {"failed": len(re.findall(r"^FAILED ", err, re.MULTILINE))}


def remediate_install(program: Path) -> dict[str, Any]:
    """Where the remediate program's interpreter imports remediate from, checked: the remediate venv's
    own site-packages, installed by pip from a snapshot (not editable, not the checkout)."""
    with program.open("rb") as script:
        first = script.readline().decode(errors="replace").strip()
    interpreter = first[2:].strip() if first.startswith("#!") else ""
    probe = (
        "import importlib.metadata as m, json, sys, sysconfig, remediate\n"
        "d = m.distribution('remediate')\n"
        "print(json.dumps({'file': remediate.__file__, 'purelib': sysconfig.get_paths()['purelib'],"
        " 'prefix': sys.prefix, 'version': d.version, 'direct_url': d.read_text('direct_url.json')}))\n"
    )
    # cwd /: with -c the current folder comes first on sys.path, and / has no remediate package.
    done = subprocess.run(
        [*shlex.split(interpreter), "-c", probe], cwd="/", capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: {program}'s interpreter ({interpreter}) cannot import remediate: {done.stderr}")
    found = json.loads(done.stdout)
    package = Path(found["file"]).resolve().parent
    direct_url = json.loads(found["direct_url"] or "{}")
    editable = bool(direct_url.get("dir_info", {}).get("editable"))
    venv = VENVS["remediate"].resolve()
    if Path(found["prefix"]).resolve() != venv or not package.is_relative_to(Path(found["purelib"]).resolve()):
        raise SystemExit(f"bench: {program} runs remediate from {package}, not from {venv}'s site-packages")
    if editable:
        raise SystemExit(f"bench: remediate in {venv} is an editable install; benchmarks/run.sh installs a snapshot")
    snapshot: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        snapshot = json.loads((venv / SNAPSHOT_FILE).read_text())
    return {
        "program": str(program),
        "package": str(package),
        "version": found["version"],
        "installed_from": direct_url.get("url", ""),
        "editable": editable,
        "describe": snapshot.get("describe", "unknown (not installed by run.sh)"),
        "commit": snapshot.get("commit", ""),
        "dirty": snapshot.get("dirty"),
        "diff_sha256": snapshot.get("diff_sha256"),
        "installed_at": snapshot.get("installed_at", ""),
    }


def check_playbook(path: Path) -> str | None:
    """A note when the benchmark's playbook no longer has the same steps as playbooks/fix-phpp.yml."""
    import yaml  # remediate's dependency: in its venv

    ours = yaml.safe_load(PLAYBOOK_TEXT)
    try:
        theirs = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        return f"cannot read {path}: {error}"
    if not isinstance(theirs, dict) or (theirs.get("steps"), theirs.get("hosts")) != (ours["steps"], ours["hosts"]):
        return f"the benchmark's playbook no longer has the same steps as {path.relative_to(REPO)}: update bench.py"
    return None


def make_tools(lab: Lab, work: Path, forks: int, install: dict[str, Any] | None) -> tuple[list[Tool], list[str]]:
    """The tools installed here, and a note for each one that is not."""
    # The caller's environment, as each tool's user would have it; fixed locale, no colours.
    base_env = {**os.environ, "LANG": "C.UTF-8", "NO_COLOR": "1", "TERM": "dumb"}
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        base_env.pop(name, None)  # each tool as installed: bytecode cache, buffered output, its own venv
    key, known_hosts = str(lab.identity_file), str(lab.known_hosts)
    port, user = lab.hosts[0].ssh_port, "root"
    tools: list[Tool] = []
    missing: list[str] = []

    if install is not None:
        program, inventory = install["program"], str(lab.inventory_path)
        playbook = work / PLAYBOOK_NAME
        playbook.write_text(PLAYBOOK_TEXT)

        def remediate_command(job: str) -> list[str]:
            mode = ["--dry-run"] if base_job(job) == "dry-run" else ["--yes"]
            output = ["--json"] if job.endswith("-json") else []
            return [program, "apply", str(playbook), "--inventory", inventory, *mode, *output, "--forks", str(forks)]

        tools.append(
            Tool(
                "remediate",
                f"remediate apply {PLAYBOOK_NAME} --forks {forks} (--dry-run | --yes) [--json]",
                REMEDIATE_JOBS,
                False,
                remediate_command,
                parse_remediate,
                base_env,
                keeps_backup=True,
                code=Path(install["package"]),
            )
        )
        # The analysis bound of bare_write.py: the same install, the write's safety commands stubbed out.
        bare_argv = [str(VENVS["remediate"] / "bin" / "python"), str(BENCH_DIR / "bare_write.py")]
        bare_argv += ["apply", str(playbook), "--inventory", inventory, "--yes", "--forks", str(forks)]
        tools.append(
            Tool(
                "remediate-bare",
                "bare_write.py: remediate's apply with the write's lock, drift stat, sha256sums and syncs stubbed",
                ("apply",),
                False,
                lambda job: bare_argv,
                parse_remediate,
                base_env,
                keeps_backup=True,
                code=Path(install["package"]),
            )
        )
    else:
        missing.append(f"remediate: no {VENVS['remediate']}/bin/remediate (benchmarks/run.sh builds it)")

    pyinfra = venv_program("pyinfra", "pyinfra")
    if pyinfra:
        (work / "pyinfra").mkdir()
        host_data = {
            "ssh_port": port,
            "ssh_user": user,
            "ssh_key": key,
            "ssh_known_hosts_file": known_hosts,
            "ssh_strict_host_key_checking": "yes",
            "ssh_look_for_keys": False,
            "ssh_allow_agent": False,
        }
        hosts = [(host.name, {**host_data, "ssh_hostname": host.address}) for host in lab.hosts]
        (work / "pyinfra" / "inventory.py").write_text(f"hosts = {hosts!r}\n")
        (work / "pyinfra" / "deploy.py").write_text(
            "from pyinfra.operations import files\n\n"
            f'files.replace(name="fix the require line", path={WP_SETTINGS!r}, text={REGEX!r},'
            f" replace={REPLACEMENT!r}, backup=True)\n"
        )

        def pyinfra_command(job: str) -> list[str]:
            mode = ["--dry"] if job == "dry-run" else ["-y"]
            return [str(pyinfra), "pyinfra/inventory.py", "pyinfra/deploy.py", *mode, "--parallel", str(forks)]

        tools.append(
            Tool(
                "pyinfra",
                f"pyinfra files.replace(backup=True) --parallel {forks} (--dry | -y)",
                OTHER_JOBS,
                False,
                pyinfra_command,
                parse_pyinfra,
                base_env,
                keeps_backup=True,
            )
        )
    else:
        missing.append(f"pyinfra: no {VENVS['pyinfra']}/bin/pyinfra (benchmarks/run.sh builds it)")

    playbook_program = venv_program("ansible", "ansible-playbook")
    if playbook_program:
        for tuned in (False, True):
            tools.append(ansible_tool(str(playbook_program), lab, work, forks, base_env, tuned))
    else:
        missing.append(f"ansible: no {VENVS['ansible']}/bin/ansible-playbook (benchmarks/run.sh builds it)")
        missing.append("ansible-tuned: no `ansible-playbook`")

    addresses = work / "addresses"
    addresses.write_text("".join(f"{host.address}\n" for host in lab.hosts))
    fabric_python = venv_program("fabric", "python")
    if fabric_python:
        script = str(BENCH_DIR / "fabric_sed.py")
        argv = [str(fabric_python), script, str(addresses), "--port", str(port), "--user", user, "--key", key]
        argv += ["--known-hosts", known_hosts, "--command", SED_COMMAND]
        tools.append(
            Tool(
                "fabric",
                "Fabric ThreadingGroup.run(sed -i), one thread per host",
                ("apply",),
                False,
                lambda job: argv,
                parse_fabric,
                base_env,
            )
        )
    else:
        missing.append(f"fabric: no {VENVS['fabric']} (benchmarks/run.sh builds it when --tools names fabric)")

    ssh, xargs = shutil.which("ssh"), shutil.which("xargs")
    if ssh and xargs:
        ssh_argv = [ssh, "-F", "/dev/null", "-i", key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
        ssh_argv += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
        ssh_argv += ["-o", "KexAlgorithms=curve25519-sha256", "-p", str(port)]
        # sh turns ssh's 255 (connection failed), which would make xargs stop at once, into a line and exit 1.
        wrapper = (
            f'{shlex.join(ssh_argv)} {user}@"$0" {shlex.quote(SED_COMMAND)} || {{ echo "FAILED $0" >&2; exit 1; }}'
        )
        argv_ssh = [xargs, "-a", str(addresses), "-P", str(forks), "-I{}", "sh", "-c", wrapper, "{}"]
        tools.append(
            Tool(
                "openssh",
                f"xargs -P {forks} ssh (curve25519) sed -i",
                ("apply",),
                True,
                lambda job: argv_ssh,
                parse_openssh,
                base_env,
            )
        )
    else:
        missing.append("openssh: no `ssh` or `xargs` on PATH")
    return tools, missing


def ansible_tool(program: str, lab: Lab, work: Path, forks: int, base_env: dict[str, str], tuned: bool) -> Tool:
    """Ansible's ``replace`` job. ``ansible`` is Ansible as issue 6 measured it (forks, pipelining, no
    facts; its defaults otherwise: OpenSSH's default key exchange, ``-C -o ControlMaster=auto
    -o ControlPersist=60s``, interpreter discovery). ``ansible-tuned`` adds what makes it faster still:
    curve25519, no ControlMaster, the interpreter named. Both check host keys against the lab's file."""
    name = "ansible-tuned" if tuned else "ansible"
    folder = work / name
    folder.mkdir()
    key, known_hosts = str(lab.identity_file), str(lab.known_hosts)
    checked = (
        f"-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
        f" -o UserKnownHostsFile={known_hosts}"
    )
    lines = ["[web]", *(f"{host.name} ansible_host={host.address}" for host in lab.hosts), "", "[all:vars]"]
    lines += [f"ansible_port={lab.hosts[0].ssh_port}", "ansible_user=root", f"ansible_ssh_private_key_file={key}"]
    if tuned:
        lines.append("ansible_python_interpreter=/usr/bin/python3")
    (folder / "hosts.ini").write_text("\n".join(lines) + "\n")
    connection = ["[ssh_connection]", "pipelining = True"]
    if tuned:
        connection.append(f"ssh_args = {checked} -o ControlMaster=no -o KexAlgorithms=curve25519-sha256")
    else:
        # ssh_args stays Ansible's default; the host key options go in the common arguments.
        connection.append(f"ssh_common_args = {checked}")
    (folder / "ansible.cfg").write_text(
        "[defaults]\n"
        f"inventory = {folder / 'hosts.ini'}\n"
        f"forks = {forks}\n"
        "host_key_checking = True\n"
        "gathering = explicit\n"
        "retry_files_enabled = False\n"
        "nocolor = True\n" + "\n".join(connection) + "\n"
    )
    (folder / "fix.yml").write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: fix the require line\n"
        "      ansible.builtin.replace:\n"
        f"        path: {WP_SETTINGS}\n"
        f"        regexp: '{REGEX}'\n"
        f"        replace: '{REPLACEMENT}'\n"
    )
    control = folder / "cp"  # the ControlPersist masters' sockets: the masters this job started
    env = {
        **base_env,
        "ANSIBLE_CONFIG": str(folder / "ansible.cfg"),
        "ANSIBLE_HOME": str(folder / "home"),
        "ANSIBLE_LOCAL_TEMP": str(folder / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }

    def command(job: str) -> list[str]:
        return [program, str(folder / "fix.yml"), *(["--check"] if job == "dry-run" else [])]

    label = (
        f"ansible-playbook replace, forks {forks}, pipelining, no facts, curve25519, no ControlMaster,"
        " interpreter named (--check)"
        if tuned
        else f"ansible-playbook replace, forks {forks}, pipelining, no facts, its defaults otherwise (--check)"
    )
    return Tool(name, label, OTHER_JOBS, True, command, parse_ansible, env, after=lambda: stop_control_masters(control))


def stop_control_masters(folder: Path) -> None:
    """Ends the ssh masters a job left behind (ControlPersist keeps them 60 s), each through its own
    control socket, so that the next job connects afresh, as a first run does."""
    ssh = shutil.which("ssh")
    if ssh is None or not folder.is_dir():
        return
    for socket_path in sorted(folder.iterdir()):
        subprocess.run(
            [ssh, "-F", "/dev/null", "-o", f"ControlPath={socket_path}", "-O", "exit", "master"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )


# --- the benchmark -------------------------------------------------------------------------------


def idle_pause(seconds: float) -> float:
    """Sleep, and return how many CPUs the rest of the machine kept busy meanwhile (other people's work)."""
    cpu, start = machine_cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    return (machine_cpu_seconds() - cpu) / (time.perf_counter() - start)


def settle(pause: float, patience: float) -> float:
    """Pause, then keep waiting (up to ``patience`` seconds) while other work keeps the machine busy;
    return the background load seen last, in CPUs. On a shared machine this moves jobs into quiet
    moments; it cannot stop other work starting during a job."""
    background = idle_pause(pause)
    deadline = time.monotonic() + patience
    while background > NOISY_BACKGROUND and time.monotonic() < deadline:
        background = idle_pause(0.5)
    return background


def run_job(
    runner: Runner,
    tool: Tool,
    job: str,
    repetition: int,
    lab: Lab,
    files: FleetFiles,
    measured: bool,
    background: float,
) -> Measurement:
    name = f"{tool.name}-{job}-{repetition + 1}" if measured else f"{tool.name}-{job}-warmup{repetition + 1}"
    code = remediate_code_hash(tool.code) if tool.code else ""
    measurement, out, err = runner.run(name, tool.command(job), tool.env, tool.sample_tree)
    if tool.after is not None:
        tool.after()
    measurement.tool, measurement.job, measurement.repetition = tool.name, job, repetition
    measurement.background_cores = background
    measurement.code = code
    measurement.reported = tool.parse(job, out, err)
    measurement.fleet = files.census(lab)
    total = len(lab.hosts)
    problems = []
    if measurement.rc is None:
        problems.append(f"killed after {runner.timeout:.0f} s")
    elif measurement.rc != 0:
        problems.append(f"exit {measurement.rc}")
    expected = "broken" if base_job(job) == "dry-run" else "fixed"
    if measurement.fleet[expected] != total:
        problems.append(f"{total - measurement.fleet[expected]} host(s) not {expected} afterwards")
    if measurement.fleet["mode_owner_kept"] != total:
        problems.append(f"{total - measurement.fleet['mode_owner_kept']} host(s) lost wp-settings.php's mode/owner")
    if base_job(job) == "dry-run" and measurement.fleet["backup"]:
        problems.append(f"{measurement.fleet['backup']} host(s) got a backup in a dry-run")
    if base_job(job) == "apply" and tool.keeps_backup and measurement.fleet["backup"] != total:
        problems.append(f"{total - measurement.fleet['backup']} host(s) without a backup")
    measurement.ok = not problems
    measurement.note = "; ".join(problems)
    status = "ok" if measurement.ok else f"PROBLEM: {measurement.note} (logs: {runner.work / name}.out/.err)"
    label = f"rep {repetition + 1}" if measured else "warm-up"
    reported = " ".join(f"{k}={v}" for k, v in measurement.reported.items())
    print(
        f"  {label:7} {tool.name:13} {job:12} {measurement.wall_s:7.2f} s  (background {background:.2f} CPUs)"
        f"  [{reported}]  {status}",
        flush=True,
    )
    return measurement


def benchmark_round(
    runner: Runner,
    tools: list[Tool],
    lab: Lab,
    files: FleetFiles,
    repetition: int,
    measured: bool,
    pause: float,
    patience: float,
) -> list[Measurement]:
    """One repetition: phase by phase (dry-run, apply, re-run), every tool's jobs of the phase interleaved,
    their order rotated by the repetition. Before every job the fleet is reset: each job starts from the
    same files (broken, or fixed for a re-run) and no backup."""
    results = []
    for phase in PHASES if measured else (("apply", "apply-json"),):
        units = [(tool, job) for tool in tools for job in phase if job in tool.jobs]
        if not units:
            continue
        shift = repetition % len(units)
        for tool, job in units[shift:] + units[:shift]:
            files.reset(lab, files.fixed if job == "re-run" else files.broken)
            background = settle(pause, patience)  # and the previous job's sshd sessions finish exiting
            results.append(run_job(runner, tool, job, repetition, lab, files, measured, background))
    return results


@dataclass
class Summary:
    tool: str
    job: str
    runs: int
    median_s: float
    min_s: float
    max_s: float
    hosts_per_s: float
    wall_ms_per_host: float  # median wall time / hosts
    user_sys_s: float  # median controller CPU: the tool's process tree, user + system
    ctl_cpu_ms_per_host: float  # the same / hosts
    machine_cpu_s: float  # median
    pids_per_host: float  # median
    peak_rss_mb: float  # max over runs
    tree_pss_mb: float | None  # max over runs
    fleet_ok_runs: int
    result: str
    background_cores: float  # the most any run of these saw


def summarize(measurements: list[Measurement], hosts: int) -> list[Summary]:
    summaries = []
    for tool in TOOLS:
        for job in ROW_ORDER:
            runs = [m for m in measurements if m.tool == tool and m.job == job]
            if not runs:
                continue
            walls = [m.wall_s for m in runs]
            median = statistics.median(walls)
            cpu = statistics.median(m.user_s + m.sys_s for m in runs)
            trees = [m.tree_pss_mb for m in runs if m.tree_pss_mb is not None]
            last = runs[-1]
            if base_job(job) == "apply":
                fixed = min(m.fleet["fixed"] for m in runs)
                backups = min(m.fleet["backup"] for m in runs)
                result = f"{fixed}/{hosts} fixed, {backups} backups (worst run)"
            else:
                expected = "fixed" if job == "re-run" else "broken"
                untouched = "files untouched" if all(m.fleet[expected] == hosts for m in runs) else "FILES CHANGED"
                result = " ".join(f"{k}={v}" for k, v in last.reported.items()) + f"; {untouched}"
            summaries.append(
                Summary(
                    tool=tool,
                    job=job,
                    runs=len(runs),
                    median_s=median,
                    min_s=min(walls),
                    max_s=max(walls),
                    hosts_per_s=hosts / median,
                    wall_ms_per_host=median * 1000 / hosts,
                    user_sys_s=cpu,
                    ctl_cpu_ms_per_host=cpu * 1000 / hosts,
                    machine_cpu_s=statistics.median(m.machine_cpu_s for m in runs),
                    pids_per_host=statistics.median(m.pids_created for m in runs) / hosts,
                    peak_rss_mb=max(m.peak_rss_mb for m in runs),
                    tree_pss_mb=max(trees) if trees else None,
                    fleet_ok_runs=sum(m.ok for m in runs),
                    result=result,
                    background_cores=max(m.background_cores for m in runs),
                )
            )
    return summaries


def table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def remediate_one_host(runner: Runner, tools: list[Tool]) -> dict[str, Measurement]:
    """remediate's dry-run of one host, human and --json: the interpreter, its imports and one
    connection, which any run pays; (peak - this peak) / hosts is what each further host costs in memory."""
    tool = next((tool for tool in tools if tool.name == "remediate"), None)
    if tool is None:
        return {}
    found = {}
    for output, job in (("human", "dry-run"), ("json", "dry-run-json")):
        argv = [*tool.command(job), "--limit", "web1"]
        measurement, _, _ = runner.run(f"remediate-one-host-{output}", argv, tool.env, False)
        if measurement.rc == 0:
            found[output] = measurement
    return found


def results_table(summaries: list[Summary], hosts: int, one_host: dict[str, Measurement]) -> str:
    headers = [
        "tool",
        "job",
        "median s",
        "min-max s",
        "wall ms/host",
        "ctl CPU s",
        "ctl CPU ms/host",
        "machine CPU s",
        "pids/host",
        "peak RSS MB",
        "all procs MB",
        "runs ok",
        "bg CPUs",
        "result",
    ]
    rows = []
    for s in summaries:
        rss = f"{s.peak_rss_mb:.0f}"
        baseline = one_host.get("json" if s.job.endswith("-json") else "human")
        if s.tool == "remediate" and baseline is not None and hosts > 1:
            rss += f" (+{(s.peak_rss_mb - baseline.peak_rss_mb) / (hosts - 1) * 1024:.0f} KB/host)"
        rows.append(
            [
                s.tool,
                s.job,
                f"{s.median_s:.2f}",
                f"{s.min_s:.2f}-{s.max_s:.2f}",
                f"{s.wall_ms_per_host:.1f}",
                f"{s.user_sys_s:.2f}",
                f"{s.ctl_cpu_ms_per_host:.1f}",
                f"{s.machine_cpu_s:.2f}",
                f"{s.pids_per_host:.1f}",
                rss,
                "=RSS" if s.tree_pss_mb is None else f"{s.tree_pss_mb:.0f}" if s.tree_pss_mb else "n/a",
                f"{s.fleet_ok_runs}/{s.runs}",
                f"{s.background_cores:.2f}",
                s.result,
            ]
        )
    return table(headers, rows, set(range(2, 13)))


# --- the targets of issue 19 ---------------------------------------------------------------------


@dataclass
class Target:
    target: str
    remediate: float | None  # in ``unit``
    other: float | None
    unit: str  # s, ms/host, MB
    ratio: float | None  # remediate / other, or other / remediate for "N times faster"
    limit: str
    verdict: str  # PASS, FAIL, info, n/a; "(PASS: ...)" where this size is not the target's


@dataclass(frozen=True)
class Reference:
    """remediate's apply at 100 hosts, from a results file (in the results folder) of the same remediate code."""

    path: str
    wall_ms_per_host: float
    forks: int


def results_document(path: Path) -> dict[str, Any] | None:
    """A results file of this benchmark, read; None for an unreadable file or another benchmark's."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and document.get("benchmark") == BENCHMARK else None


def find_reference(install: dict[str, Any] | None, results: Path) -> Reference | None:
    """The most recent 100-host results file of this benchmark in ``results`` measuring the same remediate
    (the same ``git describe``, and for a dirty tree the same changes), if any: typically the 100-host run
    made just before this one (``for n in 100 200 1000; do benchmarks/run.sh --hosts $n; done``)."""
    if install is None or not install.get("commit"):
        return None
    for path in sorted(results.glob(f"*-{REFERENCE_HOSTS}hosts.json"), reverse=True):
        document = results_document(path)
        if document is None:
            continue
        theirs = document.get("remediate", {})
        if (theirs.get("describe"), theirs.get("diff_sha256")) != (install["describe"], install["diff_sha256"]):
            continue
        row = next((s for s in document.get("summary", []) if (s["tool"], s["job"]) == ("remediate", "apply")), None)
        if row is not None:
            shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
            return Reference(str(shown), float(row["wall_ms_per_host"]), int(document.get("forks", 0)))
    return None


def targets(
    summaries: list[Summary],
    measurements: list[Measurement],
    hosts: int,
    forks: int,
    reference: Reference | None,
) -> list[Target]:
    median = {(s.tool, s.job): s.median_s for s in summaries}
    correct = {
        (s.tool, s.job): all(m.ok for m in measurements if m.tool == s.tool and m.job == s.job) for s in summaries
    }
    compared = hosts in ISSUE_TARGET_HOSTS
    scale = hosts == SCALE_HOSTS
    found: list[Target] = []

    def verdict(passed: bool, judged: bool, at: str, job: str = "apply") -> str:
        if not judged:
            return f"({'PASS' if passed else 'FAIL'}: judged at {at})"
        if not correct.get(("remediate", job), True):
            return "FAIL (remediate runs had problems)"
        return "PASS" if passed else "FAIL"

    def at_most(job: str, other_tool: str, other_job: str, factor: float, label: str, judged: bool = True) -> None:
        ours, theirs = median.get(("remediate", job)), median.get((other_tool, other_job))
        limit = f"<= {factor:g}x"
        if ours is None or theirs is None:
            if judged:
                found.append(Target(label, ours, theirs, "s", None, limit, "n/a (tool not run)"))
            return
        ratio = ours / theirs
        outcome = verdict(ratio <= factor, compared, "100 and 200 hosts", job) if judged else "info"
        found.append(Target(label, ours, theirs, "s", ratio, limit if judged else "-", outcome))

    def faster(job: str, other_tool: str, factor: float, label: str, judged: bool = True) -> None:
        ours, theirs = median.get(("remediate", job)), median.get((other_tool, job))
        limit = f">= {factor:g}x faster"
        if ours is None or theirs is None:
            if judged:
                why = f"not run above {ANSIBLE_MAX_HOSTS} hosts" if hosts > ANSIBLE_MAX_HOSTS else "tool not run"
                found.append(Target(label, ours, theirs, "s", None, limit, f"n/a ({why})"))
            return
        ratio = theirs / ours
        outcome = verdict(ratio >= factor, compared, "100 and 200 hosts", job) if judged else "info"
        found.append(Target(label, ours, theirs, "s", ratio, limit if judged else "-", outcome))

    # At 100 and 200 hosts, judged on remediate's human output (its default).
    at_most("apply", "pyinfra", "apply", PYINFRA_RATIO, f"apply <= {PYINFRA_RATIO:g} x pyinfra apply (backup=True)")
    at_most("dry-run", "pyinfra", "dry-run", PYINFRA_RATIO, f"dry-run <= {PYINFRA_RATIO:g} x pyinfra --dry")
    at_most("apply", "openssh", "apply", 1.2, "apply <= 1.2 x OpenSSH floor (curve25519)")
    faster("apply", "ansible", ANSIBLE_TIMES, f"apply >= {ANSIBLE_TIMES:g}x faster than Ansible")
    # Information: the other jobs against Ansible, the tuned Ansible, the --json jobs, the Fabric floor.
    faster("dry-run", "ansible", 10.0, "(info) dry-run: times faster than Ansible --check", judged=False)
    faster("re-run", "ansible", 10.0, "(info) re-run: times faster than Ansible re-run", judged=False)
    for job in OTHER_JOBS:
        faster(job, "ansible-tuned", 10.0, f"(info) {job}: times faster than the tuned Ansible", judged=False)
    at_most("apply-json", "pyinfra", "apply", 0.8, "(info) apply --json / pyinfra apply", judged=False)
    at_most("dry-run-json", "pyinfra", "dry-run", 0.8, "(info) dry-run --json / pyinfra --dry", judged=False)
    at_most("re-run", "pyinfra", "re-run", 0.8, "(info) re-run / pyinfra re-run", judged=False)
    at_most("apply", "remediate", "apply-json", 1.0, "(info) human output: apply / apply --json", judged=False)
    at_most("dry-run", "remediate", "dry-run-json", 1.0, "(info) human output: dry-run / dry-run --json", judged=False)
    at_most("apply", "fabric", "apply", 1.0, "(info) apply / Fabric floor", judged=False)
    # The analysis bound (bare_write.py, only when --tools names remediate-bare): remediate's apply with
    # no safety command left on the write, against what the targets compare the apply with.
    bare = median.get(("remediate-bare", "apply"))
    for other, label in (("pyinfra", "pyinfra apply"), ("openssh", "OpenSSH floor"), ("remediate", "remediate apply")):
        theirs = median.get((other, "apply"))
        if bare is not None and theirs is not None:
            found.append(
                Target(
                    f"(info) bound, write safety stubbed: apply / {label}",
                    bare,
                    theirs,
                    "s",
                    bare / theirs,
                    "-",
                    "info",
                )
            )

    # What the apply targets ask for, against the floor of the same round (targets_against_floor.py shows
    # every committed round): at or under 1.0x, the apply with its safety steps is asked to take no longer
    # than the floor's one ssh and one sed -i a host.
    floor = median.get(("openssh", "apply"))
    for other, factor, label in ASKED_OF_THE_APPLY:
        theirs = median.get((other, "apply"))
        if floor is not None and theirs is not None:
            found.append(
                Target(f"(info) the target {label}, against the OpenSSH floor", factor * theirs, floor, "s",
                       factor * theirs / floor, "-", "info")
            )  # fmt: skip

    # At 1,000 hosts: every host fixed, the time per host as at 100 hosts, the controller's memory.
    applies = [m for m in measurements if m.tool == "remediate" and base_job(m.job) == "apply"]
    if applies:
        complete = all(m.ok and m.fleet["fixed"] == hosts for m in applies)
        found.append(
            Target(
                f"every remediate apply fixed every one of the {hosts} hosts (census)",
                None,
                None,
                "",
                None,
                "all runs",
                "PASS" if complete else "FAIL",
            )
        )
        ours_ms = median[("remediate", "apply")] * 1000 / hosts if ("remediate", "apply") in median else None
        label = "apply wall ms/host within 15% of that at 100 hosts"
        if hosts == REFERENCE_HOSTS:
            found.append(Target(label, ours_ms, ours_ms, "ms/host", 1.0, "-", "info (this is the 100-host run)"))
        elif ours_ms is not None and reference is not None:
            ratio = ours_ms / reference.wall_ms_per_host
            forks_note = "" if reference.forks == forks else f" (forks {reference.forks} there, {forks} here)"
            found.append(
                Target(
                    f"{label}: {reference.path}{forks_note}",
                    ours_ms,
                    reference.wall_ms_per_host,
                    "ms/host",
                    ratio,
                    f"<= {PER_HOST_DRIFT:g}x",
                    verdict(ratio <= PER_HOST_DRIFT, scale, f"{SCALE_HOSTS} hosts"),
                )
            )
        else:
            found.append(Target(label, ours_ms, None, "ms/host", None, f"<= {PER_HOST_DRIFT:g}x", "n/a"))
        peak = max(m.peak_rss_mb for m in measurements if m.tool == "remediate")
        found.append(
            Target(
                "controller peak RSS (every remediate job)",
                peak,
                PEAK_RSS_LIMIT_MB,
                "MB",
                None,
                f"< {PEAK_RSS_LIMIT_MB:g} MB",
                verdict(peak < PEAK_RSS_LIMIT_MB, scale, f"{SCALE_HOSTS} hosts"),
            )
        )
    return found


def targets_table(found: list[Target]) -> str:
    def value(number: float | None, unit: str) -> str:
        if number is None:
            return ""
        return f"{number:.2f} s" if unit == "s" else f"{number:.1f} {unit}" if unit else f"{number:g}"

    rows = [
        [
            t.target,
            value(t.remediate, t.unit),
            value(t.other, t.unit),
            f"{t.ratio:.2f}x" if t.ratio is not None else "",
            t.limit,
            t.verdict,
        ]
        for t in found
    ]
    return table(["target", "remediate", "other", "ratio", "limit", "verdict"], rows, {1, 2, 3})


# --- the machine and the versions ----------------------------------------------------------------


def command_output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[0] if (done.stdout or done.stderr) else ""


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    memory_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        memory_kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    debian = ""
    with contextlib.suppress(OSError):
        debian = Path("/etc/debian_version").read_text().strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
        "python": platform.python_version(),
        "openssh": command_output(["ssh", "-V"]),
        "load_average_at_start": os.getloadavg(),
    }


_PACKAGES_PROBE = (
    "import importlib.metadata as m, json, platform\n"
    "print(json.dumps({'python': platform.python_version(), 'packages': dict(sorted("
    "(d.metadata['Name'], d.version) for d in m.distributions()))}))\n"
)


def venv_versions() -> dict[str, Any]:
    """Every package of every tool's venv with its version (what ``pip freeze`` would say)."""
    found: dict[str, Any] = {}
    for name, venv in VENVS.items():
        python = venv / "bin" / "python"
        if not python.is_file():
            continue
        done = subprocess.run(
            [str(python), "-I", "-c", _PACKAGES_PROBE], cwd="/", capture_output=True, text=True, check=False
        )
        try:
            found[name] = {"venv": str(venv), **json.loads(done.stdout)}
        except ValueError:
            found[name] = {"venv": str(venv), "error": done.stderr.strip()}
    return found


def key_versions(install: dict[str, Any] | None, venvs: dict[str, Any], info: dict[str, Any]) -> str:
    def of(venv: str, package: str) -> str:
        return str(venvs.get(venv, {}).get("packages", {}).get(package, "-"))

    parts = []
    if install is not None:
        parts.append(
            f"remediate {install['describe']} (pip install of a snapshot; paramiko {of('remediate', 'paramiko')},"
            f" cryptography {of('remediate', 'cryptography')})"
        )
    if "pyinfra" in venvs:
        parts.append(f"pyinfra {of('pyinfra', 'pyinfra')} (paramiko {of('pyinfra', 'paramiko')})")
    if "ansible" in venvs:
        parts.append(f"ansible-core {of('ansible', 'ansible-core')}")
    if "fabric" in venvs:
        parts.append(f"fabric {of('fabric', 'fabric')} (paramiko {of('fabric', 'paramiko')})")
    parts.append(info["openssh"] or "no ssh")
    return "; ".join(parts)


def print_machine(info: dict[str, Any]) -> None:
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB, Linux {info['kernel']},"
        f" Debian {info['debian']}, Python {info['python']}"
    )
    load = ", ".join(f"{x:.2f}" for x in info["load_average_at_start"])
    print(f"load average at start: {load}")


# --- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--hosts", type=int, default=100, help="lab hosts (default 100; issue 19: 100, 200, 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="measured repetitions of every job (default 3)")
    parser.add_argument(
        "--tools",
        default=",".join(DEFAULT_TOOLS),
        help=f"comma-separated, from {','.join(TOOLS)} (default %(default)s; Ansible only up to"
        f" {ANSIBLE_MAX_HOSTS} hosts)",
    )
    parser.add_argument("--forks", type=int, default=50, help="hosts at once for every tool (default 50)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured apply rounds first (default 1)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between jobs (default 1)")
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="wait up to this long before a job while other work keeps the machine busy (default 20 s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="a job is killed after this (default 300 s + 1 s per host)"
    )
    parser.add_argument("--lab-dir", default="/var/lib/remediate/bench", help="lab folder (default %(default)s)")
    parser.add_argument("--first-index", type=int, default=3000, help="first lab address index (3000: 127.0.12.207)")
    parser.add_argument("--results-dir", default=str(BENCH_DIR / "results"), help="where the JSON results go")
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON results")
    parser.add_argument("--keep-work", action="store_true", help="keep the job logs and generated files")
    args = parser.parse_args(argv)
    unknown = set(args.tools.split(",")) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {', '.join(sorted(unknown))}; choose from {', '.join(TOOLS)}")
    if args.hosts < 1 or args.repeat < 1 or args.forks < 1:
        parser.error("--hosts, --repeat and --forks must be at least 1")
    if args.timeout is None:
        args.timeout = 300.0 + 1.0 * args.hosts
    return args


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench: the lab needs root", file=sys.stderr)
        return 2
    raise_open_file_limit()
    wanted = args.tools.split(",")
    notes: list[str] = []
    if args.hosts > ANSIBLE_MAX_HOSTS:
        dropped = [tool for tool in wanted if tool.startswith("ansible")]
        wanted = [tool for tool in wanted if not tool.startswith("ansible")]
        if dropped:
            notes.append(
                f"{', '.join(dropped)}: not run above {ANSIBLE_MAX_HOSTS} hosts (issue 19 compares with Ansible at"
                f" 100 and 200 hosts; at about 0.2 s per host each job would take minutes)"
            )
    info = machine()
    print_machine(info)
    files = fleet_files()
    playbook_note = check_playbook(REFERENCE_PLAYBOOK)
    if playbook_note:
        print(f"WARNING: {playbook_note}")
    remediate_program = venv_program("remediate", "remediate")
    install = remediate_install(remediate_program) if remediate_program and "remediate" in wanted else None
    own = Path(remediate.__file__).resolve()
    if not own.is_relative_to(VENVS["remediate"].resolve()):
        print(
            f"note: bench.py runs under {sys.executable}, whose remediate.lab comes from {own.parent}, not from"
            f" {VENVS['remediate']} (benchmarks/run.sh runs it with the remediate venv's Python)"
        )
    venvs = venv_versions()
    print(f"versions: {key_versions(install, venvs, info)}")
    if install is not None:
        print(f"remediate: {install['program']} ({install['package']}, installed {install['installed_at']})")
    reference = find_reference(install, Path(args.results_dir)) if args.hosts != REFERENCE_HOSTS else None
    work = Path(tempfile.mkdtemp(prefix="remediate-bench-"))
    runner = Runner(work, args.timeout)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    measurements: list[Measurement] = []
    one_host: dict[str, Measurement] = {}
    tools: list[Tool] = []
    missing: list[str] = []
    problems = False
    lab: Lab | None = None
    started = time.monotonic()
    try:
        print(f"lab: starting {args.hosts} hosts in {args.lab_dir} ...", flush=True)
        lab_started = time.monotonic()
        lab = lab_up(
            args.hosts,
            lab_dir=Path(args.lab_dir),
            inventory_path=work / "inventory.yml",
            first_index=args.first_index,
            http=False,
        )
        print(
            f"lab: {len(lab.hosts)} hosts up in {time.monotonic() - lab_started:.1f} s"
            f" ({lab.hosts[0].address} .. {lab.hosts[-1].address}, port {lab.hosts[0].ssh_port})"
        )
        tools, missing = make_tools(lab, work, args.forks, install)
        tools = [tool for tool in tools if tool.name in wanted]
        missing = [note for note in missing if note.split(":")[0] in wanted] + notes
        for note in missing:
            print(f"skipped {note}")
        if not tools:
            print("bench: no tool to run", file=sys.stderr)
            return 2
        for tool in tools:
            print(f"  {tool.name:13} {tool.label}")
        print(f"jobs are killed after {args.timeout:.0f} s")
        one_host = remediate_one_host(runner, tools)
        for output, measurement in one_host.items():
            print(
                f"remediate's dry-run of one host, {output} output (its fixed cost): {measurement.wall_s:.2f} s,"
                f" {measurement.user_s + measurement.sys_s:.2f} s CPU, peak RSS {measurement.peak_rss_mb:.0f} MB"
            )
        for warm in range(args.warmup):
            print(f"warm-up round {warm + 1} (not measured): apply with every tool")
            benchmark_round(runner, tools, lab, files, warm, False, args.pause, args.settle)
        for repetition in range(args.repeat):
            print(f"repetition {repetition + 1}/{args.repeat}")
            measurements += benchmark_round(runner, tools, lab, files, repetition, True, args.pause, args.settle)
    except RemediateError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        runner.kill_current()
        print("bench: interrupted; stopping the lab", file=sys.stderr)
        return 130
    finally:
        runner.kill_current()
        if lab is not None:
            print("lab: stopping", flush=True)
            lab_down(lab.directory)
        problems = any(not m.ok for m in measurements)
        if args.keep_work or problems:
            print(f"job logs and generated files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    summaries = summarize(measurements, args.hosts)
    found = targets(summaries, measurements, args.hosts, args.forks, reference)
    print()
    print(f"## {args.hosts} hosts, {args.repeat} interleaved repetitions, forks {args.forks}")
    print()
    print(f"versions: {key_versions(install, venvs, info)}")
    print()
    print(results_table(summaries, args.hosts, one_host))
    print()
    codes = sorted({m.code for m in measurements if m.tool == "remediate"})
    if len(codes) > 1:
        print(
            f"WARNING: the installed remediate changed during the benchmark ({len(codes)} versions:"
            f" {', '.join(codes)}): its rows mix versions; the JSON has the version of each run."
        )
        print()
    noisy = [m for m in measurements if m.background_cores > NOISY_BACKGROUND]
    if noisy:
        worst = max(m.background_cores for m in noisy)
        print(
            f"note: other work kept up to {worst:.2f} of {os.cpu_count()} CPUs busy just before {len(noisy)} of"
            f" {len(measurements)} jobs (bg CPUs): those timings are slower than on a quiet machine."
        )
        print()
    print(
        f"## Targets of issue 19 (remediate's human output; comparisons judged at"
        f" {' and '.join(map(str, ISSUE_TARGET_HOSTS))} hosts, scale at {SCALE_HOSTS})"
    )
    print()
    print(targets_table(found))
    print()
    if args.hosts != REFERENCE_HOSTS and reference is None and install is not None:
        print(f"no {REFERENCE_HOSTS}-host result to compare with (none of remediate {install['describe']})")
        print()
    elapsed = time.monotonic() - started
    print(f"benchmark took {elapsed:.0f} s")
    if not args.no_save:
        folder = Path(args.results_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M")
        path = folder / f"{stamp}-{args.hosts}hosts.json"
        document = {
            "benchmark": BENCHMARK,
            "hosts": args.hosts,
            "repeat": args.repeat,
            "forks": args.forks,
            "tools": wanted,
            "jobs": {tool.name: list(tool.jobs) for tool in tools},
            "commands": {tool.name: tool.label for tool in tools},
            "playbook": PLAYBOOK_TEXT,
            "skipped": missing,
            "machine": info,
            "remediate": install,
            "venvs": venvs,
            "remediate_one_host_dry_run": {output: asdict(m) for output, m in one_host.items()},
            "remediate_sources": codes,
            "reference_100_hosts": asdict(reference) if reference else None,
            "load_average_at_end": os.getloadavg(),
            "summary": [asdict(s) for s in summaries],
            "targets": [asdict(t) for t in found],
            "runs": [asdict(m) for m in measurements],
            "elapsed_s": round(elapsed, 1),
        }
        path.write_text(json.dumps(document, indent=1) + "\n")
        print(f"results written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
