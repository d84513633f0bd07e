"""group_vars/ and host_vars/ resolve as Ansible resolves them: each layout below is written to a temporary
folder and loaded by remediate and by ansible-core's own ``ansible-inventory --list`` (a test-only
dependency, run from this venv), and the two documents must be equal: the same hosts, the same groups with
the same hosts and children, and the same variables for every host (remediate's own additions, under
``_meta.remediate``, are left out of the comparison; so is Ansible's ``_meta.profile``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_tools import ansible_inventory

from remediate.load.inventory import load_inventory
from remediate.report.inventory import Reach, inventory_graph, inventory_list

CONNECTION = {"ansible_host", "ansible_port", "ansible_user"}  # the ones these layouts set

KUBESPRAY_INI = """\
[kube_control_plane]
node1 ansible_host=95.54.0.12
node2 ansible_host=95.54.0.13

[etcd]
node1
node2
node3 ansible_host=95.54.0.14

[kube_node]
node2
node3
node4 ansible_host=95.54.0.15

[calico_rr]

[k8s_cluster:children]
kube_control_plane
kube_node
calico_rr
"""

# Each layout: file name -> text; "hosts.ini" or "hosts.yml" is the inventory (-i).
LAYOUTS: dict[str, dict[str, str]] = {
    "kubespray_files": {
        "hosts.ini": KUBESPRAY_INI,
        "group_vars/all.yml": "docroot: /var/www\nansible_user: deploy\nbin_dir: /usr/local/bin\n",
        "group_vars/k8s_cluster.yml": "kube_version: v1.29.0\nbin_dir: /opt/bin\n",
        "group_vars/etcd.yml": "etcd_deployment_type: host\n",
        "host_vars/node3.yml": "ansible_port: 2222\nkube_version: v1.28.0\n",
    },
    # kubespray's real layout: a folder per group, several files merged in name order
    "kubespray_folders": {
        "hosts.ini": KUBESPRAY_INI,
        "group_vars/all/all.yml": "docroot: /var/www\nloadbalancer: none\n",
        "group_vars/all/docker.yml": "docker_version: '24.0'\nloadbalancer: haproxy\n",
        "group_vars/k8s_cluster/k8s-cluster.yml": "kube_version: v1.29.0\nnet: calico\n",
        "group_vars/k8s_cluster/k8s-net-calico.yml": "net: cilium\ncalico_mtu: 1400\n",
        "host_vars/node1/main.yml": "ansible_user: admin\n",
    },
    # .json and no extension, for files and inside folders; a folder's subfolder, hidden files, backups
    # and other extensions (skipped); NAME wins over NAME.yml, and NAME.yml over NAME.json
    "extensions_and_folders": {
        "hosts.ini": "[web]\nweb1\nweb2\n[db]\ndb1\n",
        "group_vars/web.json": '{"php": "8.2", "workers": 4}',
        "group_vars/db": "engine: mariadb\n",
        "group_vars/db.yml": "engine: postgres\n",
        "group_vars/all.yml": "a: yml\n",
        "group_vars/all.json": '{"a": "json", "b": 1}',
        "host_vars/web1": '{"workers": 8}',
        "host_vars/web2/10-first.yaml": "x: 1\ny: 1\n",
        "host_vars/web2/20-second": "x: 2\n",
        "host_vars/web2/30-third.json": '{"z": [1, 2]}',
        "host_vars/web2/sub/40.yml": "y: 4\n",
        "host_vars/web2/.hidden.yml": "x: hidden\n",
        "host_vars/web2/50.yml~": "x: backup\n",
        "host_vars/web2/notes.txt": "x: text\n",
        "host_vars/web2/empty.yml": "# only a comment\n",
    },
    # children nested three deep, the same variable at every level, in the INI and in group_vars
    "nested_children": {
        "hosts.ini": (
            "[paris]\np1\np2\n[lyon]\nl1\n[france:children]\nparis\nlyon\n[europe:children]\nfrance\n"
            "[europe:vars]\nlevel=europe\nfrom_ini=europe\n[paris:vars]\nfrom_ini=paris\n"
        ),
        "group_vars/europe.yml": "level: europe-file\ncontinent: eu\n",
        "group_vars/france.yml": "level: france-file\n",
        "group_vars/paris.yml": "level: paris-file\n",
    },
    # ansible_group_priority (in the INI, where Ansible reads it) reorders siblings, files included;
    # in a group_vars file it is an ordinary variable and orders nothing
    "group_priority": {
        "hosts.ini": (
            "[a_high]\nh1\n[b_low]\nh1\nh2\n[c_plain]\nh2\n"
            "[a_high:vars]\nansible_group_priority=10\nwho=a_high\n[b_low:vars]\nwho=b_low\n"
        ),
        "group_vars/a_high.yml": "file_who: a_high\n",
        "group_vars/b_low.yml": "file_who: b_low\n",
        "group_vars/c_plain.yml": "file_who: c_plain\nansible_group_priority: 50\n",
    },
    # a host's variables win over its groups', host_vars/ over the inventory's host line
    "host_overrides_group": {
        "hosts.ini": "[web]\nweb1 docroot=/line port_note=line\nweb2\n[web:vars]\ndocroot=/group\n",
        "group_vars/web.yml": "docroot: /group-file\nport_note: group\n",
        "host_vars/web1.yml": "port_note: host-file\n",
        "host_vars/web2.yml": "docroot: /web2\n",
    },
    # group_vars/all.yml is below every group's group_vars file, but above every [group:vars] of the INI
    "all_file_vs_ini_vars": {
        "hosts.ini": (
            "[web]\nweb1\n[all:vars]\nonly_all=ini\nshared=all-ini\n[web:vars]\nshared=web-ini\nmine=web-ini\n"
        ),
        "group_vars/all.yml": "shared: all-file\nmine: all-file\nnever_overridden: yes\n",
    },
    # [group:vars] against group_vars/GROUP for the same group: the file wins
    "ini_vars_vs_files": {
        "hosts.ini": "[db]\ndb1\ndb2 engine=line\n[db:vars]\nengine=ini\nport_no=5432\n",
        "group_vars/db.yaml": "engine: file\nreplicas: 2\n",
    },
    "yaml_inventory": {
        "hosts.yml": (
            "all:\n  vars: {tier: any}\n  children:\n    web:\n      hosts:\n        web1: {ansible_host: 10.0.0.1}\n"
            "        web2:\n      vars: {tier: web, docroot: /inv}\n      children:\n        canary:\n"
            "          hosts: {web1: {}}\n    db:\n      hosts: {db1: {tier: db-host}}\n"
        ),
        "group_vars/web.yml": "docroot: /file\n",
        "group_vars/canary.yml": "canary: true\n",
        "host_vars/db1.yml": "tier: db-file\n",
    },
    # hosts in no group: group_vars/ungrouped applies to them, and group_vars/all to all
    "ungrouped_hosts": {
        "hosts.ini": "lone1\nlone2 x=1\n[web]\nweb1\n",
        "group_vars/ungrouped.yml": "alone: true\nx: 0\n",
        "group_vars/all/10.yml": "everyone: true\n",
    },
    # two groups at the same depth: the later name wins, in the INI and in the files alike
    "same_depth_by_name": {
        "hosts.ini": "[zeta]\nh1\n[alpha]\nh1\n[zeta:vars]\nini=zeta\n[alpha:vars]\nini=alpha\n",
        "group_vars/alpha.yml": "file: alpha\nini: alpha-file\n",
        "group_vars/zeta.yml": "file: zeta\n",
    },
    # a YAML inventory whose groups are also given vars from files; a host in several groups
    "yaml_multi_group": {
        "hosts.yaml": (
            "all:\n  hosts:\n    solo:\n  children:\n    app:\n      hosts: {a1: {}, a2: {}}\n"
            "    monitored:\n      hosts: {a2: {}, solo: {}}\n      vars: {scrape: '15s'}\n"
        ),
        "group_vars/app.yml": "scrape: '60s'\nrole: app\n",
        "group_vars/monitored/main.yml": "exporter: node\n",
        "host_vars/solo.json": '{"role": "solo"}',
    },
}


def _write(folder: Path, layout: dict[str, str]) -> Path:
    inventory = None
    for name, text in layout.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if "/" not in name:
            inventory = path
    assert inventory is not None
    return inventory


def _ours(inventory_path: Path) -> dict[str, object]:
    inventory = load_inventory(str(inventory_path))
    reaches = {host.name: Reach(host, (), {}) for host in inventory.hosts}
    document = inventory_list(inventory, reaches, with_sources=False)
    del document["_meta"]["remediate"]
    loaded: dict[str, object] = json.loads(json.dumps(document))  # as JSON types, like Ansible's
    return loaded


def test_there_are_at_least_ten_layouts() -> None:
    assert len(LAYOUTS) >= 10


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_resolves_as_ansible_inventory_list(name: str, tmp_path: Path) -> None:
    inventory = _write(tmp_path, LAYOUTS[name])
    theirs = json.loads(ansible_inventory(inventory, "--list"))
    del theirs["_meta"]["profile"]
    assert _ours(inventory) == theirs
    # What a template sees (Host.vars) is Ansible's hostvars less the connection variables, which became
    # the Host's address, port, user and key
    for host in load_inventory(str(inventory)).hosts:
        expected = theirs["_meta"]["hostvars"].get(host.name, {})
        assert json.loads(json.dumps(host.vars)) == {k: v for k, v in expected.items() if k not in CONNECTION}
        assert host.address == expected.get("ansible_host", host.name)
        assert host.port == expected.get("ansible_port", 22)
        assert host.user == expected.get("ansible_user", "root")


@pytest.mark.parametrize("name", ["kubespray_folders", "nested_children", "yaml_inventory"])
def test_graph_is_ansible_inventory_graph(name: str, tmp_path: Path) -> None:
    inventory = _write(tmp_path, LAYOUTS[name])
    assert inventory_graph(load_inventory(str(inventory))) == ansible_inventory(inventory, "--graph")
