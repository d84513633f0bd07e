"""Inventory and playbook loading: the typed result, variable precedence, and one clear line per bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from remediate.cli import main as cli
from remediate.errors import UserError
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import LinePatch, Substitute, Template
from remediate.plan.planner import render_targets
from remediate.plan.select import select_hosts

INVENTORY = """\
defaults:
  user: deploy
  port: 2200
  identity_file: keys/id_ed25519
vars: {docroot: /var/www/html, level: inventory}
hosts:
  web1: {address: 10.0.0.1, port: 22}
  web2: {address: 10.0.0.2, vars: {docroot: /srv/www, level: host}}
  db1: {}
groups:
  web: {hosts: [web1, web2], vars: {level: group, role: web}}
  db: {hosts: [db1]}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_inventory_loads_hosts_defaults_and_merged_vars(tmp_path: Path) -> None:
    inventory = load_inventory(str(write(tmp_path, "inv.yml", INVENTORY)))
    web1, web2, db1 = inventory.hosts
    assert (web1.address, web1.port, web1.user) == ("10.0.0.1", 22, "deploy")
    assert (web2.port, db1.address) == (2200, "db1")  # default port; a host without address is its own name
    assert web1.identity_file == str(tmp_path / "keys" / "id_ed25519")  # relative to the inventory's folder
    assert web1.vars == {"docroot": "/var/www/html", "level": "group", "role": "web"}
    assert web2.vars == {"docroot": "/srv/www", "level": "host", "role": "web"}
    assert db1.vars == {"docroot": "/var/www/html", "level": "inventory"}
    assert web1.groups == ("web",)


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ("all", ["web1", "web2", "db1"]),
        ("web", ["web1", "web2"]),
        ("db1,web1", ["web1", "db1"]),  # inventory order, not argument order
        ("web*", ["web1", "web2"]),
        ("d?", ["db1"]),  # a glob over group names too
        ("all,!web2", ["web1", "db1"]),  # an item with ! takes its matches out
        ("!web2,all", ["web1", "db1"]),  # wherever it stands
        ("!web1,!db1", ["web2"]),  # only exclusions: every host but those
        ("!web", ["db1"]),  # a group
        ("web*,!*2", ["web1"]),
    ],
)
def test_select_hosts(tmp_path: Path, patterns: str, expected: list[str]) -> None:
    inventory = load_inventory(str(write(tmp_path, "inv.yml", INVENTORY)))
    assert [h.name for h in select_hosts(inventory, patterns, "--limit")] == expected


def test_limit_item_matching_nothing_is_an_error(tmp_path: Path) -> None:
    inventory = load_inventory(str(write(tmp_path, "inv.yml", INVENTORY)))
    with pytest.raises(UserError, match=r"--limit: 'wbe2' matches no host or group in .*inv.yml"):
        select_hosts(inventory, "web1,wbe2", "--limit")


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ("all,!wbe2", r"--limit: '!wbe2' matches no host or group in .*inv.yml"),  # a typo keeps no host in
        ("!", r"--limit: '!' has nothing after its '!'"),
        ("web,!web", r"--limit: 'web,!web' names no host"),
        ("!all", r"--limit: '!all' names no host"),
    ],
)
def test_bad_exclusions_are_errors(tmp_path: Path, patterns: str, message: str) -> None:
    inventory = load_inventory(str(write(tmp_path, "inv.yml", INVENTORY)))
    with pytest.raises(UserError, match=message):
        select_hosts(inventory, patterns, "--limit")


PLAYBOOK = """\
name: fix
hosts: web
vars: {level: playbook}
steps:
  - name: fix the require line
    line_patch:
      path: "{{ docroot }}/wp-settings.php"
      regex: '\\.phpp\\b'
      replace: '.php'
  - name: vhost
    template: {src: templates/site.conf.j2, dest: /etc/apache2/sites-available/site.conf, mode: "0640"}
"""


def test_playbook_loads_both_step_types(tmp_path: Path) -> None:
    write(tmp_path, "templates/site.conf.j2", "DocumentRoot {{ docroot }}\n")
    playbook = load_playbook(str(write(tmp_path, "fix.yml", PLAYBOOK)))
    patch, template = (step.action for step in playbook.steps)
    assert isinstance(patch, LinePatch) and patch.operation == Substitute(r"\.phpp\b", ".php")
    assert isinstance(template, Template) and template.mode == 0o640 and "DocumentRoot" in template.source
    assert playbook.hosts == "web" and len(playbook.sha256) == 64


def test_variable_precedence_inventory_group_host_playbook_cli(tmp_path: Path) -> None:
    write(tmp_path, "templates/site.conf.j2", "level={{ level }} root={{ docroot }} host={{ host.name }}\n")
    playbook = load_playbook(str(write(tmp_path, "fix.yml", PLAYBOOK)))
    inventory = load_inventory(str(write(tmp_path, "inv.yml", INVENTORY)))

    def rendered(cli_vars: dict[str, str]) -> list[str]:
        targets = render_targets(playbook, inventory, None, cli_vars)
        return [t.steps[1].action.content for t in targets]  # type: ignore[union-attr]

    assert rendered({}) == [
        "level=playbook root=/var/www/html host=web1\n",
        "level=playbook root=/srv/www host=web2\n",
    ]
    assert rendered({"level": "cli", "docroot": "/opt"})[1] == "level=cli root=/opt host=web2\n"
    targets = render_targets(playbook, inventory, "web2", {})
    assert [t.host.name for t in targets] == ["web2"]
    assert targets[0].steps[0].target == "/srv/www/wp-settings.php"
    # A limit of only exclusions narrows the playbook's hosts (web), not the inventory's (db1 stays out).
    assert [t.host.name for t in render_targets(playbook, inventory, "!web1", {})] == ["web2"]
    with pytest.raises(UserError, match=r"--limit '!web1,!web2' leaves none of the playbook's hosts \(web\)"):
        render_targets(playbook, inventory, "!web1,!web2", {})


BAD_INVENTORIES = [
    ("hosts: {web1: {adress: x}}", "inv.yml: hosts.web1.adress: unknown key (expected one of: address,"),
    ("hosts: {}", "inv.yml: no hosts"),
    ("hosts: {web1: {port: http}}", "inv.yml: hosts.web1.port: expected a whole number, got a string"),
    ("hosts: {web1: {port: 70000}}", "inv.yml: hosts.web1.port: must be between 1 and 65535, got 70000"),
    (
        "hosts: {web1: {}}\ngroups: {web: {hosts: [web1, web9]}}",
        "inv.yml: groups.web.hosts[1]: group 'web' names host 'web9'",
    ),
    ("hosts:\n  web1: {}\n  web1: {}\n", "inv.yml:3:3: YAML syntax error: duplicate key 'web1'"),
    ("hosts: [web1]", "inv.yml: hosts: expected a mapping, got a list"),
    ("hosts: {web1: {}\n", "inv.yml:2:1: YAML syntax error"),
    ("defaults: {usr: root}\nhosts: {web1: {}}", "inv.yml: defaults.usr: unknown key"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INVENTORIES, ids=[m for _, m in BAD_INVENTORIES])
def test_bad_inventory_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "inv.yml", text)
    with pytest.raises(UserError) as raised:
        load_inventory("inv.yml")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def step(body: str) -> str:
    return "steps:\n  - " + body


BAD_PLAYBOOKS = [
    (
        step("{name: x, line_patch: {path: /a, regex: '(', replace: b}}"),
        "pb.yml: steps[0].line_patch.regex: invalid regex '('",
    ),
    (
        step("{name: x, copy: {src: a}}"),
        "pb.yml: steps[0].copy: unknown key (expected one of: name, line_patch, template, validate, on_change)",
    ),
    (step("{name: x, shell: ls}"), "pb.yml: steps[0].shell: unknown key"),
    (step("{line_patch: {path: /a, regx: x, replace: y}}"), "pb.yml: steps[0].line_patch.regx: unknown key"),
    (
        step("{line_patch: {path: relative/a, regex: x, replace: y}}"),
        "pb.yml: steps[0].line_patch.path: must be an absolute path",
    ),
    (step("{line_patch: {path: /a, regex: x}}"), "pb.yml: steps[0].line_patch: missing required key 'replace'"),
    (
        step("{line_patch: {path: /a, regex: x, replace: y, absent: z}}"),
        "pb.yml: steps[0].line_patch: a line_patch needs exactly one of",
    ),
    (step("{line_patch: {path: /a, sed: 's/a/b/x'}}"), "pb.yml: steps[0].line_patch.sed: unsupported sed flag(s) 'x'"),
    (
        step("{line_patch: {path: /a, regex: a, replace: b, expect_matches: lots}}"),
        "pb.yml: steps[0].line_patch.expect_matches: expected a number or a range",
    ),
    (
        step("{line_patch: {path: /a, regex: a, replace: b, count: -1}}"),
        "pb.yml: steps[0].line_patch.count: must be between 0",
    ),
    (step("{template: {src: nowhere.j2, dest: /etc/x}}"), "pb.yml: steps[0].template.src: template file not found: "),
    (
        step("{template: {src: pb.yml, dest: /etc/x, mode: rw}}"),
        "pb.yml: steps[0].template.mode: expected an octal file mode",
    ),
    ("steps: []", "pb.yml: steps: a playbook needs at least one step"),
    ("name: x", "pb.yml: missing required key 'steps'"),
    ("steps:\n  - line_patch: {path: /a\n", "pb.yml:3:1: YAML syntax error"),
    ("steps: [1]\nhostz: web", "pb.yml: hostz: unknown key"),
]


@pytest.mark.parametrize(("text", "message"), BAD_PLAYBOOKS, ids=[m for _, m in BAD_PLAYBOOKS])
def test_bad_playbook_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "pb.yml", text)
    with pytest.raises(UserError) as raised:
        load_playbook("pb.yml")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_missing_playbook_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        UserError,
        match=r"^playbook 'fix-nothing' not found \(looked for playbooks/fix-nothing.yml, playbooks/fix-nothing.yaml\)$",
    ):
        load_playbook("fix-nothing")


def test_template_syntax_error_names_template_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "t.j2", "a\n{% if x %}\nb\n")
    write(tmp_path, "pb.yml", step("{template: {src: t.j2, dest: /etc/x}}"))
    # Line 3, the template's last: with trim_blocks (as Ansible) the newline after `{% if x %}` belongs
    # to the tag, so the text Jinja reached the end in starts on line 3.
    with pytest.raises(UserError, match=r"^t.j2:3: template syntax error: Unexpected end of template"):
        load_playbook("pb.yml")


def test_an_unexpected_error_is_one_line_and_a_crash_log(mocker, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(cli, "_dispatch", side_effect=RuntimeError("boom"))
    assert cli.main(["runs"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("remediate: internal error (RuntimeError('boom')); details in ") and err.count("\n") == 1
    log = Path(err.rstrip().rsplit(" ", 1)[1])
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()


def test_the_console_script_delivers_all_its_output_and_its_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`remediate` ends its process at once after main() (no interpreter teardown): nothing it printed
    may be lost on the way, and the exit status is main()'s."""
    script = Path(sys.executable).parent / "remediate"
    assert cli.main(["completion", "bash"]) == 0
    expected = capsys.readouterr().out
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [str(script), "completion", "bash"], capture_output=True, text=True, check=False, env=buffered
    )
    # Under 8 KiB, all of it still sits in the pipe's buffer at the end: lost unless flushed first.
    assert (done.returncode, done.stdout) == (0, expected) and 0 < len(expected) < 8192
    bad = tmp_path / "inv.yml"
    bad.write_text("hosts: [\n")
    failed = subprocess.run(
        [str(script), "apply", "fix-phpp", "-i", str(bad), "--dry-run"],
        capture_output=True, text=True, check=False, env=buffered,
    )  # fmt: skip
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.startswith(f"remediate: error: {bad}:") and failed.stderr.count("\n") == 1


def test_apply_imports_the_table_and_progress_bar_code_only_when_it_draws_them() -> None:
    """A --json or logged run prints no table and no bar; their modules stay unloaded (start-up time)."""
    code = (
        "import sys, io, remediate.cli.apply, remediate.runs.session;"
        "from remediate.report.progress import RolloutProgress; from remediate.plan.masking import Masker;"
        "from rich.console import Console;"
        "RolloutProgress(Console(file=io.StringIO()), False, Masker(()));"
        "print([m for m in ('rich.table', 'rich.progress') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
