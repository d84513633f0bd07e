"""Property-based: whatever playbook, inventory (ours, Ansible's YAML or INI) or template is thrown at the
loaders, the result is a typed value or a UserError (exit 2) of one line naming the file; never another
exception (an internal error with a crash log). Bounded in examples and derandomized, so CI runs the same
few hundred inputs every time (about 13 s in all); the limits keep each input fast (see remediate/limits.py),
and one that takes over 2 s fails the test."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.actions.line_patch import KEYS as LINE_PATCH_KEYS
from remediate.actions.template import KEYS as TEMPLATE_KEYS
from remediate.errors import UserError
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.plan.planner import render_targets

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),  # issue 15's bound on one bad input; examples take 1-25 ms
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
INVENTORY = "hosts:\n  web1: {address: 127.0.0.1, port: 1}\n"
PLAYBOOK = "steps:\n- line_patch: {path: /etc/x, sed: s/a/b/}\n"
HUGE = "9" * 5000

# Pieces that have broken a loader before, or sit on a limit: mixed at random into the text.
YAML_PIECES = ["? [a]\n: 1\n", "&a [x, x]", "*a", "!!int '1'", "\x07", "{{ x }}", "{%", "[1:5]", ":", "- ", "\n  ",
               HUGE, "a{4294967296}", "<<: *a", "'", '"', "#", "|\n  x", "{", "}", "0o777", "1:2:3", "~"]  # fmt: skip
INI_PIECES = ["[g]", "[g:children]", "[g:vars]", "[g:other]", "h[1:5]", "h[01:100000]", f"h[1:{HUGE}]", "h:22",
              f"h:{HUGE}", "k=v", "ansible_port=x", f"ansible_port={HUGE}", "ansible_host=[1,2]", "g", "\n", " ",
              "[", "]", "=", "'", "#", "h[a:z]", "h[5:1]", "[a:b:0]"]  # fmt: skip
JINJA_PIECES = ["{{ x }}", "{{ host.name }}", "{% for i in range(100000) %}", "{% endfor %}", "{{ lipsum(n=10**7) }}",
                "{{ 'x' * 10**10 }}", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{% include 'o.j2' %}",
                "{% extends 't.j2' %}", "{% import 'o.j2' as o %}", "{% include x %}", "{{ range(10**6) }}",
                "{% if %}", "{{", "}}", "text", "\n", "{{ 10 ** 10 ** 3 }}", "{{ ().__class__ }}"]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just("HUGE_NUMBER"),
    st.floats(allow_nan=True), st.text(max_size=30), st.sampled_from(YAML_PIECES + JINJA_PIECES),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _dump(document: object) -> str:
    """YAML text; a HUGE_NUMBER string becomes a plain integer of 5000 digits (one Python cannot print)."""
    return yaml.safe_dump(document).replace("HUGE_NUMBER", HUGE)


def _mixed(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces) | st.text(max_size=6), max_size=25).map("".join)


def _step() -> st.SearchStrategy[dict[str, Any]]:
    line_patch = st.dictionaries(st.sampled_from(LINE_PATCH_KEYS), values, max_size=5)
    template = st.dictionaries(st.sampled_from(TEMPLATE_KEYS), values, max_size=4)
    return st.one_of(
        st.builds(lambda f: {"line_patch": f}, line_patch),
        st.builds(lambda f: {"template": {**f, "src": "t.j2", "dest": "/etc/x"}}, template),
        st.dictionaries(st.text(max_size=10), values, max_size=3),
    )


playbooks = st.one_of(
    st.builds(lambda steps, v: _dump({"vars": v, "steps": steps}), st.lists(_step(), max_size=3), values),
    _mixed(YAML_PIECES).map(lambda text: f"steps:\n- line_patch: {text}\n"),
    _mixed(YAML_PIECES),
)
ansible_yaml = st.builds(
    lambda hosts, children, v: _dump({"all": {"hosts": hosts, "children": children, "vars": v}}),
    st.dictionaries(st.sampled_from(["web1", "h[1:3]", f"h:{HUGE}", "h[1:100000]", "x y"]), values, max_size=3),
    st.dictionaries(st.text(max_size=6), values, max_size=3),
    values,
)
native_yaml = st.builds(
    lambda hosts, groups: _dump({"hosts": hosts, "groups": groups}),
    st.dictionaries(st.text(max_size=6), values, max_size=3),
    values,
)


def _check(files: dict[str, str], load: Callable[[Path], object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        for name, text in files.items():
            (base / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load(base)
        except UserError as e:
            message = str(e)
            assert "\n" not in message, message
            assert any(name in message for name in files), message


def _load_all(inventory: str) -> Callable[[Path], object]:
    return lambda base: render_targets(
        load_playbook(str(base / "pb.yml")), load_inventory(str(base / inventory)), None, {}
    )


@FUZZ
@given(playbooks)
def test_any_playbook_loads_or_is_one_line(playbook: str) -> None:
    _check({"pb.yml": playbook, "inv.yml": INVENTORY, "t.j2": "x"}, _load_all("inv.yml"))


@FUZZ
@given(_mixed(JINJA_PIECES), _mixed(JINJA_PIECES))
def test_any_template_renders_or_is_one_line(template: str, other: str) -> None:
    playbook = "steps:\n- template: {src: t.j2, dest: /etc/x}\n"
    _check({"pb.yml": playbook, "inv.yml": INVENTORY, "t.j2": template, "o.j2": other}, _load_all("inv.yml"))


@FUZZ
@given(st.one_of(ansible_yaml, native_yaml, _mixed(YAML_PIECES)))
def test_any_yaml_inventory_loads_or_is_one_line(inventory: str) -> None:
    _check({"pb.yml": PLAYBOOK, "inv.yml": inventory}, _load_all("inv.yml"))


@FUZZ
@given(st.lists(_mixed(INI_PIECES), max_size=12).map("\n".join))
def test_any_ini_inventory_loads_or_is_one_line(inventory: str) -> None:
    _check({"pb.yml": PLAYBOOK, "inv.ini": inventory}, _load_all("inv.ini"))
