"""Each bad input of issue 15 is one line naming the file and the key path, exit 2, before any host is
contacted: never an internal error, a crash log, a run of more than 2 s or of 200 MB (the limits are
structural: see remediate/limits.py and docs/playbook.md "Limits")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_bounds import run_bounded

from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import RenderedTemplate
from remediate.plan.planner import render_targets

SECONDS = 2  # each bad input is refused within 2 s (after the interpreter's start: see cli_bounds.py)
MEMORY_KIB = 200 * 1024  # peak resident memory of the whole CLI process
INVENTORY = "hosts:\n  web1: {address: 127.0.0.1, port: 1}\n"
NUMBER = "9" * 5000
BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))


def _playbook(step: str, extra: str = "") -> str:
    return f"{extra}steps:\n- {step}\n"


def textwrap_indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


def _template(body: str) -> dict[str, str]:
    return {"pb.yml": _playbook("template: {src: t.j2, dest: /etc/x}"), "t.j2": body}


# (case, files, the inventory file, what the one line must hold: the file and the key path)
CASES: list[tuple[str, dict[str, str], str, tuple[str, ...]]] = [
    ("list as a key", {"pb.yml": "steps:\n- ? [a]\n  : 1\n"}, "inv.yml", ("pb.yml: steps[0]:", "keys must be strings")),
    ("long integer in YAML", {"pb.yml": _playbook(f"line_patch: {{path: /x, regex: a, replace: b, count: {NUMBER}}}")},
     "inv.yml", ("pb.yml: steps[0].line_patch.count:", "100 digits")),
    ("long INI port", {"inv.ini": f"web1:{NUMBER}\n"}, "inv.ini", ("inv.ini:1:", "port")),
    ("long INI range", {"inv.ini": f"web[1:{NUMBER}]\n"}, "inv.ini", ("inv.ini:1:", "100 digits")),
    ("huge repeat in a regex", {"pb.yml": _playbook("line_patch: {path: /x, regex: 'a{4294967296}', replace: b}")},
     "inv.yml", ("pb.yml: steps[0].line_patch.regex:", "invalid regex")),
    ("include outside the playbook", _template("{% include '/etc/passwd' %}"), "inv.yml",
     ("pb.yml: steps[0].template.src:", "'/etc/passwd'")),
    ("extends outside the playbook", _template("{% extends '../../x.j2' %}"), "inv.yml",
     ("pb.yml: steps[0].template.src:", "x.j2")),
    ("import with a computed name", _template("{% set x = '/etc/host' %}{% import x ~ 'name' as m %}"), "inv.yml",
     ("pb.yml: steps[0].template.src:", "written out")),
    ("a template including itself", _template("{% include 't.j2' %}"), "inv.yml",
     ("t.j2:1:", "pb.yml: steps[0].template.src", "recursion")),
    ("recursive macro", _template("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"), "inv.yml",
     ("t.j2:1:", "pb.yml: steps[0].template.src", "recursion")),
    ("range too big", _template("{{ range(10**6) | list }}"), "inv.yml", ("t.j2:1:", "steps[0].template.src", "range()")),
    ("nested range loops", _template("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
     "inv.yml", ("t.j2:1:", "steps[0].template.src", "range()")),
    ("string repetition", _template("{{ 'x' * 10**10 }}"), "inv.yml", ("t.j2:1:", "steps[0].template.src", "repetition")),
    ("huge power", _template("{{ 10 ** 100000000 }}"), "inv.yml", ("t.j2:1:", "steps[0].template.src", "too large")),
    ("a namespace doubling a string", _template(
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
     "inv.yml", ("t.j2:1:", "steps[0].template.src", "a value larger than")),
    ("a list nested in itself, printed", _template(
        "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = [ns.s, ns.s] %}{% endfor %}{{ ns.s }}"),
     "inv.yml", ("t.j2:1:", "steps[0].template.src", "a value larger than")),
    ("lipsum", _template("{{ lipsum(n=10**7) }}"), "inv.yml", ("t.j2:1:", "steps[0].template.src", "lipsum()")),
    ("output too long", _template("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"), "inv.yml",
     ("t.j2:", "steps[0].template.src", "output is longer")),
    ("a field's output too long", {"pb.yml": _playbook(
        "line_patch: {path: \"/x{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}\", regex: a, replace: b}")},
     "inv.yml", ("pb.yml: steps[0].line_patch.path:", "output is longer")),
    ("template source /dev/zero", {"pb.yml": _playbook("template: {src: /dev/zero, dest: /etc/x}")}, "inv.yml",
     ("pb.yml: steps[0].template.src:", "not a regular file")),
    ("Ansible YAML 300 groups deep", {"inv.yml": "all:\n  children:\n" + "".join(
        f"{'  ' * (2 * i + 2)}g{i}:\n{'  ' * (2 * i + 3)}children:\n" for i in range(300))
        + f"{'  ' * 602}last: {{hosts: {{web1: {{}}}}}}\n"}, "inv.yml",
     ("inv.yml: all.children.g0.children.g1", "nested more than 64")),
    ("Ansible INI 300 groups deep", {"inv.ini": "web1\n" + "".join(
        f"[g{i}:children]\ng{i + 1}\n" for i in range(300)) + "[g300]\nweb1\n"}, "inv.ini",
     ("inv.ini:", "groups above it")),
    ("billion laughs into a path", {"pb.yml": f"vars:\n  l0: &l0 lol\n{textwrap_indent(BOMB)}" + _playbook(
        "line_patch: {path: '/x{{ l8 }}', regex: a, replace: b}")}, "inv.yml",
     ("pb.yml: vars.l", "aliases expand")),
    ("twelve INI lines of 100,000 hosts", {"inv.ini": "".join(f"[g{i}]\nh{i}-[1:100000]\n" for i in range(12))},
     "inv.ini", ("inv.ini:2:", "at most 10000 hosts")),
    ("a control character", {"pb.yml": "steps: [{line_patch: {path: /x, regex: \"a\x07\", replace: b}}]\n"},
     "inv.yml", ("pb.yml:", "control character #x07")),
]  # fmt: skip


@pytest.mark.parametrize(("files", "inventory", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_the_file_and_key_path(
    tmp_path: Path, files: dict[str, str], inventory: str, expected: tuple[str, ...]
) -> None:
    for name, text in {
        "pb.yml": _playbook("line_patch: {path: /x, sed: s/a/b/}"),
        "inv.yml": INVENTORY,
        **files,
    }.items():
        (tmp_path / name).write_text(text)
    ended = run_bounded(["apply", "pb.yml", "-i", inventory, "--dry-run"], tmp_path, SECONDS)
    err = ended.stderr
    assert ended.code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    for part in expected:
        assert part in err
    assert ended.peak_kib is not None and ended.peak_kib < MEMORY_KIB, f"peak resident memory {ended.peak_kib} KiB"


def test_a_fifo_as_template_source_is_refused_without_reading_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "t.j2")  # no writer: opening it for reading the usual way would block forever
    (tmp_path / "pb.yml").write_text(_playbook("template: {src: t.j2, dest: /etc/x}"))
    (tmp_path / "inv.yml").write_text(INVENTORY)
    ended = run_bounded(["apply", "pb.yml", "-i", "inv.yml", "--dry-run"], tmp_path, SECONDS)
    assert (ended.code, ended.stderr) == (
        2,
        "remediate: error: pb.yml: steps[0].template.src: template source is not a regular file: t.j2\n",
    )


def test_include_extends_and_import_of_templates_beside_the_playbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    files = {
        "pb.yml": _playbook("template: {src: templates/site.j2, dest: /etc/x}"),
        "inv.yml": INVENTORY,
        "base.j2": "[{% block body %}{% endblock %}]\n",  # in the playbook's folder
        "templates/site.j2": "{% extends 'base.j2' %}{% import 'macros.j2' as m %}"
        "{% block body %}{{ m.greet(host.name) }}{% include 'part.j2' %}{% endblock %}",
        "templates/macros.j2": "{% macro greet(who) %}hello {{ who }}{% endmacro %}",  # beside the template
        "templates/part.j2": ", bye",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (target,) = render_targets(load_playbook("pb.yml"), load_inventory("inv.yml"), None, {})
    action = target.steps[0].action
    assert isinstance(action, RenderedTemplate)
    assert action.content == "[hello web1, bye]\n"
