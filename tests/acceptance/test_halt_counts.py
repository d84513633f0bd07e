"""A halt's message says what the hosts' statuses say in the end; hosts refused while being read halt a
run before any write, every time (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from labtools import BROKEN, FIXED, WP, fix_playbook, http_status, run_json, untouched

from remediate.cli.main import main
from remediate.lab.fleet import Lab, reset_host, stop_sshd
from remediate.model import FAILED_STATUSES

pytestmark = pytest.mark.lab

LOCALE = "/var/www/html/wp-includes/class-wp-locale.php"  # without it the fixed site still answers 500


def break_verify(lab: Lab, *names: str) -> None:
    """After the fix these hosts' sites still answer 500: their verify probe fails, and they roll back."""
    for name in names:
        lab.host(name).local_path(LOCALE).unlink()


def counted(doc: dict[str, Any]) -> dict[str, Any]:
    """The halt's counts as the hosts' statuses give them, to compare with what the halt says."""
    hosts = doc["hosts"].values()
    read = [name for name, h in doc["hosts"].items() if h["status"] in FAILED_STATUSES and h["started"] is None]
    return {
        "failed": sum(1 for h in hosts if h["status"] in FAILED_STATUSES),
        "failed_at_read": read,
        "total": len(doc["hosts"]),
        "skipped": sum(1 for h in hosts if h["status"] == "skipped"),
    }


def assert_halt_matches_statuses(doc: dict[str, Any]) -> dict[str, Any]:
    halt = doc["halt"]
    assert {key: halt[key] for key in ("failed", "failed_at_read", "total", "skipped")} == counted(doc)
    worked = [h for h in doc["hosts"].values() if h["started"] is not None]
    assert len(worked) + len(halt["failed_at_read"]) + halt["skipped"] == halt["total"]
    assert halt["in_flight"] < len(worked) or not worked  # the host that spent the budget was not in flight
    return halt  # type: ignore[no-any-return]


def test_a_wave_that_all_rolled_back_counts_every_failure_and_skips_the_rest(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The canary wave of 5 all fail their probe: the first failure halts the run with 4 in flight, which
    fail too, and the message says 5 failed, not 1; the 15 hosts after the canary are skipped."""
    break_verify(big_lab, *(h.name for h in big_lab.hosts[:5]))
    pb = fix_playbook(tmp_path, verify=True)
    inventory = str(big_lab.inventory_path)
    code, doc = run_json(capsys, "apply", pb, "-i", inventory, "--yes", "--canary", "5", "--forks", "5")
    assert code == 1
    assert doc["summary"] == {"rolled_back": 5, "skipped": 15}
    halt = assert_halt_matches_statuses(doc)
    assert (halt["failed"], halt["in_flight"], halt["skipped"], halt["before_write"]) == (5, 4, 15, False)
    assert doc["halted"] == (
        "5 host(s) failed, more than --max-fail 0 allows (0 of 20); 4 in flight finished after the halt;"
        " 15 skipped (not started)"
    )
    assert all(BROKEN in h.local_path(WP).read_bytes() for h in big_lab.hosts[:5])  # put back
    assert all(untouched(big_lab, h.name) for h in big_lab.hosts[5:])  # never written
    # The text summary says the same, and nothing it did not count.
    assert main(["apply", pb, "-i", inventory, "--yes", "--canary", "5", "--forks", "5"]) == 1
    out = capsys.readouterr().out
    assert f"halted: {doc['halted']}\n" in out and "hosts not started are skipped" not in out
    assert "to go on:" not in out  # a halt after writes: the same hosts would not halt the same way again
    assert re.search(r"^remediate resume \S+ goes on with the 15 host\(s\) not started$", out, re.MULTILINE)


def test_max_fail_2_at_50_hosts_counts_the_hosts_in_flight(
    fifty_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batches of 20 with 20 forks: the budget (2, of which web50, refused at read, takes 1) runs out in
    the first wave while most of it is in flight; every failure of those hosts is counted."""
    failing = ("web2", "web5", "web9", "web13", "web17")
    for name in failing:
        fifty_lab.host(name).local_path("/tmp/fail").write_text("")
    # The marked hosts' handler fails at once on the fixed file (and passes on the original their rollback
    # puts back); the others' takes 2 s, so they are still in flight when the budget runs out.
    handler = (
        "if test -e /tmp/fail; then grep -q 'locale.phpp' /var/www/html/wp-settings.php || exit 1; else sleep 2; fi"
    )
    pb = fix_playbook(tmp_path, handler=handler)
    stop_sshd(fifty_lab, "web50")  # in the last wave: counted before any host is written all the same
    code, doc = run_json(
        capsys, "apply", pb, "-i", str(fifty_lab.inventory_path), "--yes",
        "--batch", "20", "--forks", "20", "--max-fail", "2",
    )  # fmt: skip
    assert code == 1
    halt = assert_halt_matches_statuses(doc)
    assert halt["failed_at_read"] == ["web50"] and doc["hosts"]["web50"]["status"] == "unreachable"
    assert {n for n, h in doc["hosts"].items() if h["status"] == "rolled_back"} == set(failing)
    assert (halt["failed"], halt["skipped"], halt["allowed"]) == (6, 29, 2)  # waves 2 and 3 but web50
    assert halt["in_flight"] > 3  # the old count (taken when the budget ran out) missed these hosts' failures
    assert doc["halted"] == (
        f"6 host(s) failed (1 while being read), more than --max-fail 2 allows (2 of 50);"
        f" {halt['in_flight']} in flight finished after the halt; 29 skipped (not started)"
    )
    first_wave = {h.name for h in fifty_lab.hosts[:20]}
    assert all(doc["hosts"][n]["status"] == "changed" for n in first_wave - set(failing))
    assert all(BROKEN in fifty_lab.host(n).local_path(WP).read_bytes() for n in failing)  # put back
    assert all(untouched(fifty_lab, h.name) for h in fifty_lab.hosts if h.name not in first_wave)


def test_an_unreachable_host_at_read_halts_before_any_write(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop_sshd(big_lab, "web20")
    inventory = str(big_lab.inventory_path)
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--yes", "--forks", "20")
    assert code == 1
    halt = assert_halt_matches_statuses(doc)
    assert (halt["failed"], halt["failed_at_read"], halt["in_flight"], halt["skipped"]) == (1, ["web20"], 0, 19)
    assert doc["halted"] == (
        "1 host(s) failed while being read, more than --max-fail 0 allows (0 of 20): nothing was written;"
        " 19 skipped (not started)"
    )
    assert doc["hosts"]["web1"]["error"] == f"not started: the run halted: {doc['halted']}"
    assert all(untouched(big_lab, h.name) for h in big_lab.hosts[:19])
    # The text summary says how to go on, with a limit a shell leaves alone.
    assert main(["apply", "fix-phpp", "-i", inventory, "--yes", "--forks", "20"]) == 1
    out = capsys.readouterr().out
    assert f"halted: {doc['halted']}\n" in out
    assert (
        "to go on: --max-fail 1, or --limit '!web20' to leave those hosts out (with any items your --limit had)\n"
        in out
    )
    assert re.search(r"^remediate resume \S+ goes on with the 19 host\(s\) not started$", out, re.MULTILINE)
    assert all(untouched(big_lab, h.name) for h in big_lab.hosts[:19])


def test_five_runs_with_a_host_unreachable_at_read_halt_or_go_on_the_same_way_each_time(
    big_lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    """web7 refused at read, 20 forks (every host at once, so the order the workers reach the hosts in
    would matter): with --max-fail 0 no run writes anything; with --max-fail 1 every run fixes the 19."""
    stop_sshd(big_lab, "web7")
    others = [h for h in big_lab.hosts if h.name != "web7"]
    argv = ["apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--yes", "--forks", "20"]
    for _ in range(5):
        code, doc = run_json(capsys, *argv)
        assert (code, doc["summary"]) == (1, {"unreachable": 1, "skipped": 19})
        assert doc["halt"]["before_write"] is True
        assert all(untouched(big_lab, h.name) for h in others)
    for _ in range(5):
        code, doc = run_json(capsys, *argv, "--max-fail", "1")
        assert (code, doc["summary"], doc["halted"]) == (1, {"unreachable": 1, "changed": 19}, None)
        assert all(FIXED in h.local_path(WP).read_bytes() and http_status(h) == 200 for h in others)
        for host in others:  # broken again for the next run
            reset_host(big_lab, host.name)
