"""The fault-injection suite: faults and hostile input against real lab hosts, each with its exact outcome.

Every case asserts what matters: the host's status, the bytes (and mode) on the host, and where it
applies the journal's row. pytest-mock injects a fault at one precise point where a real one cannot be
timed (a connection dropped between upload and rename, a hand edit between plan and apply).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from labtools import BROKEN, FIXED, WP, ensure_lab_user, journal_host, on_host, run_json, snapshot
from pytest_mock import MockerFixture

from remediate.fleet import host_apply
from remediate.lab.fleet import Lab, stop_sshd

pytestmark = pytest.mark.lab


def write_playbook(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pb.yml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def apply(capsys: pytest.CaptureFixture[str], lab: Lab, playbook: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    return run_json(capsys, "apply", playbook, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%", *extra)


def test_unreachable_host(lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path) -> None:
    stop_sshd(lab, "web2")
    code, doc = apply(capsys, lab, "fix-phpp")
    assert code == 1 and doc["hosts"]["web2"]["status"] == "unreachable"
    assert BROKEN in lab.host("web2").local_path(WP).read_bytes()
    assert journal_host(in_repo, doc["run_id"], "web2") == ("unreachable", doc["hosts"]["web2"]["error"])


def test_connection_dropped_between_upload_and_rename(
    lab: Lab, capsys: pytest.CaptureFixture[str], mocker: MockerFixture, in_repo: Path
) -> None:
    """sshd's session is killed after the new bytes are uploaded, before the rename: the live file is intact;
    the temporary file the killed script could not clean up is removed by the next run. The controller
    cannot know how far the script got: the host is ``unknown``, never ``failed``."""
    real = host_apply.commit_script

    def dropped_before_rename(*args: object, **kwargs: object) -> bytes:
        script = real(*args, **kwargs).decode()  # type: ignore[arg-type]
        head, rename, tail = script.partition("\nr0=1; mv -fT -- ")
        # kill -9: neither the session nor the script gets to clean up, as with a real crash.
        return (head + "\nkill -9 $PPID; kill -9 $$" + rename + tail).encode()

    mocker.patch.object(host_apply, "commit_script", side_effect=dropped_before_rename)
    code, doc = apply(capsys, lab, "fix-phpp", "--limit", "web1")
    assert code == 1
    web1 = doc["hosts"]["web1"]
    assert web1["status"] == "unknown" and "lost" in web1["error"]
    assert "`remediate rollback " in web1["error"]
    docroot = lab.host("web1").local_path("/var/www/html")
    assert BROKEN in (docroot / "wp-settings.php").read_bytes()  # the live file is intact
    left = [p for p in docroot.iterdir() if p.name.startswith(".remediate-")]
    assert len(left) == 1 and FIXED in left[0].read_bytes()  # the upload, never renamed
    assert journal_host(in_repo, doc["run_id"], "web1")[0] == "unknown"

    mocker.stopall()
    code, doc = apply(capsys, lab, "fix-phpp", "--limit", "web1")
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed"
    assert not [p for p in docroot.iterdir() if p.name.startswith(".remediate-")]
    assert FIXED in (docroot / "wp-settings.php").read_bytes()


def test_authentication_failure(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace(str(lab.identity_file), str(stranger)))
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "unreachable" and entry["error"].startswith("authentication failed for root@")
        assert BROKEN in host.local_path(WP).read_bytes()


def test_unknown_host_key_is_refused_then_accepted_on_request(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace(str(lab.known_hosts), str(known)))
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--max-fail", "100%")
    assert code == 1
    error = doc["hosts"]["web1"]["error"]
    assert error.startswith("unknown host key ssh-ed25519 SHA256:") and "web1" in error
    assert error.endswith("run again with --accept-new-host-keys to add it")
    assert known.read_text() == "" and BROKEN in lab.host("web1").local_path(WP).read_bytes()

    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--accept-new-host-keys")
    assert code == 0 and doc["summary"] == {"changed": len(lab.hosts)}
    learned = known.read_text().splitlines()
    assert sorted(line.split()[0] for line in learned) == sorted(f"[{h.address}]:{h.ssh_port}" for h in lab.hosts)
    assert set(learned) <= set(lab.known_hosts.read_text().splitlines())  # exactly the hosts' real keys


def test_changed_host_key_is_refused_even_with_accept_new(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    lines = lab.known_hosts.read_text().splitlines()
    second_key = next(line for line in lines if line.startswith(f"[{second.address}]:")).split(" ", 1)[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{first.address}]:{first.ssh_port} {second_key}\n")
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace(str(lab.known_hosts), str(known)))
    code, doc = run_json(
        capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--limit", "web1", "--accept-new-host-keys"
    )
    assert code == 1
    assert doc["hosts"]["web1"]["status"] == "unreachable"
    assert doc["hosts"]["web1"]["error"].startswith(f"host key CHANGED for [{first.address}]:2222")
    assert known.read_text() == f"[{first.address}]:{first.ssh_port} {second_key}\n"
    assert BROKEN in first.local_path(WP).read_bytes()


def test_permission_denied_on_the_target(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    user = ensure_lab_user()
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace("user: root", f"user: {user}"))
    before = snapshot(lab)
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "failed"
        assert "cannot create a temporary file in /var/www/html" in entry["error"]  # root's folder
        assert entry["error"].endswith("nothing was replaced")
    assert snapshot(lab) == before


def test_read_only_filesystem(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    host = lab.host("web1")
    on_host(lab, host, "mount -o remount,bind,ro /var/www")
    try:
        code, doc = apply(capsys, lab, "fix-phpp", "--limit", "web1")
    finally:
        on_host(lab, host, "mount -o remount,bind,rw /var/www")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "failed" and "cannot create a temporary file in /var/www/html" in entry["error"]
    assert entry["error"].endswith("nothing was replaced")
    assert BROKEN in host.local_path(WP).read_bytes()


def test_disk_full(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = lab.host("web1")
    on_host(lab, host, "mkdir -p /var/www/full && mount -t tmpfs -o size=64k tiny /var/www/full"
                       " && head -c 40000 /dev/zero | tr '\\0' x > /var/www/full/app.conf"
                       " && (head -c 100000 /dev/zero > /var/www/full/filler || true)")  # fmt: skip
    try:
        pb = write_playbook(tmp_path, """\
            steps:
              - line_patch: {path: /var/www/full/app.conf, ensure_line: "# tuned by remediate"}
            """)  # fmt: skip
        code, doc = apply(capsys, lab, pb, "--limit", "web1")
        listing = on_host(lab, host, "ls -a /var/www/full; wc -c < /var/www/full/app.conf")
    finally:
        on_host(lab, host, "umount /var/www/full && rmdir /var/www/full")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "failed" and "/var/www/full/app.conf" in entry["error"]
    assert entry["error"].endswith("nothing was replaced")
    assert ".remediate-" not in listing  # the half-written temporary file was removed
    assert listing.split()[-1] == "40000"  # the live file is intact


def test_target_missing(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pb = write_playbook(tmp_path, "steps: [{line_patch: {path: /etc/apache2/nowhere.conf, ensure_line: x}}]\n")
    code, doc = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 1
    assert doc["hosts"]["web1"]["status"] == "failed"
    assert "target file does not exist (a line_patch with create: true makes it)" in doc["hosts"]["web1"]["error"]
    created = write_playbook(
        tmp_path, "steps: [{line_patch: {path: /etc/apache2/nowhere.conf, ensure_line: x, create: true}}]\n"
    )
    code, doc = apply(capsys, lab, created, "--limit", "web1")
    assert code == 0 and lab.host("web1").local_path("/etc/apache2/nowhere.conf").read_bytes() == b"x\n"


def test_target_changed_between_plan_and_apply(
    lab: Lab, capsys: pytest.CaptureFixture[str], mocker: MockerFixture, in_repo: Path
) -> None:
    real = host_apply.commit_script
    target = lab.host("web1").local_path(WP)

    def edited_meanwhile(*args: object, **kwargs: object) -> bytes:
        target.write_bytes(target.read_bytes() + b"// a colleague's hotfix\n")  # after the plan, before the write
        return real(*args, **kwargs)  # type: ignore[arg-type]

    mocker.patch.object(host_apply, "commit_script", side_effect=edited_meanwhile)
    code, doc = apply(capsys, lab, "fix-phpp", "--limit", "web1")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "conflict"
    assert "changed since the plan was made" in entry["error"] and "nothing written" in entry["error"]
    assert "+// a colleague's hotfix" in entry["error"]  # the diff against the plan's basis
    assert target.read_bytes().endswith(b"// a colleague's hotfix\n") and BROKEN in target.read_bytes()
    assert journal_host(in_repo, doc["run_id"], "web1")[0] == "conflict"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a.phpp\r\nb\r\n", b"a.php\r\nb\r\n"),  # CRLF kept
        (b"a\nb.phpp", b"a\nb.php"),  # no final newline, still none
    ],
)
def test_line_endings_are_preserved(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: bytes
) -> None:
    target = lab.host("web1").local_path("/etc/apache2/ends.conf")
    target.write_bytes(content)
    pb = write_playbook(tmp_path, "steps: [{line_patch: {path: /etc/apache2/ends.conf, sed: 's/phpp/php/'}}]\n")
    code, _ = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 0 and target.read_bytes() == expected


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"caf\xe9 phpp\n", "not valid UTF-8 (byte 3)"),
        (b"\x7fELF\x00\x01phpp", "refusing to edit a binary file (it holds NUL bytes)"),
    ],
)
def test_files_that_must_not_be_mangled_are_refused(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    target = lab.host("web1").local_path("/etc/apache2/odd.conf")
    target.write_bytes(content)
    pb = write_playbook(tmp_path, "steps: [{line_patch: {path: /etc/apache2/odd.conf, sed: 's/phpp/php/'}}]\n")
    code, doc = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 1 and doc["hosts"]["web1"]["status"] == "failed" and reason in doc["hosts"]["web1"]["error"]
    assert target.read_bytes() == content


def test_symlinked_target_is_followed_and_the_link_kept(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    docroot = lab.host("web1").local_path("/var/www/html")
    (docroot / "wp-settings.php").rename(docroot / "wp-settings.real.php")
    (docroot / "wp-settings.php").symlink_to("wp-settings.real.php")
    code, doc = apply(capsys, lab, "fix-phpp", "--limit", "web1")
    assert code == 0, doc
    assert (docroot / "wp-settings.php").is_symlink()
    assert FIXED in (docroot / "wp-settings.real.php").read_bytes()


def test_a_file_over_the_size_limit_is_refused(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = lab.host("web1").local_path("/var/www/html/big.log")
    with target.open("wb") as f:
        f.write(b"x" * (50 * 1024 * 1024) + b"\nphpp\n")
    pb = write_playbook(tmp_path, "steps: [{line_patch: {path: /var/www/html/big.log, sed: 's/phpp/php/'}}]\n")
    code, doc = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 1
    assert "file is 52428806 bytes, over the 10485760-byte limit" in doc["hosts"]["web1"]["error"]
    assert target.stat().st_size == 52428806 and target.read_bytes().endswith(b"phpp\n")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ nowhere }}", "'nowhere' is undefined (playbook"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ],
)
def test_bad_templates_touch_nothing(lab: Lab, tmp_path: Path, template: str, message: str) -> None:
    (tmp_path / "t.j2").write_text(template)
    pb = write_playbook(tmp_path, "steps: [{template: {src: t.j2, dest: /etc/apache2/conf-available/x.conf}}]\n")
    before = snapshot(lab, "/etc/apache2/apache2.conf")
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.main", "apply", pb, "-i", str(lab.inventory_path), "--yes"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(lab, "/etc/apache2/apache2.conf") == before
    assert not lab.host("web1").local_path("/etc/apache2/conf-available/x.conf").exists()


def test_a_regex_that_matches_nothing(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(lab)
    pb = write_playbook(
        tmp_path,
        "steps: [{line_patch: {path: /var/www/html/wp-settings.php, regex: 'nothing-like-this', replace: x}}]\n",
    )
    code, doc = apply(capsys, lab, pb)
    assert code == 0 and doc["summary"] == {"unchanged": len(lab.hosts)}
    assert snapshot(lab) == before


def test_a_hostile_path_is_a_literal_path(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "/var/www/html/my site $(touch /tmp/pwned) `touch /tmp/pwned`; touch /tmp/pwned 'x\".conf"
    target = lab.host("web1").local_path(hostile)
    target.parent.mkdir(parents=True)  # "my site $(touch " / "tmp" / "pwned) `touch " / ...
    target.write_bytes(b"Listen 8080.phpp\n")
    pb = write_playbook(tmp_path, f"steps: [{{line_patch: {{path: {json.dumps(hostile)}, sed: 's/phpp/php/'}}}}]\n")
    code, doc = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 0, doc
    assert target.read_bytes() == b"Listen 8080.php\n"
    assert not lab.host("web1").local_path("/tmp/pwned").exists()
    assert not Path("/tmp/pwned").exists()


def test_an_inventory_variable_with_shell_metacharacters_stays_a_literal(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = "$(touch /tmp/pwned); touch /tmp/pwned `touch /tmp/pwned` 'quoted' \"double\""
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace("vars:\n", f"vars:\n  note: {json.dumps(note)}\n", 1))
    pb = write_playbook(tmp_path, """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}
            validate: "test -n {{ note }}"
            on_change: "printf '%s' {{ note }} > /tmp/note"
        verify:
          - command: {run: "test -n {{ note }}"}
        """)  # fmt: skip
    code, doc = run_json(capsys, "apply", pb, "-i", str(inventory), "--yes", "--limit", "web1")
    assert code == 0, doc
    assert lab.host("web1").local_path("/tmp/note").read_text() == note
    assert not lab.host("web1").local_path("/tmp/pwned").exists() and not Path("/tmp/pwned").exists()


def test_a_secret_appears_nowhere_but_in_the_file(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    secret = "s3cr3t-Pa55w0rd-9f2c"
    monkeypatch.setenv("DB_PASSWORD", secret)
    (tmp_path / "db.j2").write_text("user = wp\npassword = {{ db_password }}\nhost = {{ host.name }}\n{{ extra }}\n")
    pb = write_playbook(tmp_path, """\
        vars:
          db_password: {env: DB_PASSWORD}
          extra: "# v1"
        steps:
          - template: {src: db.j2, dest: /etc/apache2/db.conf, mode: "0600"}
            on_change: "echo reloaded with {{ db_password }}"
        """)  # fmt: skip
    outputs = []
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    outputs.append(json.dumps(doc))
    assert code == 0
    target = lab.host("web1").local_path("/etc/apache2/db.conf")
    assert f"password = {secret}" in target.read_text()
    assert "password = ********" in doc["hosts"]["web1"]["changes"][0]["diff"]
    # A second run changes another line of a file that now holds the secret (the journal masks the original).
    Path(pb).write_text(Path(pb).read_text().replace("# v1", "# v2"))
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.main", "apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    outputs += [result.stdout, result.stderr]
    runs = json.loads(
        subprocess.run(
            [sys.executable, "-m", "remediate.cli.main", "runs", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    for run in runs:
        shown = subprocess.run(
            [sys.executable, "-m", "remediate.cli.main", "show", run["run_id"]],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs += [shown.stdout, shown.stderr]
    for text in outputs:
        assert secret not in text
    raw = b"".join(p.read_bytes() for p in in_repo.iterdir())
    db = sqlite3.connect(in_repo / "journal.sqlite")
    blobs = [zlib.decompress(b) for row in db.execute("SELECT original, written FROM files") for b in row if b]
    assert secret.encode() not in raw and all(secret.encode() not in b for b in blobs)

    # Rolling back the second run restores the true bytes from the host's backup, secret included.
    second = runs[0]["run_id"]
    code, doc = run_json(capsys, "rollback", second, "--yes")
    assert code == 0, doc
    assert target.read_text().endswith("# v1\n") and f"password = {secret}" in target.read_text()
    assert secret not in json.dumps(doc)


def test_a_probe_that_times_out_rolls_the_host_back(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = write_playbook(tmp_path, """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}
        verify:
          - command: {run: "sleep 10", timeout: 1}
        """)  # fmt: skip
    code, doc = apply(capsys, lab, pb, "--limit", "web1")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "rolled_back" and "command sleep 10: timed out after 1s" in entry["error"]
    assert BROKEN in lab.host("web1").local_path(WP).read_bytes()
