"""Rendering (sandbox, StrictUndefined) and pure planning from canned observed files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from planning import existing, plan_for, setup

from remediate.errors import UserError
from remediate.model import FileKind, HostFailure, RemoteFile, Status
from remediate.plan.planner import render_targets
from remediate.plan.sandbox import LimitExceeded, check_size

FIX = """\
steps:
  - name: fix the require line
    line_patch: {path: "{{ docroot }}/wp-settings.php", regex: '\\.phpp\\b', replace: '.php'}
"""


def test_undefined_variable_names_variable_playbook_field_and_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(tmp_path, FIX.replace("docroot", "webroot"))
    with pytest.raises(UserError) as raised:
        render_targets(playbook, inventory, None, {})
    assert str(raised.value) == "pb.yml: steps[0].line_patch.path: 'webroot' is undefined (host web1)"


def test_undefined_variable_in_template_names_template_line_and_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(
        tmp_path, "steps: [{template: {src: t.j2, dest: /etc/x}}]", {"t.j2": "a\nb {{ nope }}\n"}
    )
    with pytest.raises(UserError) as raised:
        render_targets(playbook, inventory, None, {})
    assert str(raised.value) == "t.j2:2: 'nope' is undefined (playbook pb.yml: steps[0].template.src, host web1)"


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ self.__init__.__globals__ }}",
    ],
)
def test_templates_cannot_reach_python_internals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, escape: str) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(tmp_path, "steps: [{template: {src: t.j2, dest: /etc/x}}]", {"t.j2": escape})
    with pytest.raises(UserError, match=r"^t.j2:1: .*(unsafe|undefined)"):
        render_targets(playbook, inventory, None, {})


@pytest.mark.parametrize(
    ("dest", "problem"),
    [
        ("/etc/{{ sub }}/x", "'..' is not allowed"),
        ("{{ rel }}", "must be an absolute path"),
    ],
)
def test_rendered_paths_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dest: str, problem: str) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(tmp_path, f"steps: [{{template: {{src: t.j2, dest: '{dest}'}}}}]", {"t.j2": "x"})
    with pytest.raises(UserError, match=problem):
        render_targets(playbook, inventory, None, {"sub": "..", "rel": "etc/x"})


def test_plan_carries_exact_before_and_after_bytes_mode_and_owner(tmp_path: Path) -> None:
    before = b"<?php\nrequire 'class-wp-locale.phpp';\n"
    host = plan_for(
        tmp_path, FIX, {"/var/www/html/wp-settings.php": existing("/var/www/html/wp-settings.php", before, 0o640)}
    )
    (change,) = host.changes
    assert change.before == before
    assert change.after == b"<?php\nrequire 'class-wp-locale.php';\n"
    assert (change.mode, change.uid, change.gid, change.owner) == (0o640, 33, 33, None)
    assert host.status == Status.CHANGED


def test_plan_of_a_fixed_file_is_unchanged_with_a_reason(tmp_path: Path) -> None:
    fixed = b"require 'class-wp-locale.php';\n"
    host = plan_for(tmp_path, FIX, {"/var/www/html/wp-settings.php": existing("/var/www/html/wp-settings.php", fixed)})
    assert host.status == Status.UNCHANGED and not host.changes
    assert host.noops[0].reason == "no line matches '\\.phpp\\b'"


def test_two_steps_on_one_file_make_one_change(tmp_path: Path) -> None:
    text = FIX + "  - line_patch: {path: /var/www/html/wp-settings.php, ensure_line: '// fixed'}\n"
    host = plan_for(
        tmp_path, text, {"/var/www/html/wp-settings.php": existing("/var/www/html/wp-settings.php", b"x.phpp\n")}
    )
    (change,) = host.changes
    assert change.after == b"x.php\n// fixed\n"
    assert change.steps == ("fix the require line", "line_patch /var/www/html/wp-settings.php")


@pytest.mark.parametrize(
    ("remote", "problem"),
    [
        (RemoteFile("/var/www/html/wp-settings.php", FileKind.MISSING), "target file does not exist"),
        (RemoteFile("/var/www/html/wp-settings.php", FileKind.DIRECTORY), "it is a directory"),
        (existing("/var/www/html/wp-settings.php", b"\x00\x01phpp"), "binary file"),
        (existing("/var/www/html/wp-settings.php", b"caf\xe9 phpp\n"), "not valid UTF-8"),
    ],
)
def test_files_that_must_not_be_edited_fail_the_host(tmp_path: Path, remote: RemoteFile, problem: str) -> None:
    host = plan_for(tmp_path, FIX, {"/var/www/html/wp-settings.php": remote})
    assert host.status == Status.FAILED and problem in host.error and not host.changes


def test_template_creates_a_missing_file_with_its_mode(tmp_path: Path) -> None:
    host = plan_for(
        tmp_path,
        "steps: [{template: {src: t.j2, dest: /etc/app.conf, mode: '0600'}}]",
        {"/etc/app.conf": RemoteFile("/etc/app.conf", FileKind.MISSING)},
        {"t.j2": "name={{ host.name }}\n"},
    )
    (change,) = host.changes
    assert (change.before, change.after, change.mode, change.uid) == (None, b"name=web1\n", 0o600, None)


def test_template_mode_change_alone_is_a_change(tmp_path: Path) -> None:
    host = plan_for(
        tmp_path,
        "steps: [{template: {src: t.j2, dest: /etc/app.conf, mode: '0600'}}]",
        {"/etc/app.conf": existing("/etc/app.conf", b"x\n", 0o644)},
        {"t.j2": "x\n"},
    )
    (change,) = host.changes
    assert (change.before_mode, change.mode, change.after) == (0o644, 0o600, b"x\n")


def test_non_idempotent_patch_refuses_the_whole_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "steps: [{line_patch: {path: /etc/x, regex: 'php', replace: 'phpp'}}]"
    with pytest.raises(UserError, match=r"^pb.yml: steps\[0\].line_patch: not idempotent on host web1"):
        plan_for(tmp_path, text, {"/etc/x": existing("/etc/x", b"php\n")})


def test_unreachable_host_is_carried_into_the_plan(tmp_path: Path) -> None:
    host = plan_for(tmp_path, FIX, HostFailure(Status.UNREACHABLE, "connection refused"))
    assert (host.status, host.error) == (Status.UNREACHABLE, "connection refused")


def test_planning_core_imports_nothing_that_does_io() -> None:
    code = (
        "import sys, remediate.plan.planner, remediate.plan.diff, remediate.remote.gather, remediate.remote.commit;"
        "bad = [m for m in ('paramiko', 'fabric', 'invoke', 'socket', 'subprocess', 'remediate.fleet.transport',"
        " 'remediate.fleet.rollout') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_commands_are_rendered_with_every_value_shell_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(
        tmp_path,
        """\
        steps:
          - line_patch: {path: "{{ docroot }}/x.php", regex: a, replace: b}
            validate: "php -l {path} && test -d {{ docroot }}"
            on_change: "echo {{ note }} > /tmp/note"
        verify:
          - command: {run: "grep -q {{ note }} /tmp/note"}
          - http: {url: "http://{{ host.address }}/{{ note }}"}
        """,
    )
    (target,) = render_targets(playbook, inventory, None, {"note": "a b; $(rm -rf /) 'q'"})
    step = target.steps[0]
    assert step.validate == "php -l {path} && test -d /var/www/html"  # a plain word needs no quotes
    assert step.on_change == "echo 'a b; $(rm -rf /) '\"'\"'q'\"'\"'' > /tmp/note"
    command, http = target.probes
    assert command.run == "grep -q 'a b; $(rm -rf /) '\"'\"'q'\"'\"'' /tmp/note"  # type: ignore[union-attr]
    assert http.url == "http://127.0.1.1/a b; $(rm -rf /) 'q'"  # type: ignore[union-attr]  # not a shell: as is


@pytest.mark.parametrize(
    ("path", "normal"),
    [("//var//www/./html/x.php", "/var/www/html/x.php"), ("/etc/apache2/", "/etc/apache2")],
)
def test_target_paths_are_normalised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, normal: str) -> None:
    monkeypatch.chdir(tmp_path)
    playbook, inventory = setup(tmp_path, f"steps: [{{line_patch: {{path: '{path}', regex: a, replace: b}}}}]")
    (target,) = render_targets(playbook, inventory, None, {})
    assert target.steps[0].target == normal


def test_steps_reaching_one_file_through_a_symlink_and_its_target_chain(tmp_path: Path) -> None:
    steps = """\
    steps:
      - line_patch: {path: /etc/app.conf, sed: s/a/b/}
      - line_patch: {path: /etc/link.conf, sed: s/c/d/}
    """
    target = existing("/etc/app.conf", b"a c\n")
    link = RemoteFile("/etc/link.conf", FileKind.FILE, "/etc/app.conf", 0o644, 33, 33, "www-data", "www-data", 4,
                      b"a c\n")  # fmt: skip
    host = plan_for(tmp_path, steps, {"/etc/app.conf": target, "/etc/link.conf": link})
    (change,) = host.changes  # one change: the second step saw the first one's output
    assert (change.real_path, change.before, change.after) == ("/etc/app.conf", b"a c\n", b"b d\n")
    assert len(change.steps) == 2


def test_creating_a_file_in_a_missing_folder_fails_the_host_in_the_plan(tmp_path: Path) -> None:
    steps = "steps: [{line_patch: {path: /etc/new/app.conf, ensure_line: x=1, create: true}}]"
    host = plan_for(tmp_path, steps, {"/etc/new/app.conf": RemoteFile("/etc/new/app.conf", FileKind.MISSING,
                                                                      missing_folders=("/etc/new",))})  # fmt: skip
    assert host.status == Status.FAILED and not host.changes
    assert "cannot create it: its folder /etc/new does not exist" in host.error


def test_a_value_is_sized_as_printed_counting_a_shared_list_each_time() -> None:
    half = "x" * 6_000_000
    assert check_size([half, {"k": ()}]) == [half, {"k": ()}]
    with pytest.raises(LimitExceeded, match="a value larger than"):
        check_size([half, {"k": (half,)}])  # the same string twice: printed twice
    shared: list[object] = [1]
    for _ in range(22):
        shared = [shared, shared]  # 2 ** 22 ones, 2 ** 23 - 1 lists: 12,582,911 elements printed
    with pytest.raises(LimitExceeded):
        check_size(shared)
    assert check_size(shared[0][0]) is shared[0][0]  # a quarter: 3,145,727
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(LimitExceeded):
        check_size(looped)
