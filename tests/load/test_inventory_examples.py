"""The example inventories in inventory/ load, say what their comments say, describe one fleet in both
formats, and fit the playbook of the outage (fix-phpp) without contacting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.errors import UserError
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import Inventory
from remediate.plan.render import render_host
from remediate.plan.select import select_hosts
from remediate.probes.http import HttpProbe

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = [REPO / "inventory" / "example.yml", REPO / "inventory" / "example-ansible.ini"]
KEY = str(Path("~/.ssh/deploy_ed25519").expanduser())
KNOWN_HOSTS = "/etc/remediate/known_hosts"

# name: (address, port, user, become, groups)
EXPECTED_HOSTS = {
    "web1": ("web1.example.com", 22, "deploy", True, ("web", "canary")),
    "web2": ("web2.example.com", 22, "deploy", True, ("web",)),
    "web3": ("web3.example.com", 2222, "deploy", True, ("web",)),
    "db1": ("db1.example.com", 22, "root", False, ("db",)),
    "db2": ("db2.example.com", 22, "root", False, ("db",)),
}
COMMON_VARS = {"site": "blog.example.com", "backup_retention_days": 14}
EXPECTED_VARS = {
    "web1": {
        **COMMON_VARS,
        "docroot": "/var/www/html",
        "php_version": "8.2",
        "health_url": "http://web1.example.com/wp-login.php",
    },
    "web2": {
        **COMMON_VARS,
        "docroot": "/var/www/html",
        "php_version": "8.2",
        "health_url": "http://web2.example.com/wp-login.php",
    },
    # a host var wins over its group's
    "web3": {
        **COMMON_VARS,
        "docroot": "/srv/www/html",
        "php_version": "8.2",
        "health_url": "http://web3.example.com/wp-login.php",
    },
    "db1": {**COMMON_VARS, "pg_version": 15, "pg_role": "primary"},
    "db2": {**COMMON_VARS, "pg_version": 15, "pg_role": "replica"},
}


def own_vars(inventory: Inventory, name: str) -> dict[str, object]:
    """A host's variables without Ansible's connection variables, which Ansible inventories keep in vars."""
    return {k: v for k, v in inventory.host(name).vars.items() if not k.startswith("ansible_")}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_inventory_has_the_fleet_its_comments_describe(path: Path) -> None:
    inventory = load_inventory(str(path))
    assert [h.name for h in inventory.hosts] == list(EXPECTED_HOSTS)
    assert dict(inventory.groups) == {"web": ("web1", "web2", "web3"), "db": ("db1", "db2"), "canary": ("web1",)}
    for host in inventory.hosts:
        address, port, user, become, groups = EXPECTED_HOSTS[host.name]
        assert (host.address, host.port, host.user, host.become, host.groups) == (address, port, user, become, groups)
        assert (host.identity_file, host.known_hosts) == (KEY, KNOWN_HOSTS)
        assert own_vars(inventory, host.name) == EXPECTED_VARS[host.name], host.name
        # Reserved for examples (RFC 2606): the file as it is can never reach a real machine.
        assert host.address.endswith(".example.com")


def test_example_inventories_select_like_each_other() -> None:
    native, ansible = (load_inventory(str(path)) for path in EXAMPLES)
    for pattern in ("web", "db", "canary", "all", "~web[12]", "web[0:1]", "db*,web3", "web:&canary", "!db*"):
        assert [h.name for h in select_hosts(native, pattern, "--limit")] == [
            h.name for h in select_hosts(ansible, pattern, "--limit")
        ], pattern
    with pytest.raises(UserError, match="'paris' matches no host or group"):
        select_hosts(native, "paris", "--limit")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_fix_phpp_renders_for_every_web_host_of_the_example(path: Path) -> None:
    inventory = load_inventory(str(path))
    playbook = load_playbook(str(REPO / "playbooks" / "fix-phpp.yml"))
    for host in select_hosts(inventory, "web", "--limit"):
        target = render_host(playbook, host, {})
        assert target.paths == (f"{EXPECTED_VARS[host.name]['docroot']}/wp-settings.php",)
        (probe,) = target.probes
        assert isinstance(probe, HttpProbe)
        assert (probe.url, probe.expect_status) == (EXPECTED_VARS[host.name]["health_url"], 200)
