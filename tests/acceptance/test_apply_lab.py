"""The whole path over real SSH against a real lab fleet: dry-run, apply, re-run, failures.

Each lab host is a real sshd on its own loopback address in its own mount namespace; ``LabHost.local_path``
maps a path on the host to the file backing it, so the assertions read the bytes the host really holds.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from labtools import WP, give_distinct_ownership, http_status, run_json, run_on_terminal, snapshot

from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab


def test_dry_run_shows_every_host_and_touches_nothing(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(lab)
    mtimes = {h.name: h.local_path(WP).stat().st_mtime_ns for h in lab.hosts}
    code, doc = run_json(capsys, "apply", "playbooks/fix-phpp.yml", "--inventory", str(lab.inventory_path), "--dry-run")
    assert code == 0 and doc["dry_run"] is True
    assert set(doc["hosts"]) == {h.name for h in lab.hosts}
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "changed" and entry["error"] is None
        (change,) = entry["changes"]
        assert change["path"] == WP
        assert "-require ABSPATH . WPINC . '/class-wp-locale.phpp';" in change["diff"]
        assert "+require ABSPATH . WPINC . '/class-wp-locale.php';" in change["diff"]
    assert doc["summary"] == {"changed": len(lab.hosts)}
    assert snapshot(lab) == before
    assert {h.name: h.local_path(WP).stat().st_mtime_ns for h in lab.hosts} == mtimes
    assert all(not any(h.local_path("/var/backups").iterdir()) for h in lab.hosts)
    assert all(http_status(h) == 500 for h in lab.hosts)


def test_apply_fixes_every_host_exactly_and_keeps_a_backup(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    give_distinct_ownership(lab)
    before = snapshot(lab)
    assert all(http_status(h) == 500 for h in lab.hosts)
    code, doc = run_json(capsys, "apply", "fix-phpp", "--inventory", str(lab.inventory_path), "--yes")
    assert code == 0 and doc["dry_run"] is False, json.dumps(doc["hosts"]["web1"])[:900]
    assert doc["summary"] == {"changed": len(lab.hosts)}
    run_id = doc["run_id"]
    after = snapshot(lab)
    for host in lab.hosts:
        old_bytes, mode, uid, gid = before[host.name]
        expected = old_bytes.replace(b"class-wp-locale.phpp", b"class-wp-locale.php")
        assert expected != old_bytes
        assert after[host.name] == (expected, mode, uid, gid)  # every other byte, the mode and the owner kept
        backup = host.local_path(f"/var/backups/remediate/{run_id}{WP}")
        assert backup.read_bytes() == old_bytes
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert stat.S_IMODE(host.local_path(f"/var/backups/remediate/{run_id}").stat().st_mode) == 0o700
        leftovers = [p.name for p in host.local_path("/var/www/html").iterdir() if p.name.startswith(".remediate")]
        assert leftovers == []
        assert http_status(host) == 200

    code, again = run_json(capsys, "apply", "fix-phpp", "--inventory", str(lab.inventory_path), "--yes")
    assert code == 0
    assert again["summary"] == {"unchanged": len(lab.hosts)}
    assert all(entry["changes"] == [] for entry in again["hosts"].values())
    assert snapshot(lab) == after
    for host in lab.hosts:  # an unchanged host is not written to: no second backup folder
        assert [p.name for p in host.local_path("/var/backups/remediate").iterdir()] == [run_id]


def test_unreachable_host_fails_alone(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab.inventory_path.read_text().replace(
        "hosts:\n", "hosts:\n  ghost: {address: 127.0.0.1, port: 9, vars: {health_url: 'http://127.0.0.1:9/'}}\n", 1
    )
    path = tmp_path / "with-ghost.yml"
    path.write_text(inventory)
    # An unreachable host counts against the failure threshold like any failure: allow one.
    code, doc = run_json(capsys, "apply", "fix-phpp", "--inventory", str(path), "--yes", "--max-fail", "1")
    assert code == 1
    ghost = doc["hosts"]["ghost"]
    assert ghost["status"] == "unreachable" and "connection refused by 127.0.0.1:9" in ghost["error"]
    assert doc["summary"] == {"unreachable": 1, "changed": len(lab.hosts)}
    assert all(http_status(h) == 200 for h in lab.hosts)


def test_unknown_host_key_is_refused_before_any_command(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    text = lab.inventory_path.read_text()
    text = "\n".join(
        f"  known_hosts: {empty}" if line.strip().startswith("known_hosts:") else line for line in text.splitlines()
    )
    path = tmp_path / "no-keys.yml"
    path.write_text(text + "\n")
    before = snapshot(lab)
    code, doc = run_json(capsys, "apply", "fix-phpp", "--inventory", str(path), "--yes", "--max-fail", "100%")
    assert code == 1
    for entry in doc["hosts"].values():
        assert entry["status"] == "unreachable"
        assert "unknown host key ssh-ed25519 SHA256:" in entry["error"]
    assert snapshot(lab) == before
    assert empty.read_text() == ""  # nothing was added behind the operator's back


def test_refuses_to_apply_without_terminal_or_yes(lab: Lab) -> None:
    before = snapshot(lab)
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.main", "apply", "fix-phpp", "--inventory", str(lab.inventory_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "remediate: error: refusing to apply without confirmation: standard input is not a terminal; pass --yes\n"
    )
    assert snapshot(lab) == before


def test_hand_written_inventory_and_playbook_with_template(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the lab's inventory: other names, groups, per-host vars; a playbook with both step types."""
    first, second = lab.hosts[0], lab.hosts[1]
    key = lab.directory / "id_ed25519"
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "prod.yml").write_text(
        textwrap.dedent(f"""\
        defaults:
          user: root
          port: {first.ssh_port}
          identity_file: {key}
          known_hosts: {lab.directory / "known_hosts"}
        vars: {{docroot: /var/www/html, server_name: example.org}}
        hosts:
          blog-a: {{address: {first.address}}}
          blog-b: {{address: {second.address}, vars: {{server_name: b.example.org}}}}
        groups:
          wordpress: {{hosts: [blog-a, blog-b], vars: {{admin: ops@example.org}}}}
        """)
    )
    (tmp_path / "playbooks" / "templates").mkdir(parents=True)
    (tmp_path / "playbooks" / "templates" / "wordpress.conf.j2").write_text(
        "<VirtualHost *:80>\n  ServerName {{ server_name }}\n  ServerAdmin {{ admin }}\n"
        "  DocumentRoot {{ docroot }}\n  # {{ host.name }} at {{ host.address }}\n</VirtualHost>\n"
    )
    (tmp_path / "playbooks" / "fix-wordpress.yml").write_text(
        textwrap.dedent("""\
        name: fix-wordpress
        description: Fix the .phpp typo and install the vhost
        hosts: wordpress
        steps:
          - name: fix the require line
            line_patch:
              path: "{{ docroot }}/wp-settings.php"
              sed: 's/\\.phpp\\b/.php/g'
          - name: apache vhost
            template:
              src: templates/wordpress.conf.j2
              dest: /etc/apache2/sites-available/wordpress.conf
              mode: "0640"
        """)
    )
    monkeypatch.chdir(tmp_path)
    code, doc = run_json(capsys, "apply", "fix-wordpress", "--inventory", "prod", "--yes", "--limit", "blog-*")
    assert code == 0, doc
    assert doc["summary"] == {"changed": 2}
    vhost = second.local_path("/etc/apache2/sites-available/wordpress.conf")
    assert vhost.read_text() == (
        "<VirtualHost *:80>\n  ServerName b.example.org\n  ServerAdmin ops@example.org\n"
        f"  DocumentRoot /var/www/html\n  # blog-b at {second.address}\n</VirtualHost>\n"
    )
    assert stat.S_IMODE(vhost.stat().st_mode) == 0o640
    assert http_status(first) == 200 and http_status(second) == 200
    assert http_status(lab.hosts[2]) == 500  # not in the inventory: untouched
    run_id = doc["run_id"]
    code, doc = run_json(capsys, "apply", "fix-wordpress", "--inventory", "prod", "--yes")
    assert code == 0 and doc["summary"] == {"unchanged": 2}

    # The rollback finds the hosts through the same hand-written inventory, recorded in the journal.
    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0 and doc["summary"] == {"changed": 2}
    assert not vhost.exists()  # the template created it, so the rollback removes it
    assert http_status(first) == 500 and http_status(second) == 500


def test_expect_matches_fails_only_the_host_that_differs(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = lab.hosts[0].local_path(WP)
    odd.write_bytes(odd.read_bytes() + b"// a second class-wp-locale.phpp mention\n")
    playbook = tmp_path / "strict.yml"
    playbook.write_text(
        "steps:\n  - line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php', expect_matches: 1}\n"
    )
    # The failure must be allowed (--max-fail 1) for the other hosts to be sure to start.
    code, doc = run_json(
        capsys, "apply", str(playbook), "--inventory", str(lab.inventory_path), "--yes", "--max-fail", "1"
    )
    assert code == 1
    first = doc["hosts"][lab.hosts[0].name]
    assert first["status"] == "failed" and "has 2 match(es)" in first["error"] and "expected 1" in first["error"]
    assert b".phpp" in odd.read_bytes() and http_status(lab.hosts[0]) == 500
    assert all(doc["hosts"][h.name]["status"] == "changed" for h in lab.hosts[1:])


def test_bad_input_is_one_line_exit_2_and_no_traceback(lab: Lab, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("steps:\n  - line_patch: {path: /x\n")
    undefined = tmp_path / "undefined.yml"
    undefined.write_text("steps:\n  - line_patch: {path: '{{ nowhere }}/x', regex: a, replace: b}\n")
    unknown = tmp_path / "unknown.yml"
    unknown.write_text("steps:\n  - name: run it\n    shell: rm -rf /\n")
    inv = ["--inventory", str(lab.inventory_path)]
    cases = [
        (["apply", "no-such-playbook", *inv], "remediate: error: playbook 'no-such-playbook' not found"),
        (["apply", str(broken), *inv], f"remediate: error: {broken}:3:1: YAML syntax error"),
        (["apply", str(unknown), *inv], f"remediate: error: {unknown}: steps[0].shell: unknown key"),
        (
            ["apply", str(undefined), *inv],
            f"remediate: error: {undefined}: steps[0].line_patch.path: 'nowhere' is undefined (host web1)",
        ),
        (
            ["apply", "fix-phpp", "--inventory", str(tmp_path / "nope.yml")],
            f"remediate: error: {tmp_path / 'nope.yml'}: file not found",
        ),
        (
            ["apply", "fix-phpp", *inv, "--limit", "nosuchhost"],
            "remediate: error: --limit: 'nosuchhost' matches no host or group",
        ),
        (
            ["apply", "fix-phpp", *inv, "--frobnicate"],
            "remediate: error: remediate: unrecognized arguments: --frobnicate",
        ),
    ]
    for argv, expected in cases:
        result = subprocess.run(
            [sys.executable, "-m", "remediate.cli.main", *argv, "--dry-run"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith(expected), (argv, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stdout == ""


def test_terminal_confirmation_is_asked_and_respected(lab: Lab) -> None:
    before = snapshot(lab)
    argv = ["apply", "fix-phpp", "--inventory", str(lab.inventory_path)]
    code, output = run_on_terminal(argv, b"n\n")
    assert "-require ABSPATH . WPINC . '/class-wp-locale.phpp';" in output  # the diff comes before the question
    assert f"Apply these changes to {len(lab.hosts)} host(s)? [y/N]" in output
    assert "Not confirmed: nothing was applied." in output
    assert code == 1 and snapshot(lab) == before

    code, output = run_on_terminal(argv, b"y\n")
    assert code == 0, output
    assert all(http_status(h) == 200 for h in lab.hosts)
