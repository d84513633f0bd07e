"""Fixtures for tests against a real lab fleet (root, Linux, Debian's openssh-server and php-cli).

Addresses: each pytest-xdist worker (``PYTEST_XDIST_WORKER``, gw0 .. gw24; gw0 without xdist) has a
slot of ``WORKER_STRIDE`` (40) global lab indexes from 1000 + 40 * N, so labs of workers running at once
(also separate sessions, each given a worker name of its own) never share an address. In a slot:
offsets 0..3 the fleet, 4..5 the Apache lab, 6..9 free (tests use them as unused addresses), 10..19
labs that tests start themselves, 20..39 the chaos test's 20 hosts (``tests/acceptance/test_chaos.py``). The
20-host ``big_fleet`` is outside every slot, at 2000 + 40 * N (up to 2999), and the 50-host ``fifty_lab`` at
4000 + 50 * N (up to 5249), and the 60-host ``sixty_lab`` at 6000 + 60 * N (up to 7499).

``lab_fleet`` (session): 4 hosts from global index 1000 (127.0.4.239 ..) plus the worker's slot, so it
never collides with a developer's own lab on 127.0.1.x, in ``/var/lib/remediate/pytest-<pid>/fleet``;
its inventory goes to the pytest tmp dir. Always torn down. On a machine that cannot run a lab it
FAILS with the reason: a skipped integration test would hide exactly what these tests exist to show.

``lab`` (function): the same lab with every host reset to its pristine (broken) files and its sshd and
web server running, whatever the previous test did.

``apache_lab`` (function): a second lab of 2 hosts (offsets 4 and 5 of the worker's slot: for gw0
global indexes 1004 and 1005, 127.0.4.243 ..) whose hosts also run Apache with mod_php on ADDR:80
(``LabHost.apache_url``), serving the same broken site (500 until the typo is fixed) and a static
``/health.txt``; started at the first use in a session (needs Debian's apache2 and
libapache2-mod-php), and before every test reset like ``lab``: pristine files, Apache restarted with
the pristine config, sshd and PHP server running.

``fifty_lab`` (module): 50 hosts, for what only shows at that size (how many hosts are in flight when a
run halts); started once for the module that uses it, always torn down, and reset before each test like ``lab``.

``sixty_lab`` (module): 60 hosts, for a rollout shared by several workers (``tests/acceptance/test_workers.py``);
started once for the module that uses it, always torn down, and reset before each test like ``lab``.

``chaos_lab`` (module, for ``tests/acceptance/test_chaos.py``): 20 hosts at offsets 20..39 of the worker's slot,
started once and never reset: the test itself puts every host back (that is what it tests).
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import labtools
import pytest
import remote_shells
from postgres import Server, postgres_server

from remediate.errors import RemediateError
from remediate.lab.fleet import (
    Lab,
    LabHost,
    check_lab_machine,
    lab_down,
    lab_status,
    lab_up,
    reset_host,
    start_http,
    start_sshd,
    stop_http,
)

LAB_PARENT = Path("/var/lib/remediate")
FLEET_SIZE = 4
FLEET_FIRST_INDEX = 1000
APACHE_LAB_SIZE = 2
APACHE_LAB_OFFSET = 4  # after the fleet; tests that start labs of their own use offsets 10..19
CHAOS_LAB_OFFSET = 20  # the chaos test's own 20 hosts: offsets 20..39
WORKER_STRIDE = 40  # global indexes in each worker's slot
MAX_WORKERS = 25  # gw0 .. gw24: their slots fill 1000 .. 1999


def _worker_offset() -> int:
    """Addresses apart for each pytest-xdist worker (gw0, gw1, ...); 0 without xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker.removeprefix("gw") or 0)
    if not 0 <= number < MAX_WORKERS:
        pytest.fail(f"PYTEST_XDIST_WORKER={worker}: lab addresses are laid out for gw0 .. gw{MAX_WORKERS - 1}")
    return WORKER_STRIDE * number


def _remove_stale_test_labs() -> None:
    """Labs of earlier test sessions that died without teardown (their pid is gone) hold our addresses."""
    for base in LAB_PARENT.glob("pytest-*"):
        pid = base.name.removeprefix("pytest-")
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        for lab_dir in base.iterdir():
            if (lab_dir / "lab.json").exists():
                lab_down(lab_dir)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_parent_dir() -> Iterator[Path]:
    """A folder for this session's labs, under /var/lib/remediate (sshd must see it; /tmp is per host)."""
    problem = ""
    try:
        check_lab_machine()
    except RemediateError as error:
        problem = str(error)
    if problem:  # failed outside the except block, so pytest shows one line and no chained traceback
        pytest.fail(f"cannot run lab tests on this machine: {problem}", pytrace=False)
    _remove_stale_test_labs()
    base = LAB_PARENT / f"pytest-{os.getpid()}"
    base.mkdir(mode=0o711, parents=True, exist_ok=True)  # traversable: the unprivileged lab user logs in too
    try:
        yield base
    finally:
        for lab_dir in base.iterdir():
            if (lab_dir / "lab.json").exists():
                lab_down(lab_dir)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_first_index() -> int:
    """Global index of the fleet's first host, the start of the worker's slot (offsets in the module's docstring)."""
    return FLEET_FIRST_INDEX + _worker_offset()


def _session_lab(
    what: str, count: int, lab_dir: Path, inventory: Path, first_index: int, apache: bool = False
) -> Iterator[Lab]:
    """A lab for its fixture's scope: failing the tests with the reason when it cannot start, always down."""
    try:
        lab = lab_up(count, lab_dir=lab_dir, inventory_path=inventory, first_index=first_index, apache=apache)
    except RemediateError as error:
        pytest.fail(f"cannot start {what}: {error}", pytrace=False)
    try:
        yield lab
    finally:
        lab_down(lab.directory)


@pytest.fixture(scope="session")
def lab_fleet(lab_parent_dir: Path, lab_first_index: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    inventory = tmp_path_factory.mktemp("lab-inventory") / "lab.yml"
    yield from _session_lab("the lab fleet", FLEET_SIZE, lab_parent_dir / "fleet", inventory, lab_first_index)


@pytest.fixture
def lab(lab_fleet: Lab) -> Lab:
    return _reset_lab(lab_fleet)


BIG_FLEET_SIZE = 20
BIG_FLEET_FIRST_INDEX = FLEET_FIRST_INDEX + WORKER_STRIDE * MAX_WORKERS  # 2000: clear of every worker's slot


@pytest.fixture(scope="session")
def big_fleet(lab_parent_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """20 hosts, for rollout behaviour: forks, canary, batches, thresholds, interruption."""
    inventory = tmp_path_factory.mktemp("big-lab-inventory") / "lab.yml"
    first = BIG_FLEET_FIRST_INDEX + _worker_offset()  # 20 hosts of the worker's 40
    yield from _session_lab("the 20-host lab fleet", BIG_FLEET_SIZE, lab_parent_dir / "big", inventory, first)


@pytest.fixture
def big_lab(big_fleet: Lab) -> Lab:
    return _reset_lab(big_fleet)


FIFTY_LAB_SIZE = 50
FIFTY_LAB_FIRST_INDEX = 4000  # clear of every slot (1000 .. 1999) and of every big_fleet (2000 .. 2999)


def _large_lab(
    name: str, size: int, first_index: int, lab_parent_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """A lab of ``size`` hosts for one module, each pytest worker's at its own ``size`` addresses from
    ``first_index``, in ``lab_parent_dir / name``."""
    inventory = tmp_path_factory.mktemp(f"{name}-lab-inventory") / "lab.yml"
    first = first_index + size * (_worker_offset() // WORKER_STRIDE)
    yield from _session_lab(f"the {size}-host lab fleet", size, lab_parent_dir / name, inventory, first)


@pytest.fixture(scope="module")
def fifty_fleet(lab_parent_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from _large_lab("fifty", FIFTY_LAB_SIZE, FIFTY_LAB_FIRST_INDEX, lab_parent_dir, tmp_path_factory)


@pytest.fixture
def fifty_lab(fifty_fleet: Lab) -> Lab:
    return _reset_lab(fifty_fleet)


SIXTY_LAB_SIZE = 60
SIXTY_LAB_FIRST_INDEX = 6000  # clear of every slot, big_fleet and fifty_lab (4000 .. 5249): up to 7499


@pytest.fixture(scope="module")
def sixty_fleet(lab_parent_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from _large_lab("sixty", SIXTY_LAB_SIZE, SIXTY_LAB_FIRST_INDEX, lab_parent_dir, tmp_path_factory)


@pytest.fixture
def sixty_lab(sixty_fleet: Lab) -> Lab:
    return _reset_lab(sixty_fleet)


CHAOS_LAB_SIZE = 20


@pytest.fixture(scope="module")
def chaos_lab(lab_parent_dir: Path, lab_first_index: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    inventory = tmp_path_factory.mktemp("chaos-lab-inventory") / "lab.yml"
    first = lab_first_index + CHAOS_LAB_OFFSET
    yield from _session_lab("the chaos lab", CHAOS_LAB_SIZE, lab_parent_dir / "chaos", inventory, first)


@pytest.fixture(scope="session")
def apache_lab_session(
    lab_parent_dir: Path, lab_first_index: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    inventory = tmp_path_factory.mktemp("apache-lab-inventory") / "lab.yml"
    first = lab_first_index + APACHE_LAB_OFFSET
    yield from _session_lab("the lab with Apache", APACHE_LAB_SIZE, lab_parent_dir / "apache", inventory, first, True)


@pytest.fixture
def apache_lab(apache_lab_session: Lab) -> Lab:
    return _reset_lab(apache_lab_session)


def _reset_lab(lab: Lab) -> Lab:
    """Every host pristine, with each of its services running (reset_host restarts Apache itself)."""
    running = {status.name: status for status in lab_status(lab.directory)}
    for host in lab.hosts:
        reset_host(lab, host.name)
        if not running[host.name].sshd_running:
            start_sshd(lab, host.name)
        if lab.http and not running[host.name].http_running:
            start_http(lab, host.name)
        elif lab.http and not _site_answers(host):
            # Seen twice on a fresh machine, cause not yet found: a host's web server whose process runs
            # but whose site stopped answering for a minute or two, failing the verify probes of the
            # tests that followed. A test starts from a site that answers, whatever the one before did.
            stop_http(lab, host.name)
            start_http(lab, host.name)
    return lab


def _site_answers(host: LabHost) -> bool:
    """The host's site answers HTTP at all (the pristine site answers 500: the outage)."""
    try:
        with urllib.request.urlopen(host.url, timeout=3):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that ran remediate with --json (labtools.run_json) reports every host that did not end
    ok, with its error: a status compared in an assertion shows only the status (a lab host's flake of
    earlier stops came back rolled_back, and why was never seen)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        lines = labtools.hosts_not_ok(labtools.RUN_DOCUMENTS)
        if lines:
            report.sections.append(("remediate: hosts that did not end ok, with their errors", "\n".join(lines)))
    if report.when == "teardown":
        labtools.RUN_DOCUMENTS.clear()


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test runs in the repository, as an operator runs remediate beside playbooks/ (so fix-phpp
    resolves), with a journal of its own; the returned path is that journal's state folder."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    state = tmp_path / "state"
    monkeypatch.setenv("REMEDIATE_STATE", str(state))
    monkeypatch.delenv("REMEDIATE_JOURNAL", raising=False)  # the operator's own shared journal is not the test's
    monkeypatch.delenv("REMEDIATE_CONFIG", raising=False)  # nor the operator's configuration file
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return state


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server for the session (tests/postgres.py), started on first use, always stopped."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=sorted(remote_shells.SHELLS))
def remote_shell(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test that uses it runs once under every shell a host's sh may be (``remote_shells``)."""
    name: str = request.param
    remote_shells.use(name)
    yield name
    remote_shells.use("dash")
