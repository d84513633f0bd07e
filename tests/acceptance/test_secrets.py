"""Secrets against real lab hosts: every way issue 15 found one leaking, each searched for in every form.

Each test runs the commands an operator would, collects everything they printed (stdout, stderr, the
JSON) and dumps every column of the journal, then searches all of it for each form of the secret
(``secret_search``). The hosts' files hold the true values all along.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from labtools import on_host
from secret_search import journal_dump, leaks

from remediate.cli.main import main
from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab

CONF = "/etc/apache2/db.conf"


class Outputs:
    """Runs the CLI in this process and keeps everything it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.texts: list[str] = []

    def run(self, *argv: str) -> tuple[int, str]:
        code = main(list(argv))
        captured = self.capsys.readouterr()
        self.texts += [captured.out, captured.err]
        return code, captured.out + captured.err

    def json(self, *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        code = main([*argv, "--json"])
        captured = self.capsys.readouterr()
        self.texts += [captured.out, captured.err]
        assert captured.out, captured.err
        return code, json.loads(captured.out)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def assert_nowhere(secret: str, outputs: Outputs, state: Path) -> None:
    assert leaks(secret, *outputs.texts) == []
    assert leaks(secret, journal_dump(state)) == []


def db_playbook(tmp_path: Path, handler: str = "") -> str:
    write(tmp_path, "db.j2", "user = wp\npassword = {{ db_password }}\nhost = {{ host.name }}\n")
    on_change = f"\n    on_change: {json.dumps(handler)}" if handler else ""
    return write(tmp_path, "pb.yml", f"""\
vars:
  db_password: {{env: DB_PASSWORD}}
steps:
  - template: {{src: db.j2, dest: {CONF}, mode: "0600"}}{on_change}
""")  # fmt: skip


def applied(out: Outputs, lab: Lab, pb: str, monkeypatch: pytest.MonkeyPatch, password: str) -> dict:  # type: ignore[type-arg]
    """The JSON of applying ``pb`` to web1 with DB_PASSWORD set to ``password``, which must succeed."""
    monkeypatch.setenv("DB_PASSWORD", password)
    code, doc = out.json("apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    assert code == 0, doc
    return doc


def test_a_rotation_shows_neither_the_old_value_nor_the_new(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    old, new = "old-Pa55-7d1e", "new-Pa55-c4b9"
    pb = db_playbook(tmp_path)
    inventory = str(lab.inventory_path)
    out = Outputs(capsys)
    applied(out, lab, pb, monkeypatch, old)
    monkeypatch.setenv("DB_PASSWORD", new)
    code, text = out.run("apply", pb, "-i", inventory, "--dry-run", "--limit", "web1")
    assert code == 0 and "-password = ********" in text and "+password = ********" in text
    code, doc = out.json("apply", pb, "-i", inventory, "--yes", "--limit", "web1")
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed"
    diff = doc["hosts"]["web1"]["changes"][0]["diff"]
    assert "-password = ********\n+password = ********\n" in diff  # the operator still sees that it changed
    assert f"password = {new}\n" in lab.host("web1").local_path(CONF).read_text()
    code, shown = out.run("show", doc["run_id"])
    assert code == 0 and "-password = ********" in shown
    out.run("show", doc["run_id"], "--json")
    assert_nowhere(old, out, in_repo)
    assert_nowhere(new, out, in_repo)

    # The journal keeps the original masked; the rollback restores the true one from the host's backup.
    code, undo = out.json("rollback", doc["run_id"], "--yes")
    assert code == 0 and undo["hosts"]["web1"]["status"] == "changed"
    assert f"password = {old}\n" in lab.host("web1").local_path(CONF).read_text()
    assert_nowhere(old, out, in_repo)
    assert_nowhere(new, out, in_repo)


@pytest.mark.parametrize(
    ("option", "name", "value"),
    [("-e", "db_password", "cli-Pa55-0b7e"), ("--secret-var", "api_key", "api-K3y-5e2a")],
    ids=["-e on a declared secret", "--secret-var"],
)  # apart: -e was a leak of the code before issue 15, --secret-var a new option
def test_a_var_given_on_the_command_line_is_secret(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path, option: str, name: str, value: str
) -> None:
    write(tmp_path, "db.j2", f"{name} = {{{{ {name} }}}}\n")
    pb = write(tmp_path, "pb.yml", f"""\
        vars:
          db_password: {{secret: true, value: placeholder}}
        steps:
          - template: {{src: db.j2, dest: {CONF}}}
        """)  # fmt: skip
    out = Outputs(capsys)
    inventory = str(lab.inventory_path)
    args = (option, f"{name}={value}", "--limit", "web1")
    code, text = out.run("apply", pb, "-i", inventory, "--dry-run", *args)
    assert code == 0 and f"+{name} = ********" in text
    code, doc = out.json("apply", pb, "-i", inventory, "--yes", *args)
    assert code == 0
    assert lab.host("web1").local_path(CONF).read_text() == f"{name} = {value}\n"
    out.run("show", doc["run_id"])
    out.json("runs")
    assert_nowhere(value, out, in_repo)
    assert f"{name} = ********\n".encode() in journal_dump(in_repo)


PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "q9Zl3mVd5rT0aXfWq1X2b3cC8pLk4nJ7YhQeR2sT6uV9wZxAbCd\n"
    "-----END PRIVATE KEY-----"
)


def test_a_multi_line_secret_is_masked_line_by_line(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    monkeypatch.setenv("TLS_KEY", PEM)
    write(tmp_path, "key.j2", "# key of {{ host.name }}\n{{ tls_key }}\n")
    pb = write(tmp_path, "pb.yml", f"""\
        vars:
          tls_key: {{env: TLS_KEY}}
        steps:
          - template: {{src: key.j2, dest: {CONF}, mode: "0600"}}
        """)  # fmt: skip
    out = Outputs(capsys)
    inventory = str(lab.inventory_path)
    code, text = out.run("apply", pb, "-i", inventory, "--dry-run", "--limit", "web1")
    assert code == 0 and "+# key of web1" in text
    code, doc = out.json("apply", pb, "-i", inventory, "--dry-run", "--limit", "web1")
    code, doc = out.json("apply", pb, "-i", inventory, "--yes", "--limit", "web1")
    assert code == 0
    assert lab.host("web1").local_path(CONF).read_text() == f"# key of web1\n{PEM}\n"
    out.run("show", doc["run_id"])
    assert_nowhere(PEM, out, in_repo)


def test_a_secret_with_a_quote_or_non_ascii_in_handlers_and_probes(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    secret = "it's-Pässwörd-ünï-42"
    monkeypatch.setenv("DB_PASSWORD", secret)
    pb = db_playbook(tmp_path, "printf '%s' {{ db_password }} > /tmp/handler")
    Path(pb).write_text(
        Path(pb).read_text() + 'verify:\n  - command: {run: "test -n {{ db_password }}", contains: ""}\n'
    )
    out = Outputs(capsys)
    code, doc = out.json("apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    assert code == 0, doc
    assert lab.host("web1").local_path("/tmp/handler").read_text() == secret
    out.run("show", doc["run_id"])
    assert_nowhere(secret, out, in_repo)


def test_a_plan_file_is_shown_applied_and_journaled_masked(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    secret = "plan-Pa55-91fd"
    monkeypatch.setenv("DB_PASSWORD", secret)
    pb = db_playbook(tmp_path, "echo reload {{ db_password }}")
    plan_file = str(tmp_path / "db.plan")
    out = Outputs(capsys)
    code, _ = out.run("plan", pb, "-i", str(lab.inventory_path), "--limit", "web1", "-o", plan_file)
    assert code == 0
    monkeypatch.delenv("DB_PASSWORD")  # the plan file alone says what is secret
    code, shown = out.run("show-plan", plan_file)
    assert code == 0 and "+password = ********" in shown
    assert leaks(secret, json.loads(Path(plan_file).read_text())["hosts"][0]["changes"][0]["diff"]) == []
    code, applied = out.run("apply", "--plan", plan_file, "--yes")
    assert code == 0, applied
    assert f"password = {secret}\n" in lab.host("web1").local_path(CONF).read_text()
    assert_nowhere(secret, out, in_repo)


def test_an_invalid_rendered_regex_does_not_print_the_secret(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    secret = "regex-Pa55-(3a7c"
    monkeypatch.setenv("DB_PASSWORD", secret)
    pb = write(tmp_path, "pb.yml", f"""\
        vars:
          db_password: {{env: DB_PASSWORD}}
        steps:
          - line_patch: {{path: {CONF}, regex: '^password = {{{{ db_password }}}}$', replace: 'password = x'}}
        """)  # fmt: skip
    out = Outputs(capsys)
    code, text = out.run("apply", pb, "-i", str(lab.inventory_path), "--dry-run", "--limit", "web1")
    assert code == 2 and "invalid regex" in text and "********" in text
    assert_nowhere(secret, out, in_repo)


def test_a_rollback_conflict_diff_masks_the_playbooks_secret(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    secret = "conflict-Pa55-e8a0"
    monkeypatch.setenv("DB_PASSWORD", secret)
    pb = db_playbook(tmp_path)
    out = Outputs(capsys)
    code, doc = out.json("apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    assert code == 0
    on_host(lab, lab.host("web1"), f"sed -i 's/^user = wp$/user = admin/' {CONF}")  # a hand edit since
    monkeypatch.delenv("DB_PASSWORD")  # a rollback need not have the playbook's environment
    code, text = out.run("rollback", doc["run_id"], "--yes")
    assert code == 1 and "changed since the run" in text and "+user = admin" in text
    code, undo = out.json("rollback", doc["run_id"], "--yes")
    assert code == 1 and undo["hosts"]["web1"]["status"] == "conflict"
    assert f"password = {secret}\n" in lab.host("web1").local_path(CONF).read_text()
    assert_nowhere(secret, out, in_repo)


def test_a_conflict_at_apply_masks_the_hosts_secret_lines(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    old, new, by_hand = "old-Pa55-3f0a", "new-Pa55-9b6d", "hand-Pa55-27ce"
    pb = db_playbook(tmp_path)
    inventory = str(lab.inventory_path)
    plan_file = str(tmp_path / "db.plan")
    out = Outputs(capsys)
    applied(out, lab, pb, monkeypatch, old)
    monkeypatch.setenv("DB_PASSWORD", new)
    code, _ = out.run("plan", pb, "-i", inventory, "--limit", "web1", "-o", plan_file)
    assert code == 0
    # Between the plan and the apply a colleague edits a line next to the secret's: the diff of what changed
    # shows the old value's line (which the run does not know as a value) masked.
    on_host(lab, lab.host("web1"), f"sed -i 's/^user = wp$/user = admin/' {CONF}")
    code, doc = out.json("apply", "--plan", plan_file, "--yes")
    assert code == 1 and doc["hosts"]["web1"]["status"] == "conflict"
    error = doc["hosts"]["web1"]["error"]
    assert "what changed since the plan:" in error and "-user = wp\n+user = admin\n password = ********" in error
    # And a password of the colleague's own, changed by hand: a masked pair.
    on_host(lab, lab.host("web1"), f"sed -i 's/^password = .*$/password = {by_hand}/' {CONF}")
    code, text = out.run("apply", "--plan", plan_file, "--yes")
    assert code == 1 and "-password = ********\n+password = ********" in text
    assert f"password = {by_hand}\n" in lab.host("web1").local_path(CONF).read_text()
    for secret in (old, new, by_hand):
        assert_nowhere(secret, out, in_repo)


def test_a_rollback_shows_a_secret_line_it_puts_back_as_a_masked_pair(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_repo: Path
) -> None:
    old, new = "old-Pa55-5c21", "new-Pa55-d08e"
    pb = db_playbook(tmp_path)
    out = Outputs(capsys)
    applied(out, lab, pb, monkeypatch, old)
    doc = applied(out, lab, pb, monkeypatch, new)
    monkeypatch.delenv("DB_PASSWORD")  # a rollback need not have the playbook's environment
    # The journal keeps both sides masked; the line still shows as one the rollback changes.
    code, text = out.run("rollback", doc["run_id"], "--dry-run")
    assert code == 0 and "-password = ********\n+password = ********\n" in text
    # Forced over a hand edit, what the host holds now is shown masked where the run's copy is.
    on_host(lab, lab.host("web1"), f"sed -i 's/^user = wp$/user = admin/' {CONF}")
    code, undo = out.json("rollback", doc["run_id"], "--yes", "--force")
    assert code == 0 and undo["hosts"]["web1"]["status"] == "changed", undo
    diff = undo["hosts"]["web1"]["changes"][0]["diff"]
    assert "-user = admin\n-password = ********\n+user = wp\n+password = ********\n" in diff
    assert lab.host("web1").local_path(CONF).read_text().startswith(f"user = wp\npassword = {old}\n")
    out.run("show", undo["run_id"])
    for secret in (old, new):
        assert_nowhere(secret, out, in_repo)
