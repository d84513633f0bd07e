"""Ansible's host patterns for --limit and hosts:, each form on its own, and all of them held to ansible-core's
own `ansible-inventory --limit` (a test-only dependency)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_tools import ansible_inventory

from remediate.errors import UserError
from remediate.load.inventory import load_inventory
from remediate.model import Inventory
from remediate.plan.select import select_hosts, split_pattern

INI = """\
[web]
web1
web2
web3
[paris]
web1
db1
[db]
db1
db2
[prod:children]
web
db
"""


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.ini"
    path.write_text(INI)
    return path


@pytest.fixture
def inventory(inventory_file: Path) -> Inventory:
    return load_inventory(str(inventory_file))


def names(inventory: Inventory, pattern: str) -> list[str]:
    return [h.name for h in select_hosts(inventory, pattern, "--limit")]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("web1,db2", ["web1", "db2"]),  # names, comma-separated (in inventory order)
        ("web:db", ["web1", "web2", "web3", "db1", "db2"]),  # groups, colon-separated
        ("web*", ["web1", "web2", "web3"]),  # a glob over hosts and groups
        ("web:!web3", ["web1", "web2"]),  # exclusion
        ("web,!web3", ["web1", "web2"]),
        ("!web2", ["web1", "web3", "db1", "db2"]),  # only exclusions: all but those
        ("web:&paris", ["web1"]),  # intersection
        ("&paris", ["web1", "db1"]),  # only an intersection: all, and in it
        ("prod:&db:!db2", ["db1"]),  # taken in Ansible's order: plain, then &, then !
        ("!db2,prod,&db", ["db1"]),  # whatever order they are written in
        ("~web[12]", ["web1", "web2"]),  # a regex, matched from the start
        ("~(web|db)1$", ["web1", "db1"]),
        ("web[0]", ["web1"]),  # subscripts over a pattern's hosts
        ("web[-1]", ["web3"]),
        ("web[1:]", ["web2", "web3"]),
        ("web[0:1]", ["web1", "web2"]),  # inclusive
        ("all:!db*", ["web1", "web2", "web3"]),
    ],
)
def test_each_pattern_form(inventory: Inventory, pattern: str, expected: list[str]) -> None:
    assert names(inventory, pattern) == expected


PATTERNS = [
    "web1,db2", "web:db", "web*", "web:!web3", "!web2", "web:&paris", "&paris", "prod:&db:!db2", "!db2,prod,&db",
    "~web[12]", "~(web|db)1$", "web[0]", "web[-1]", "web[1:]", "web[0:1]", "all:!db*", "paris:db", "prod:!paris",
]  # fmt: skip


def test_every_form_selects_what_ansible_inventory_limit_selects(inventory_file: Path, inventory: Inventory) -> None:
    for pattern in PATTERNS:
        document = json.loads(ansible_inventory(inventory_file, "--limit", pattern, "--list"))
        theirs = {h for group in document.values() if isinstance(group, dict) for h in group.get("hosts", ())}
        assert set(names(inventory, pattern)) == theirs, pattern


def test_colons_split_only_without_commas_and_outside_brackets() -> None:
    assert split_pattern("web:&paris:!web3") == ["web", "&paris", "!web3"]
    assert split_pattern("web[1:2]:db") == ["web[1:2]", "db"]
    assert split_pattern("fe80::1") == ["fe80::1"]  # an IPv6 address stays whole
    assert split_pattern(" a , b:c ,, ") == ["a", "b:c"]  # with a comma, only commas separate


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("web:!nosuch", r"^--limit: '!nosuch' matches no host or group in .*hosts.ini$"),
        ("&nosuch", r"^--limit: '&nosuch' matches no host or group"),
        ("~[", r"^--limit: '~\[': a '\[' without its '\]' \(or the other way round\)$"),
        ("~[,web1", r"^--limit: '~\[': invalid regex '\['"),
        ("~" + "a" * 5000, r"^--limit: '~a+': regex longer than"),
        ("web[7]", r"^--limit: 'web\[7\]': web has 3 host\(s\) in .*hosts.ini, no \[7\]$"),
        ("web[1-2]", r"^--limit: 'web\[1-2\]': a range subscript is \[x:y\] \(inclusive\), not \[x-y\]$"),
        ("web:!web*", r"^--limit: 'web:!web\*' names no host$"),
        ("!", r"^--limit: '!' has nothing after its '!'$"),
        ("@retry.txt", r"^--limit: '@retry.txt': an @FILE item is read only in --limit$"),
    ],
)
def test_a_pattern_that_cannot_select_is_one_clear_line(inventory: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        select_hosts(inventory, pattern, "--limit")
