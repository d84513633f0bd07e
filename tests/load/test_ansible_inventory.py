"""Ansible INI and YAML inventories through ``--inventory``: detection, hosts, groups, variables, errors.

The fixtures in tests/cases/ansible/ are the Ansible documentation's own examples, each copied verbatim
below a comment saying where from; what they load to was checked against ansible-core 2.19's
``ansible-inventory --list``. Pure and fast: no lab, no Ansible needed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_loading import BAD_INVENTORIES, INVENTORY

from remediate.errors import UserError
from remediate.lab.fleet import Lab, LabHost, _write_inventory
from remediate.load.ansible_inventory import load_ansible_inventory, looks_like_ansible
from remediate.load.inventory import load_inventory
from remediate.model import Inventory
from remediate.plan.select import select_hosts

CASES = Path(__file__).parents[1] / "cases" / "ansible"
REPO = Path(__file__).resolve().parents[2]
KNOWN_HOSTS = str(Path("~/.ssh/known_hosts").expanduser())


def load_case(tmp_path: Path, name: str) -> Inventory:
    """The fixture as ``TMP/hosts``, no suffix, like /etc/ansible/hosts: detected by content alone."""
    path = tmp_path / "hosts"
    shutil.copy(CASES / name, path)
    return load_inventory(str(path))


def write(tmp_path: Path, text: str, name: str = "hosts") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def names(inventory: Inventory) -> list[str]:
    return [h.name for h in inventory.hosts]


def limit(inventory: Inventory, patterns: str) -> list[str]:
    return [h.name for h in select_hosts(inventory, patterns, "--limit")]


# --- the documentation's examples load unchanged ---------------------------------------------------------

EXAMPLES = {
    "basic.ini": (
        [
            "mail.example.com",
            "foo.example.com",
            "bar.example.com",
            "one.example.com",
            "two.example.com",
            "three.example.com",
        ],
        {"ungrouped": 1, "webservers": 2, "dbservers": 3},
    ),
    "multiple_groups.yml": (
        6,
        {"ungrouped": 1, "webservers": 2, "dbservers": 3, "east": 3, "west": 2, "prod": 3, "test": 2},
    ),
    "parent_child.yml": (
        6,
        {"ungrouped": 1, "webservers": 2, "dbservers": 3, "east": 3, "west": 2, "prod": 3, "test": 2},
    ),
    "range.ini": (50, {"webservers": 50}),
    "range.yml": (50, {"webservers": 50}),
    "stride.ini": (25, {"webservers": 25}),
    "stride.yml": (25, {"webservers": 25}),
    "alpha_range.ini": (6, {"databases": 6}),
    "host_vars.ini": (["host1", "host2"], {"atlanta": 2}),
    "host_vars.yml": (["host1", "host2"], {"atlanta": 2}),
    "host_port.ini": (["badwolf.example.com"], {"ungrouped": 1}),
    "alias.ini": (["jumper"], {"ungrouped": 1}),
    "group_vars.ini": (["host1", "host2"], {"atlanta": 2}),
    "group_vars.yml": (["host1", "host2"], {"atlanta": 2}),
    "nested.yml": (
        ["host1", "host2", "host3"],
        {"usa": 3, "southeast": 3, "atlanta": 2, "raleigh": 2, "northeast": 0, "northwest": 0, "southwest": 0},
    ),
    "behavioral.ini": (["some_host", "aws_host", "freebsd_host", "ruby_module_host"], {"ungrouped": 4}),
    "per_environment.ini": (5, {"dbservers": 2, "appservers": 3}),
    "ini_plugin_example1.ini": (
        ["host1", "host2", "tomcat1", "tomcat2", "tomcat3", "jenkins1"],
        {"web": 6, "apache": 3, "nginx": 1},
    ),
    "ini_plugin_example2.ini": (["host1", "host2", "host3", "host4"], {"ungrouped": 3, "g1": 1, "g2": 1}),
    "yaml_plugin_example.yml": (
        ["test1", "test2", "test5", "test6", "test4"],  # other_group lists its children before its host
        {"ungrouped": 1, "other_group": 3, "group_x": 1, "group_y": 1, "last_group": 1},
    ),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_documentation_example_loads_unchanged(tmp_path: Path, name: str) -> None:
    hosts, group_sizes = EXAMPLES[name]
    for inventory in (load_case(tmp_path, name), load_inventory(str(CASES / name))):
        if isinstance(hosts, int):
            assert len(inventory.hosts) == hosts
        else:
            assert names(inventory) == hosts
        assert len(set(names(inventory))) == len(inventory.hosts)  # a host in several groups is there once
        assert {group: len(members) for group, members in inventory.groups.items()} == group_sizes


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir()))
def test_every_example_is_detected_as_ansible(tmp_path: Path, name: str) -> None:
    text = (CASES / name).read_text()
    assert looks_like_ansible(tmp_path / "hosts", text)
    assert looks_like_ansible(CASES / name, text)


def test_ini_and_yaml_forms_of_the_basic_example_are_the_same_inventory(tmp_path: Path) -> None:
    ini, yml = load_case(tmp_path, "basic.ini"), load_inventory(str(CASES / "basic.yml"))
    assert ini.hosts == yml.hosts
    assert ini.groups == yml.groups
    assert ini.groups["ungrouped"] == ("mail.example.com",)
    assert ini.host("two.example.com").groups == ("dbservers",)


def test_ranges_expand_with_zero_padding_strides_and_letters(tmp_path: Path) -> None:
    www = names(load_case(tmp_path, "range.ini"))
    assert www[:3] == ["www01.example.com", "www02.example.com", "www03.example.com"]
    assert www[-1] == "www50.example.com"
    assert names(load_inventory(str(CASES / "range.yml"))) == www
    strided = names(load_inventory(str(CASES / "stride.ini")))
    assert strided == [f"www{n:02d}.example.com" for n in range(1, 50, 2)]  # www01, www03 .. www49
    assert names(load_inventory(str(CASES / "alpha_range.ini"))) == [f"db-{c}.example.com" for c in "abcdef"]


def test_more_range_forms(tmp_path: Path) -> None:
    inventory = load_inventory(str(write(tmp_path, "[web]\nweb[1:3]-[a:b]\nn[:2]\n10.0.0.[8:9]:2222\n")))
    assert names(inventory) == [
        "web1-a",
        "web1-b",
        "web2-a",
        "web2-b",
        "web3-a",
        "web3-b",
        "n0",
        "n1",
        "n2",
        "10.0.0.8",
        "10.0.0.9",
    ]
    assert inventory.host("10.0.0.9").port == 2222


def test_children_membership_and_limit_through_a_parent_group(tmp_path: Path) -> None:
    nested = load_inventory(str(CASES / "nested.yml"))
    assert limit(nested, "usa") == ["host1", "host2", "host3"]
    assert limit(nested, "southeast") == ["host1", "host2", "host3"]
    assert limit(nested, "raleigh,atlanta") == ["host1", "host2", "host3"]
    assert limit(nested, "atlanta") == ["host1", "host2"]
    assert nested.host("host2").groups == ("usa", "southeast", "atlanta", "raleigh")
    with pytest.raises(UserError, match="'northeast' matches no host"):
        limit(nested, "northeast")  # an empty group, as in Ansible

    prod = load_case(tmp_path, "parent_child.yml")
    assert limit(prod, "prod") == ["foo.example.com", "one.example.com", "two.example.com"]
    assert limit(prod, "test") == ["bar.example.com", "three.example.com"]
    assert limit(prod, "all") == names(prod)
    assert limit(prod, "tes*") == ["bar.example.com", "three.example.com"]  # a glob over group names

    plugin = load_inventory(str(CASES / "yaml_plugin_example.yml"))
    assert limit(plugin, "other_group") == ["test5", "test6", "test4"]  # its own host and its children's
    assert plugin.groups["ungrouped"] == ("test2",)  # test1 is in last_group too
    assert plugin.host("test1").groups == ("last_group",)


def test_group_vars_reach_the_hosts_of_child_groups(tmp_path: Path) -> None:
    nested = load_inventory(str(CASES / "nested.yml"))
    for host in nested.hosts:
        assert host.vars == {
            "some_server": "foo.southeast.example.com",
            "halon_system_timeout": 30,
            "self_destruct_countdown": 60,
            "escape_pods": 2,
        }
    atlanta = load_case(tmp_path, "group_vars.ini")
    assert atlanta.host("host2").vars == {"ntp_server": "ntp.atlanta.example.com", "proxy": "proxy.atlanta.example.com"}
    assert load_inventory(str(CASES / "group_vars.yml")).hosts == atlanta.hosts


def test_precedence_all_parent_child_host_from_the_ini_plugin_example(tmp_path: Path) -> None:
    inventory = load_case(tmp_path, "ini_plugin_example1.ini")
    host1, host2, tomcat1, tomcat2, tomcat3, jenkins1 = inventory.hosts
    assert host1.vars == {"has_java": False, "http_port": 8080, "myvar": 23}
    assert tomcat1.vars == host1.vars  # a child of web gets web's vars
    assert tomcat2.vars["myvar"] == 34  # host vars win over group vars
    assert jenkins1.vars["has_java"] is True  # nginx (child) > web (parent) > all
    assert tomcat3.vars["mysecret"] == "03#pa33w0rd"  # quoted: a string, with its '#'
    assert host2.port == 222 and "ansible_port" not in host2.vars
    assert tomcat1.groups == ("web", "apache")


def test_same_depth_groups_merge_in_ascii_order_unless_ansible_group_priority(tmp_path: Path) -> None:
    # The later name wins between groups at one depth (the documentation's a_group/b_group example),
    # whatever their order in the file; a child group wins over its parent whatever the names.
    text = "[b_group]\nh1\n[a_group]\nh1\n[a_group:vars]\ntestvar=a\n[b_group:vars]\ntestvar=b\n"
    assert load_inventory(str(write(tmp_path, text))).hosts[0].vars == {"testvar": "b"}
    prioritised = text + "[a_group:vars]\nansible_group_priority=10\n"
    assert load_inventory(str(write(tmp_path, prioritised))).hosts[0].vars == {"testvar": "a"}
    nested = "[z]\nh1\n[a:children]\nz\n[a:vars]\nv=parent\n[z:vars]\nv=child\n"
    assert load_inventory(str(write(tmp_path, nested))).hosts[0].vars == {"v": "child"}
    yml = """\
all:
  vars: {v: all, w: all}
  children:
    a_group: {hosts: {h1: }, vars: {v: a, ansible_group_priority: 10}}
    b_group: {hosts: {h1: {w: host}}, vars: {v: b}}
"""
    assert load_inventory(str(write(tmp_path, yml, "inv.yml"))).hosts[0].vars == {"v": "a", "w": "host"}


def test_a_host_on_several_lines_gets_all_their_variables_the_later_winning(tmp_path: Path) -> None:
    text = "h1 a=1 b=1\n[web]\nh2\nh1 b=2 c=2\n[db]\nh1\n"
    inventory = load_inventory(str(write(tmp_path, text)))
    assert names(inventory) == ["h1", "h2"]
    assert inventory.host("h1").vars == {"a": 1, "b": 2, "c": 2}
    assert inventory.groups == {"web": ("h1", "h2"), "db": ("h1",)}  # h1 left ungrouped once in a group
    assert inventory.host("h1").groups == ("web", "db")


def test_ini_values_are_python_literals_where_they_can_be_as_in_ansible(tmp_path: Path) -> None:
    text = """\
[web]
h1 port=80 flag=True quoted="'80'" text=hello spaced="a b" items="[1, (2, 3)]" empty= nothing=None
[web:vars]
number=23
boolean=False
word=FALSE
sentence = an apple a day
mapping={'k': 'v'}
"""
    assert load_inventory(str(write(tmp_path, text))).hosts[0].vars == {
        "number": 23,
        "boolean": False,
        "word": "FALSE",  # not a Python literal: the string
        "sentence": "an apple a day",
        "mapping": {"k": "v"},
        "port": 80,
        "flag": True,
        "quoted": "80",
        "text": "hello",
        "spaced": "a b",
        "items": [1, [2, 3]],  # tuples become lists
        "empty": "",
        "nothing": None,
    }


def test_connection_variables_map_to_host_fields(tmp_path: Path) -> None:
    jumper = load_case(tmp_path, "alias.ini").host("jumper")
    assert (jumper.address, jumper.port, jumper.user, jumper.vars) == ("192.0.2.50", 5555, "root", {})
    badwolf = load_case(tmp_path, "host_port.ini").host("badwolf.example.com")
    assert (badwolf.address, badwolf.port) == ("badwolf.example.com", 5309)
    behavioral = load_case(tmp_path, "behavioral.ini")
    some_host = behavioral.host("some_host")
    assert (some_host.port, some_host.user, some_host.identity_file) == (2222, "manager", None)
    assert behavioral.host("aws_host").identity_file == "/home/example/.ssh/aws.pem"
    assert behavioral.host("freebsd_host").vars == {"ansible_python_interpreter": "/usr/local/bin/python"}
    # The documentation's connection example has a host Ansible runs locally: remediate, which would
    # reach it over SSH instead, refuses it naming the line; with that host gone the rest loads.
    with pytest.raises(UserError, match=r"/hosts:5: ansible_connection: 'local' is not supported: remediate reaches"):
        load_case(tmp_path, "connection_vars.ini")
    text = (CASES / "connection_vars.ini").read_text().replace("localhost              ansible_connection=local", "")
    targets = load_inventory(str(write(tmp_path, text)))
    assert [h.user for h in targets.hosts] == ["myuser", "myotheruser"]
    assert targets.hosts[0].vars == {"ansible_connection": "ssh"}
    for host in (jumper, some_host, *targets.hosts):
        assert host.known_hosts == KNOWN_HOSTS


def test_key_files_known_hosts_become_and_secrets(tmp_path: Path) -> None:
    text = """\
[web]
w1 ansible_ssh_common_args='-o UserKnownHostsFile=/etc/ssh/fleet_known_hosts -o StrictHostKeyChecking=no'
w2 ansible_ssh_extra_args="-o 'UserKnownHostsFile keys/known_hosts /etc/ssh/more'" ansible_become=yes
w3 ansible_become=True ansible_ssh_private_key_file=keys/id_ed25519 ansible_user=deploy ansible_ssh_user=admin
[web:vars]
ansible_become=false
ansible_become_password=s3cret
ansible_private_key_file=~/.ssh/fleet
"""
    inventory = load_inventory(str(write(tmp_path, text)))
    w1, w2, w3 = inventory.hosts
    assert w1.known_hosts == "/etc/ssh/fleet_known_hosts"
    assert w2.known_hosts == str(tmp_path / "keys" / "known_hosts")  # relative to the inventory, as native
    assert w3.known_hosts == KNOWN_HOSTS
    assert w1.identity_file == str(Path("~/.ssh/fleet").expanduser())
    assert w3.identity_file == str(tmp_path / "keys" / "id_ed25519")  # the ssh_ variant wins, as in Ansible
    assert (w1.user, w3.user) == ("root", "admin")
    assert [h.vars["ansible_become"] for h in inventory.hosts] == [False, True, True]
    assert [getattr(h, "become", None) for h in inventory.hosts] in ([False, True, True], [None, None, None])
    assert inventory.secrets == frozenset({"s3cret"})
    assert "ansible_private_key_file" not in w1.vars and "ansible_user" not in w3.vars


def test_a_yaml_inventory_keeps_yaml_types_and_maps_connection_variables(tmp_path: Path) -> None:
    yml = """\
all:
  hosts:
    loner: {ansible_port: "2201", ansible_host: 10.0.0.9}
  vars: {ansible_user: deploy, docroot: /var/www/html, level: all}
  children:
    web:
      hosts:
        web[1:2]:2222: {level: host}
        web3:
      vars: {level: group, enabled: "yes", list: [1, 2]}
"""
    inventory = load_inventory(str(write(tmp_path, yml, "inv.yml")))
    loner, web1, web2, web3 = inventory.hosts
    assert (loner.address, loner.port, loner.user) == ("10.0.0.9", 2201, "deploy")
    assert loner.groups == ("ungrouped",) and inventory.groups["ungrouped"] == ("loner",)
    assert (web1.port, web3.port) == (2222, 22)
    assert web2.vars == {"docroot": "/var/www/html", "level": "host", "enabled": "yes", "list": [1, 2]}
    assert web3.vars["level"] == "group"


# --- native inventories are never taken for Ansible's, and the other way round ----------------------------


def native_examples(tmp_path: Path) -> dict[str, str]:
    lab = Lab(
        directory=tmp_path / "lab",
        inventory_path=tmp_path / "inventory" / "lab.yml",
        hosts=tuple(LabHost(f"lab{i}", f"127.0.1.{i}", 2222, 8080, tmp_path / f"h{i}") for i in (1, 2, 3)),
    )
    _write_inventory(lab)
    readme = (REPO / "README.md").read_text()
    readme_inventory = re.search(r"## Inventory.*?```yaml\n(.*?)```", readme, re.S)
    assert readme_inventory is not None
    return {
        "tests": INVENTORY,
        "lab": lab.inventory_path.read_text(),
        "readme": readme_inventory.group(1),
        "minimal": "hosts:\n  web1:\n",
        "one flow line": "hosts: {web1: {address: 10.0.0.1}}\n",
        "group named like an Ansible key": "hosts: {web1: {}}\ngroups: {children: {hosts: [web1]}}\n",
        **{f"bad: {message}": text for text, message in BAD_INVENTORIES},
    }


def test_native_inventories_are_not_detected_as_ansible(tmp_path: Path) -> None:
    for label, text in native_examples(tmp_path).items():
        for name in ("inv.yml", "hosts"):
            assert not looks_like_ansible(tmp_path / name, text), label


def test_native_inventories_still_load_natively(tmp_path: Path) -> None:
    examples = native_examples(tmp_path)
    lab = load_inventory(str(write(tmp_path, examples["lab"], "lab.yml")))
    assert names(lab) == ["lab1", "lab2", "lab3"]
    assert lab.groups == {"web": ("lab1", "lab2", "lab3"), "canary": ("lab1",)}
    assert lab.hosts[0].port == 2222 and lab.hosts[0].vars["docroot"]
    readme = load_inventory(str(write(tmp_path, examples["readme"], "readme.yml")))
    assert readme.host("web2").vars["docroot"] == "/srv/www"


def test_ansible_yaml_with_native_looking_group_names_is_ansible(tmp_path: Path) -> None:
    text = "hosts:\n  hosts:\n    web1:\n  vars:\n    role: web\n"  # a group named 'hosts'
    assert looks_like_ansible(tmp_path / "inv.yml", text)
    inventory = load_inventory(str(write(tmp_path, text, "inv.yml")))
    assert inventory.groups == {"hosts": ("web1",)} and inventory.hosts[0].vars == {"role": "web"}


def test_a_single_ansible_host_line_is_ansible_but_yaml_lookalikes_are_not(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    assert looks_like_ansible(path, "web1.example.com\n")
    assert looks_like_ansible(path, "# fleet\nweb1 ansible_host=10.0.0.1\n; old\n")
    assert not looks_like_ansible(path, "")
    assert not looks_like_ansible(path, "# only a comment\n")
    assert not looks_like_ansible(path, "hosts:\n  web1: {address: x\n")  # broken native: its YAML error
    assert not looks_like_ansible(path, "- web1\n- web2\n")


# --- bad input: one line naming the file, the line (INI) or key path (YAML), and the problem -------------

BAD = [
    (
        "[web:foo]\nh1\n",
        "hosts:1: section [web:foo] has an unknown type 'foo' (expected [web], [web:children] or [web:vars])",
    ),
    (
        "[web]\nh1\n[prod:children]\nweb\nh1\n",
        "hosts:5: [prod:children] names 'h1', which is a host: it lists groups only",
    ),
    ("[prod:children]\nweb\n", "hosts:2: [prod:children] includes undefined group 'web'"),
    (
        "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n",
        "hosts:6: group cycle: 'a' cannot be a child of 'c', which is below it",
    ),
    ("[a:children]\na\n", "hosts:2: group cycle: 'a' cannot be a child of itself"),
    ("[web]\nweb[5:1]\n", "hosts:2: host pattern 'web[5:1]': range [5:1] goes backwards (no host)"),
    (
        "[web]\nweb[01:5]\n",
        "hosts:2: host pattern 'web[01:5]': zero-padded range [01:5] needs begin and end of one width",
    ),
    ("[web]\nweb[1:x]\n", "hosts:2: host pattern 'web[1:x]': range [1:x] is neither numeric nor single letters"),
    ("[web]\nweb[1:4:0]\n", "hosts:2: host pattern 'web[1:4:0]': the step of [1:4:0] must be a whole number above 0"),
    ("[web]\nweb[1-4]\n", "hosts:2: host pattern 'web[1-4]': a range is [begin:end] or [begin:end:step], got [1-4]"),
    ("[web]\nweb[1:4\n", "hosts:2: host pattern 'web[1:4': unbalanced '[' and ']'"),
    ("[web]\nh1 http_port\n", "hosts:2: expected key=value after host 'h1', got 'http_port'"),
    ("[web]\nh1 motd='unclosed\n", 'hosts:2: cannot parse host line "h1 motd=\'unclosed": No closing quotation'),
    (
        "[web]\nhttp_port=80\n",
        "hosts:2: expected a host name, got 'http_port=80' (a group's variables go in a [web:vars] section)",
    ),
    ("[web]\nh1\n[web:vars]\nhttp_port\n", "hosts:4: expected NAME=VALUE in [web:vars], got 'http_port'"),
    ("[web]\nh1\n[db:vars]\nx=1\n", "hosts:3: section [db:vars] is for a group that is not defined: 'db'"),
    (
        "[web servers]\nh1\n",
        "hosts:1: invalid section header '[web servers]': expected [group], [group:children] or [group:vars]",
    ),
    ("[web]\nh1\n[web:children]\nweb servers\n", "hosts:4: expected a group name in [web:children], got 'web servers'"),
    ("[web]\nh1:\n", "hosts:2: host pattern 'h1:' ends in ':' (a port is written host:PORT)"),
    ("[web]\nh1:70000\n", "hosts:2: host 'h1': port must be between 1 and 65535, got 70000"),
    ("[web]\nh$1\n", "hosts:2: not a valid host name: 'h$1'"),
    ("[web]\nh1 ansible_port=http\n", "hosts:2: ansible_port: expected a port number (1-65535), got 'http'"),
    (
        "[web]\nh1\n[web:vars]\nansible_become=maybe\n",
        "hosts:4: ansible_become: expected a boolean (true/false, yes/no, 1/0), got 'maybe'",
    ),
    (
        "[web]\nh1 ansible_host='{{ inventory_hostname }}.lan'\n",
        "hosts:2: ansible_host: templates are not rendered in connection variables: '{{ inventory_hostname }}.lan'",
    ),
    (
        "[web]\nh1\n[web:vars]\nansible_group_priority=high\n",
        "hosts:4: ansible_group_priority: expected a whole number, got 'high'",
    ),
    ("[web]\n[db]\n", "hosts: no hosts: the Ansible inventory defines no host"),
    (
        "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n",
        "hosts: encrypted with Ansible Vault: decrypt it first (ansible-vault decrypt)",
    ),
]

BAD_YAML = [
    (
        "all:\n  children:\n    web:\n      host:\n        h1:\n",
        "inv.yml: all.children.web.host: unknown key (expected one of: hosts, children, vars)",
    ),
    ("all:\n  hosts: [h1, h2]\n", "inv.yml: all.hosts: expected a mapping, got a list"),
    (
        "all:\n  hosts:\n    h1: {ansible_port: 0}\n",
        "inv.yml: all.hosts.h1.ansible_port: ansible_port: expected a port number (1-65535), got 0",
    ),
    (
        "all:\n  hosts:\n    h1: {ansible_become: maybe}\n",
        "inv.yml: all.hosts.h1.ansible_become: ansible_become: expected a boolean",
    ),
    ("web:\n  hosts:\n    'h[3:1]':\n", "inv.yml: web.hosts.h[3:1]: host pattern 'h[3:1]': range [3:1] goes backwards"),
    (
        "a:\n  children:\n    b:\n      children:\n        a:\n",
        "inv.yml: a.children.b: group cycle: 'b' cannot be a child of 'a', which is below it",
    ),
    ("web:\n  hosts:\n    h1:\n    h1:\n", "inv.yml:4:5: YAML syntax error: duplicate key 'h1'"),
    (
        "plugin: amazon.aws.aws_ec2\nregions: [us-east-1]\n",
        "inv.yml: plugin: an inventory plugin's configuration, not an inventory",
    ),
    ("all:\n  vars: {x: 1}\n", "inv.yml: no hosts: the Ansible inventory defines no host"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_ini_is_one_line_with_the_line_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_inventory("./hosts")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "message"), BAD_YAML, ids=[m for _, m in BAD_YAML])
def test_bad_ansible_yaml_is_one_line_with_the_key_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text, "inv.yml")
    with pytest.raises(UserError) as caught:
        load_inventory("inv.yml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_documentation_usa_ini_example_is_refused_like_ansible_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # [usa:children] names northeast, southwest and northwest, which that example never defines:
    # ansible-core refuses it ("Section [usa:children] includes undefined group 'northeast'"), and so
    # do we; the YAML form of the same example declares them (empty) and loads.
    monkeypatch.chdir(tmp_path)
    shutil.copy(CASES / "nested.ini", tmp_path / "hosts")
    with pytest.raises(UserError, match=r"^hosts:23: \[usa:children\] includes undefined group 'northeast'$"):
        load_inventory("./hosts")
    completed = (CASES / "nested.ini").read_text() + "\n[northeast]\n[southwest]\n[northwest]\n"
    inventory = load_inventory(str(write(tmp_path, completed)))
    assert limit(inventory, "usa") == ["host1", "host2", "host3"]
    yml = load_inventory(str(CASES / "nested.yml"))
    assert [(h.name, h.vars, set(h.groups)) for h in inventory.hosts] == [
        (h.name, h.vars, set(h.groups)) for h in yml.hosts
    ]
    assert {g: set(members) for g, members in inventory.groups.items()} == {g: set(m) for g, m in yml.groups.items()}


def test_load_ansible_inventory_reads_the_file_itself(tmp_path: Path) -> None:
    inventory = load_ansible_inventory(CASES / "basic.ini")
    assert inventory.path == CASES / "basic.ini" and len(inventory.hosts) == 6
