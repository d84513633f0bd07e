"""`remediate resume RUN` on the 20-host lab: after a Ctrl-C and after a --max-fail halt it finishes exactly the
hosts the run never started, with the plan it recorded; rolling back both runs gives back every host's bytes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from labtools import FIXED, WP, fix_playbook, interrupted_apply, run_json, snapshot, untouched

from remediate.cli.main import main
from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab

LOCALE = "/var/www/html/wp-includes/class-wp-locale.php"


def statuses(doc: dict[str, object]) -> dict[str, str]:
    hosts = doc["hosts"]
    assert isinstance(hosts, dict)
    return {name: entry["status"] for name, entry in hosts.items()}


def roll_back(capsys: pytest.CaptureFixture[str], *run_ids: str) -> None:
    for run_id in run_ids:
        code, doc = run_json(capsys, "rollback", run_id, "--yes")
        assert code == 0, doc


def test_resume_after_an_interruption_finishes_exactly_the_hosts_never_started(
    big_lab: Lab, tmp_path: Path, in_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(big_lab)
    first, _ = interrupted_apply(big_lab, tmp_path)
    first_statuses = statuses(first)
    left = {name for name, status in first_statuses.items() if status == "interrupted"}
    assert 3 <= 20 - len(left) < 20 and set(first_statuses.values()) == {"changed", "interrupted"}

    monkeypatch.chdir(tmp_path)  # from another folder: the journal and the run's files are found all the same
    code, resumed = run_json(capsys, "resume", first["run_id"], "--yes")
    assert code == 0, resumed
    assert statuses(resumed) == {name: "changed" for name in left}  # those, and only those
    assert all(FIXED in h.local_path(WP).read_bytes() for h in big_lab.hosts)
    for host in big_lab.hosts:  # each host written once: by the first run or by the resume, never both
        assert len(list(host.local_path("/var/backups/remediate").iterdir())) == 1, host.name

    db = sqlite3.connect(in_repo / "journal.sqlite")
    assert db.execute("SELECT resume_of, kind, status FROM runs WHERE run_id = ?", (resumed["run_id"],)).fetchone() == (
        first["run_id"], "apply", "ok",
    )  # fmt: skip
    code = main(["show", first["run_id"]])
    assert code == 0 and f"resumed by run {resumed['run_id']}" in capsys.readouterr().out
    code, shown = run_json(capsys, "show", first["run_id"])
    assert shown["resumed_by"] == [resumed["run_id"]]
    assert all(not shown["hosts"][name]["files"] for name in left)  # planned, never written: nothing to show

    roll_back(capsys, resumed["run_id"], first["run_id"])
    assert snapshot(big_lab) == before


def test_resume_after_a_max_fail_halt_goes_on_with_the_hosts_skipped(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Halted at web3, resumed; that resume halts at web10 and is resumed in turn; all three roll back."""
    broken_sites = (big_lab.host("web3"), big_lab.host("web10"))
    for host in broken_sites:
        host.local_path(LOCALE).unlink()  # its site answers 500 even when fixed: its probe fails
    before = snapshot(big_lab)
    pb = Path(fix_playbook(tmp_path, verify=True))
    pb.write_text(pb.read_text().replace("replace: '.php'", "replace: '{{ ext }}'"))  # from the command line
    code, first = run_json(
        capsys, "apply", str(pb), "-i", str(big_lab.inventory_path), "--yes", "--forks", "1", "-e", "ext=.php"
    )
    assert code == 1 and first["halted"]
    names = [h.name for h in big_lab.hosts]
    assert [statuses(first)[n] for n in names] == ["changed"] * 2 + ["rolled_back"] + ["skipped"] * 17

    code, second = run_json(capsys, "resume", first["run_id"], "--yes")  # the first run's -e and --forks 1 hold
    assert code == 1 and second["halted"]
    assert [statuses(second).get(n) for n in names] == [None] * 3 + ["changed"] * 6 + ["rolled_back"] + ["skipped"] * 10

    assert main(["resume", first["run_id"], "--yes"]) == 2
    assert capsys.readouterr().err == (
        f"remediate: error: run {first['run_id']} was resumed already, by run {second['run_id']}: resume that one\n"
    )
    code, third = run_json(capsys, "resume", second["run_id"], "--yes", "--forks", "8")  # -e: the first's still
    assert code == 0, third
    assert statuses(third) == {n: "changed" for n in names[10:]}  # web3 and web10, which failed, are not resumed
    for host in big_lab.hosts:
        assert (FIXED in host.local_path(WP).read_bytes()) == (host not in broken_sites), host.name

    roll_back(capsys, third["run_id"], second["run_id"], first["run_id"])
    assert snapshot(big_lab) == before


def test_a_host_changed_since_the_plan_is_a_conflict_and_left_alone(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big_lab.host("web2").local_path(LOCALE).unlink()
    pb = fix_playbook(tmp_path, verify=True)
    code, first = run_json(capsys, "apply", pb, "-i", str(big_lab.inventory_path), "--yes", "--forks", "1")
    assert code == 1 and statuses(first)["web5"] == "skipped"
    edited = big_lab.host("web5").local_path(WP)
    edited.write_bytes(edited.read_bytes() + b"// a colleague's edit\n")
    expected = edited.read_bytes()

    code, resumed = run_json(capsys, "resume", first["run_id"], "--yes", "--max-fail", "1")
    assert code == 1
    web5 = resumed["hosts"]["web5"]
    assert web5["status"] == "conflict"
    assert web5["error"].startswith(
        f"/var/www/html/wp-settings.php: changed on the host since run {first['run_id']} planned it (sha256 "
    )
    assert edited.read_bytes() == expected and untouched_backups(big_lab, "web5")
    assert {s for name, s in statuses(resumed).items() if name != "web5"} == {"changed"}


def untouched_backups(lab: Lab, name: str) -> bool:
    return not any(lab.host(name).local_path("/var/backups").iterdir())


def test_what_cannot_be_resumed_is_one_clear_line(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = str(big_lab.inventory_path)
    pb = fix_playbook(tmp_path)
    code, dry = run_json(capsys, "apply", pb, "-i", inventory, "--dry-run", "--limit", "web1")
    assert main(["resume", dry["run_id"], "--yes"]) == 2
    assert (
        capsys.readouterr().err
        == f"remediate: error: run {dry['run_id']} was a dry-run: only an apply can be resumed\n"
    )

    code, done = run_json(capsys, "apply", pb, "-i", inventory, "--yes", "--limit", "web1")
    assert code == 0 and main(["resume", done["run_id"], "--yes"]) == 0
    assert f"run {done['run_id']} left no host unstarted: nothing to resume" in capsys.readouterr().out

    big_lab.host("web2").local_path(LOCALE).unlink()
    verified = fix_playbook(tmp_path, verify=True, name="verified.yml")
    code, halted = run_json(capsys, "apply", verified, "-i", inventory, "--yes", "--forks", "1", "--limit", "web2,web3")
    assert code == 1 and statuses(halted) == {"web2": "rolled_back", "web3": "skipped"}
    with open(verified, "a") as playbook:
        playbook.write("# edited since\n")
    assert main(["resume", halted["run_id"], "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"remediate: error: {verified}: changed since run {halted['run_id']} (sha256 ")
    assert err.endswith("now): resume goes on with the same plan; apply the playbook as a new run\n")
    assert untouched(big_lab, "web3")


def test_a_secret_given_to_the_first_run_must_be_given_again(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The journal keeps a secret masked: the resume asks for it, and with it makes the same bytes."""
    inventory = str(big_lab.inventory_path)
    big_lab.host("web1").local_path(LOCALE).unlink()
    pb = tmp_path / "token.yml"
    pb.write_text(
        "steps:\n"
        "  - line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}\n"
        "  - line_patch: {path: /var/www/html/wp-settings.php, regex: '^<\\?php$', replace: '<?php // {{ token }}'}\n"
        "verify:\n  - http: {url: 'http://{{ host.address }}:8080/', expect_status: 200, retries: 1}\n"
    )
    first_args = ["apply", str(pb), "-i", inventory, "--yes", "--forks", "1", "--limit", "web1,web2"]
    code, first = run_json(capsys, *first_args, "--secret-var", "token=s3cr3t-value")
    assert code == 1 and statuses(first) == {"web1": "rolled_back", "web2": "skipped"}

    assert main(["resume", first["run_id"], "--yes"]) == 2
    assert capsys.readouterr().err == (
        f"remediate: error: run {first['run_id']} was given token as a secret, masked in the journal:"
        " give it again (--secret-var token=VALUE)\n"
    )
    assert main(["resume", first["run_id"], "--yes", "--secret-var", "token=another-value"]) == 2
    assert capsys.readouterr().err == (
        "remediate: error: web2: /var/www/html/wp-settings.php: the playbook now makes other content, mode or owner"
        f" than run {first['run_id']} planned (were its variables or secrets given otherwise?); nothing was written\n"
    )
    assert untouched(big_lab, "web2")
    code, resumed = run_json(capsys, "resume", first["run_id"], "--yes", "--secret-var", "token=s3cr3t-value")
    assert code == 0 and statuses(resumed) == {"web2": "changed"}
    content = big_lab.host("web2").local_path(WP).read_bytes()
    assert content.startswith(b"<?php // s3cr3t-value\n") and FIXED in content
    assert "s3cr3t-value" not in json.dumps(resumed)
