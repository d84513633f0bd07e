"""Jinja2 as Ansible has it: trim_blocks on, lstrip_blocks off, and Ansible's common filters, inside the
sandbox with its bounds. Rendered through the product's own renderer (fields and template files)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from planning import existing, plan_for

from remediate.errors import UserError
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.plan.planner import build_plan, render_targets
from remediate.plan.render import render_field

CONTEXT: dict[str, Any] = {
    "app": {"name": "shop", "ports": [80, 443], "tls": True, "owner": "Zoë"},
    "line": "listen 8080 # web",
    "token": "c2VjcmV0",  # base64 of "secret"
}


def render(source: str, **more: Any) -> str:
    return render_field(source, {**CONTEXT, **more}, "pb.yml: steps[0].x", "web1")


def render_file(tmp_path: Path, template: str) -> bytes:
    host = plan_for(
        tmp_path, "steps: [{template: {src: t.j2, dest: /etc/app.conf}}]", {"/etc/app.conf": existing("/etc/app.conf", b"")},
        {"t.j2": template},
    )  # fmt: skip
    (change,) = host.changes
    return change.after


def test_trim_blocks_a_for_line_leaves_no_blank_line_and_indentation_is_kept(tmp_path: Path) -> None:
    template = "servers:\n{% for port in [80, 443] %}\n  - {{ port }}\n{% endfor %}\nend\n"
    assert render_file(tmp_path, template) == b"servers:\n  - 80\n  - 443\nend\n"
    # lstrip_blocks stays off, as in Ansible: spaces before a tag are the template's own text.
    indented = "a:\n  {% if true %}\n  tls: on\n  {% endif %}\n"
    assert render_file(tmp_path, indented) == b"a:\n    tls: on\n  "
    # Only blocks: the newline after a {{ value }} stays.
    assert render("{{ app.name }}\nx") == "shop\nx"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ missing | default('none') }}", "none"),
        ("{{ '' | default('empty', true) }}", "empty"),
        ("{{ app | to_json }}", json.dumps(CONTEXT["app"])),
        ("{{ app.owner | to_json(ensure_ascii=false) }}", '"Zoë"'),
        ("{{ app | to_nice_json }}", json.dumps(CONTEXT["app"], indent=4, sort_keys=True, separators=(",", ": "))),
        ("{{ app | to_nice_json(indent=2) }}", json.dumps(CONTEXT["app"], indent=2, sort_keys=True)),
        ("{{ app | to_yaml }}", "name: shop\nowner: Zoë\nports: [80, 443]\ntls: true\n"),
        ("{{ app | to_nice_yaml }}", "name: shop\nowner: Zoë\nports:\n- 80\n- 443\ntls: true\n"),
        ("{{ 'secret' | b64encode }}", "c2VjcmV0"),
        ("{{ token | b64decode }}", "secret"),
        ("{{ 'Zoë' | b64encode | b64decode }}", "Zoë"),
        ("{{ '\xff\xfe' | b64encode(urlsafe=true) }}", base64.urlsafe_b64encode("\xff\xfe".encode()).decode()),
        ("{{ line | regex_replace('^listen (\\\\d+)', 'Listen \\\\1') }}", "Listen 8080 # web"),
        ("{{ line | regex_replace('(?P<p>\\\\d+)', '[\\\\g<p>]') }}", "listen [8080] # web"),
        ("{{ 'aAa' | regex_replace('a', 'b', ignorecase=true, count=2) }}", "bba"),
        ("{{ 'x\\ny' | regex_replace('^', '> ', multiline=true) }}", "> x\n> y"),
        ("{{ line | regex_search('\\\\d+') }}", "8080"),
        ("{{ line | regex_search('(\\\\w+) (?P<port>\\\\d+)', '\\\\1', '\\\\g<port>') }}", "['listen', '8080']"),
        ("{{ line | regex_search('nginx') is none }}", "True"),
        ("{{ 'LISTEN' | regex_search('listen', ignorecase=true) }}", "LISTEN"),
        ("{{ app.name | mandatory }}", "shop"),
    ],
)
def test_filters_render_as_in_ansible(source: str, expected: str) -> None:
    assert render(source) == expected


def test_to_nice_yaml_reads_back_as_the_value() -> None:
    assert yaml.safe_load(render("{{ app | to_nice_yaml(indent=2) }}")) == CONTEXT["app"]
    assert json.loads(render("{{ app | to_nice_json }}")) == CONTEXT["app"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ nope | mandatory }}", "pb.yml: steps[0].x: Mandatory variable 'nope' not defined. (host web1)"),
        (
            "{{ nope | mandatory('set nope in the inventory') }}",
            "pb.yml: steps[0].x: set nope in the inventory (host web1)",
        ),
        ("{{ 'a' | regex_replace('(', 'b') }}", "regex_replace: invalid regex '('"),
        ("{{ 'a' | regex_search('x' * 5000) }}", "regex_search: regex longer than 4096 characters"),
        ("{{ 'a' | regex_search('a{4294967296}') }}", "regex_search: invalid regex"),
        ("{{ 'a' | regex_replace('a', '\\\\2') }}", "regex_replace: invalid group reference 2"),
        ("{{ 'aa' | regex_replace('a', 'b', mandatory_count=1) }}", "should match 1 times, but matches 2 times"),
        ("{{ 'a' | regex_search('a', 'x') }}", "regex_search: 'x' is not a group"),
        ("{{ 'a' | regex_replace('a', 'b', count='x') }}", "FilterArgumentError: regex_replace:"),
        ("{{ 'not base64!' | b64decode }}", "FilterArgumentError: b64decode:"),
        ("{{ '/w==' | b64decode }}", "b64decode: 'utf-8' codec can't decode"),
        ("{{ 'a' | b64encode('no-such-codec') }}", "b64encode: unknown encoding 'no-such-codec'"),
        ("{{ app | to_nice_json(indent=100000) }}", "to_nice_json: indent must be a whole number from 0 to 32"),
        ("{{ app | to_nice_yaml(indent='x') }}", "to_nice_yaml: indent must be a whole number"),
        ("{{ range(3) | to_yaml }}", "FilterArgumentError: to_yaml:"),
        ("{% macro m() %}{% endmacro %}{{ m | to_json }}", "FilterArgumentError: to_json:"),
    ],
)
def test_bad_filter_arguments_are_one_line_naming_the_field(source: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        render(source)
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("pb.yml: steps[0].x: ")


@pytest.mark.parametrize(
    "source",
    [
        # A million empty matches, each replaced by 1,000 characters: 1 GB if it were built.
        "{{ ('a' * 1000000) | regex_replace('', 'x' * 1000) }}",
        "{{ (('a' * 6000000) | b64encode) ~ (('a' * 6000000) | b64encode) }}",
        "{{ [('x' * 5000000), ('x' * 5000000), 'x'] | to_json }}",  # the argument is too big already
        "{{ (['x'] * 300000) | to_nice_json(indent=32) }}",  # 32 spaces for each of 300,000 elements
    ],
)
def test_a_huge_filter_result_hits_the_sandbox_limits(source: str) -> None:
    with pytest.raises(UserError, match=r"LimitExceeded: .*(longer|larger) than 10,000,000"):
        render(source)


def test_filters_cannot_be_handed_a_callable_to_run() -> None:
    # json.dumps(default=...) or yaml's Dumper would call what a template gives them: not offered.
    with pytest.raises(UserError, match="FilterArgumentError: to_json: got an unexpected keyword argument 'default'"):
        render("{% macro m(x) %}{% endmacro %}{{ app | to_json(default=m) }}")


def test_the_playbook_docs_example_renders_as_it_says(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "playbook.md").read_text()
    section = doc[doc.index("### Jinja2 as in Ansible") :]
    playbook = re.search(r"```yaml\n(name: app-config\n.*?)```", section, re.DOTALL)
    template = re.search(r"with `templates/ports.conf.j2`:\n\n```\n(.*?)```", section, re.DOTALL)
    assert playbook is not None and template is not None
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ports.conf.j2").write_text(template.group(1))
    (tmp_path / "pb.yml").write_text(playbook.group(1))
    (tmp_path / "inv.yml").write_text("hosts: {web1: {address: 127.0.1.1, vars: {api_token: s3cret}}}\n")
    files = {
        "/etc/shop/ports.conf": b"",
        "/etc/shop/env": b"APP_JSON=old\nTOKEN_B64=old\n",
        "/etc/shop/listen.conf": b"listen 80\n",
    }
    inventory, loaded = load_inventory(str(tmp_path / "inv.yml")), load_playbook(str(tmp_path / "pb.yml"))
    targets = render_targets(loaded, inventory, None, {})
    plan = build_plan("RUN", loaded, inventory, targets, {"web1": {p: existing(p, c) for p, c in files.items()}})
    after = {c.path: c.after for c in plan.hosts[0].changes}
    assert after["/etc/shop/ports.conf"] == b"Listen 80\nListen 443\n"
    token = base64.b64encode(b"s3cret").decode()
    assert after["/etc/shop/env"] == f'APP_JSON={{"name": "shop", "ports": [80, 443]}}\nTOKEN_B64={token}\n'.encode()
    assert after["/etc/shop/listen.conf"] == b"listen 127.0.0.1:8080\n"
    (tmp_path / "inv.yml").write_text("hosts: {web1: {address: 127.0.1.1}}\n")
    with pytest.raises(UserError, match=r"steps\[3\]\.line_patch\.\w+: set api_token in the inventory \(host web1\)$"):
        render_targets(loaded, load_inventory(str(tmp_path / "inv.yml")), None, {})
