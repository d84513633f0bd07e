"""Ansible's static inventories (INI and YAML) -> the typed ``Inventory``, so ``--inventory /etc/ansible/hosts``
works with the file as it is.

``looks_like_ansible`` tells an Ansible file from a native one by its content; ``load_ansible_inventory``
reads it the way ansible-core's ``ini`` and ``yaml`` inventory plugins do (checked against ansible-core
2.19's ``ansible-inventory --list``), with these decisions:

- Groups: ``[group]``, ``[group:children]`` and ``[group:vars]`` in INI, ``hosts:``/``children:``/``vars:``
  (nested to any depth) in YAML. A group's members are its own hosts and those of all its children,
  recursively, in inventory order, so ``--limit usa`` selects every host below ``usa``. ``all`` is not
  listed in ``Inventory.groups`` (``select_hosts`` knows it); ``ungrouped`` (the hosts in no other group) is
  listed only when it has members. A host's ``groups`` are every group it belongs to, directly or
  through children, in the order the groups first appear.
- Hosts: ranges expand as in Ansible (``www[01:50].example.com`` is www01 .. www50, zero-padded,
  ``[01:50:2]`` has a stride, ``db-[a:f]`` is alphabetic); ``host:2222`` sets ``ansible_port`` where the
  host first appears. Hosts keep the order in which they first appear in the file.
- Variables, lowest precedence first: ``all``'s vars, then the vars of each group the host belongs to,
  ordered like Ansible by depth (parents before children), then ``ansible_group_priority`` (default 1),
  then group name (ASCII: of two groups at the same depth, the later name wins), then host vars (a host
  listed on several lines gets the variables of all of them, a later line winning). ``group_vars/`` and
  ``host_vars/`` beside the file (``ansible_vars``) take part as ansible-core's default
  ``VARIABLE_PRECEDENCE`` orders them: the file's group vars (all's first) < ``group_vars/all`` <
  ``group_vars/`` of the groups (same order) < the file's host vars < ``host_vars/``.
- Value types: INI ``key=value`` values, on host lines and in ``[group:vars]`` alike, are read with
  Python's ``ast.literal_eval`` where that succeeds (``80`` is an int, ``True`` a bool, ``'80'`` a string,
  ``[1, 2]`` a list) and are strings otherwise. That is what ansible-core does (its documentation says
  ``:vars`` values are strings, but ``[web:vars] myvar=23`` gives the int 23 there too), so a template
  sees the values Ansible's would. YAML values keep their YAML types.
- Connection: ``ansible_host`` (or ``ansible_ssh_host``) is the address (default: the inventory name),
  ``ansible_port``/``ansible_ssh_port`` the port (default 22), ``ansible_user``/``ansible_ssh_user`` the
  user (default ``root``, like native inventories, where Ansible's would be the local user),
  ``ansible_ssh_private_key_file``/``ansible_private_key_file`` the identity file (``~`` and relative paths
  resolved like native ones, against the inventory's folder). As in Ansible, the ``ssh`` variants win
  when both are set. These are taken out of the host's vars. known_hosts is ``~/.ssh/known_hosts`` unless
  ``ansible_ssh_common_args`` or ``ansible_ssh_extra_args`` has ``-o UserKnownHostsFile=FILE`` (the first
  file named); host keys are always checked, whatever ``StrictHostKeyChecking`` those args hold. The
  settings the inventory gave are the host's ``explicit`` ones (when the model has that field), so
  ssh_config fills only the others, as it would for Ansible's ``ssh``. Every host is reached over SSH,
  so a setting that would make Ansible reach it otherwise is refused naming where it was set rather than
  ignored (``_refuse_other_reach``): ``ansible_connection`` other than ssh/paramiko, a become method
  other than sudo or user other than root, ssh args that choose another way in (``ProxyCommand``,
  ``-J``, ``-p``, ...), ``ansible_ssh_executable``. Other variables stay in vars and change nothing.
- ``ansible_become`` is read as Ansible's booleans (yes/no, true/false, on/off, 1/0, y/n, t/f, any case)
  and kept in vars as a bool (and set on ``Host.become`` when the model has that field). Password
  variables (``ansible_password``, ``ansible_become_password``, ...) are secrets: masked in all output.
- Stricter than Ansible, each a one-line error naming the file and the line (INI) or key path (YAML):
  an unknown section type, a ``:children`` entry that names a host or an undefined group (Ansible refuses
  the latter too), a group cycle, a bad or empty range such as ``[5:1]``, a line that is neither a host,
  a variable nor a group where one is expected, an unknown key in a YAML group (Ansible only warns), a
  host name with characters outside letters, digits and ``.-_:%``, a ``{{ template }}`` in a connection
  variable (it is not rendered), a Vault-encrypted file (a ``!vault`` value is a YAML error naming its
  line, as a Vault value), an inventory plugin's configuration (``plugin:``), an inventory without hosts.
"""

from __future__ import annotations

import ast
import re
import shlex
import string
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from remediate.errors import UserError
from remediate.limits import INVENTORY_MAX_HOSTS, NUMBER_MAX_DIGITS
from remediate.load.ansible_vars import VarsFileValue, VarsReader
from remediate.load.names import DEFAULT_KNOWN_HOSTS, HOST_KEYS, local_path
from remediate.model import Host, Inventory, InventoryLayout
from remediate.yamlnode import Node, SafeLoader, check_yaml_bounds, display_path, load_yaml

NATIVE_TOP_KEYS = frozenset({"defaults", "vars", "hosts", "groups"})
GROUP_KEYS = ("hosts", "children", "vars")
GROUP_MAX_ANCESTORS = 200

ADDRESS_VARS = ("ansible_host", "ansible_ssh_host")  # later wins, as in Ansible's ssh connection plugin
PORT_VARS = ("ansible_port", "ansible_ssh_port")
USER_VARS = ("ansible_user", "ansible_ssh_user")
KEY_VARS = ("ansible_private_key_file", "ansible_ssh_private_key_file")
SSH_ARGS_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args")
SECRET_VARS = frozenset(
    {
        "ansible_password",
        "ansible_ssh_pass",
        "ansible_ssh_password",
        "ansible_become_password",
        "ansible_become_pass",
        "ansible_sudo_pass",
        "ansible_sudo_password",
        "ansible_su_pass",
        "ansible_su_password",
    }
)
# What reaches a host the way remediate does (paramiko's SSH); any other connection plugin is refused.
SSH_CONNECTIONS = frozenset(
    {"ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh"}
)
# ssh -o options (lowercased) and flags that leave the host, the user and the key alone: accepted, and
# unused (keys are always checked, whatever StrictHostKeyChecking says). Any other one is refused.
HARMLESS_SSH_OPTIONS = frozenset(
    {
        "userknownhostsfile",
        "stricthostkeychecking",
        "controlmaster",
        "controlpersist",
        "controlpath",
        "serveraliveinterval",
        "serveralivecountmax",
        "connecttimeout",
        "connectionattempts",
        "compression",
        "loglevel",
        "tcpkeepalive",
        "identitiesonly",
        "preferredauthentications",
        "pubkeyauthentication",
        "passwordauthentication",
        "kbdinteractiveauthentication",
        "gssapiauthentication",
        "hashknownhosts",
        "checkhostip",
        "forwardagent",
    }
)
HARMLESS_SSH_FLAGS = frozenset({"-4", "-6", "-A", "-a", "-C", "-q", "-T", "-t", "-tt", "-v", "-vv", "-vvv", "-x", "-X"})
# Settings of Ansible's ssh connection that replace how it connects; remediate has no equivalent.
UNSUPPORTED_SSH_VARS = ("ansible_ssh_executable",)
BOOLEANS_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})  # Ansible's, compared lowercased
BOOLEANS_FALSE = frozenset({"n", "no", "off", "0", "false", "f"})

# ansible-core's INI grammar: [group], [group:kind], optional trailing "# comment".
_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
# A host with a port: "[address]:port" or "name:port" (brackets inside a name are ranges).
_BRACKETED_HOST_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
_HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
_BRACKETED_NAME = re.compile(r"^\[[^\[\],'\"{}]+\]$")  # "[web servers]", never a YAML flow list of names
_HOST_NAME = re.compile(r"^[\w.\-:%]+$")
_HOST_TOKEN = re.compile(r"^[\w.\-:%\[\]]+$")  # before range expansion
_VAR_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")

Fail = Callable[[str], UserError]  # makes the one-line error for a problem at a known place


# --- detection -------------------------------------------------------------------------------------------


def looks_like_ansible(path: Path, text: str) -> bool:
    """Whether ``text`` (the file at ``path``) is an Ansible inventory rather than a native one.

    A YAML mapping is native when its top-level keys are native ones (``defaults``, ``vars``, ``hosts``,
    ``groups``) and its ``hosts`` hold native host settings; it is Ansible's when it has ``all`` (or
    ``plugin``) or a group with ``hosts``/``children``/``vars``. Text that is not a YAML mapping is
    Ansible's INI when it has a ``[section]`` line or every line is a host line (``name key=value ...``).
    Anything else is left to the native loader, whose errors then apply (a broken native file still
    gets its YAML syntax error). A ``.ini`` file is always INI.
    """
    if path.suffix == ".ini" or text.lstrip().startswith("$ANSIBLE_VAULT;"):
        return True
    data = _yaml_or_none(text, display_path(path))
    if isinstance(data, dict):
        return _ansible_yaml_shape(data)
    return _ini_shape(text)


def _yaml_or_none(text: str, shown: str) -> Any:
    """The YAML document, or None when the text is not YAML (so possibly INI). Past a YAML limit (an alias
    bomb, nesting too deep) it is a UserError: such text is YAML, and an INI reader must not guess at it."""
    try:
        check_yaml_bounds(text, shown)
        # This only looks at the shape, and a fleet's inventory is long: plain safe loading, libyaml's.
        return yaml.load(text, Loader=SafeLoader)
    except UserError:
        raise
    except Exception:  # any YAML or constructor error: not YAML
        return None


def _ansible_yaml_shape(data: dict[Any, Any]) -> bool:
    def group_like(value: Any) -> bool:
        return value is None or (isinstance(value, dict) and set(value) <= set(GROUP_KEYS))

    def has_group_keys(value: Any) -> bool:
        return isinstance(value, dict) and bool(set(value) & set(GROUP_KEYS))

    if set(data) <= NATIVE_TOP_KEYS:
        hosts = data.get("hosts")
        native_hosts = isinstance(hosts, dict) and all(
            settings is None or (isinstance(settings, dict) and set(settings) <= set(HOST_KEYS))
            for settings in hosts.values()
        )
        if native_hosts:
            return False
        # Only groups named like native keys, with Ansible's group keys, and no native reading possible.
        return all(group_like(v) for v in data.values()) and any(has_group_keys(v) for v in data.values())
    return "all" in data or "plugin" in data or any(has_group_keys(v) for v in data.values())


def _ini_shape(text: str) -> bool:
    lines = [s for s in (raw.strip() for raw in text.lstrip("\ufeff").splitlines()) if s and s[0] not in "#;"]
    if not lines:
        return False
    if any(_SECTION.match(line) or _BRACKETED_NAME.match(line) for line in lines):
        return True  # a section header, or a broken one (the INI reader says what is wrong with it)
    return all(_host_line_shape(line) for line in lines)


def _host_line_shape(line: str) -> bool:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return False
    if not tokens:
        return True  # only a comment after all
    first = tokens[0]
    return (
        bool(_HOST_TOKEN.match(first))
        and not first.endswith(":")
        and all(_VAR_ASSIGNMENT.match(token) for token in tokens[1:])
    )


# --- the model both forms are read into ------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    value: Any
    where: str  # ":LINE" (INI) or ": key.path" (YAML): what follows the file name in an error
    file: Path | None = None  # a group_vars/ or host_vars/ file; None: the inventory itself


@dataclass
class _Group:
    name: str
    hosts: dict[str, None] = field(default_factory=dict)  # an ordered set
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    vars: dict[str, _Value] = field(default_factory=dict)


class _VarsFiles:
    """group_vars/ and host_vars/ beside the inventory, each group's and host's read once."""

    def __init__(self, reader: VarsReader) -> None:
        self.reader = reader
        self.groups: dict[str, dict[str, _Value]] = {}

    def group(self, name: str) -> dict[str, _Value]:
        if name not in self.groups:
            self.groups[name] = _values(self.reader.variables("group_vars", name))
        return self.groups[name]

    def host(self, name: str) -> dict[str, _Value]:
        return _values(self.reader.variables("host_vars", name))


def _values(found: dict[str, VarsFileValue]) -> dict[str, _Value]:
    return {key: _Value(v.value, f": {v.key_path}", v.file) for key, v in found.items()}


class _Builder:
    """Hosts, groups, edges and variables as Ansible's InventoryData holds them, then the typed Inventory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.groups: dict[str, _Group] = {}
        self.hosts: dict[str, dict[str, _Value]] = {}  # name -> host vars, in first-seen order
        self.named = 0  # host names given so far, repeats included
        self.group("all")
        self.group("ungrouped")
        # all's first child, as in ansible-core's InventoryData (--list and --graph show it first)
        self.add_child("all", "ungrouped", "")

    def error(self, where: str, problem: str) -> UserError:
        return UserError(f"{display_path(self.path)}{where}: {problem}")

    def at(self, value: _Value, problem: str) -> UserError:
        """The error about a value, naming the file that set it (the inventory or a vars file)."""
        return UserError(f"{self.source(value)}: {problem}")

    def source(self, value: _Value) -> str:
        return f"{display_path(value.file or self.path)}{value.where}"

    def group(self, name: str) -> _Group:
        if name not in self.groups:
            self.groups[name] = _Group(name)
        return self.groups[name]

    def add_host(self, name: str, group: str, port: int | None, where: str) -> None:
        self.named += 1
        if name not in self.hosts:
            self.hosts[name] = {}
            if port is not None:
                self.hosts[name]["ansible_port"] = _Value(port, where)
        self.groups[group].hosts[name] = None

    def room(self) -> int:
        """How many more host names a pattern may give: a name is counted each time a line or entry names
        it, so the bound is on the work of expanding, not only on the fleet's size."""
        return INVENTORY_MAX_HOSTS - self.named

    def add_child(self, parent: str, child: str, where: str) -> None:
        if child == "all":
            raise self.error(where, f"'all' cannot be a child of '{parent}': it is every group's parent")
        parent_group, child_group = self.group(parent), self.group(child)
        if child in parent_group.children:
            return
        if child == parent:
            raise self.error(where, f"group cycle: '{parent}' cannot be a child of itself")
        if parent in self._descendants(child):
            raise self.error(where, f"group cycle: '{child}' cannot be a child of '{parent}', which is below it")
        parent_group.children.append(child)
        child_group.parents.append(parent)

    def _descendants(self, name: str) -> set[str]:
        seen: set[str] = set()
        pending = [name]
        while pending:
            for child in self.groups[pending.pop()].children:
                if child not in seen:
                    seen.add(child)
                    pending.append(child)
        return seen

    def build(self) -> Inventory:
        if not self.hosts:
            raise self.error("", "no hosts: the Ansible inventory defines no host")
        for group in list(self.groups.values()):
            if group.name != "all" and not group.parents:
                self.add_child("all", group.name, "")
        ancestors = {name: self._ancestors(name) for name in self.groups}
        for name, above in ancestors.items():
            # _depths recurses once per level: bounded here, far below Python's recursion limit
            if len(above) > GROUP_MAX_ANCESTORS:
                raise self.error("", f"group '{name}' has more than {GROUP_MAX_ANCESTORS} groups above it")
        self._reconcile_ungrouped(ancestors)
        depth = self._depths()
        priority = {name: self._priority(group) for name, group in self.groups.items()}
        order = {name: i for i, name in enumerate(self.groups)}

        direct: dict[str, list[str]] = {name: [] for name in self.hosts}
        for group in self.groups.values():
            for host in group.hosts:
                direct[host].append(group.name)
        hosts: list[Host] = []
        secrets: set[str] = set()
        files = _VarsFiles(VarsReader(self.path.parent))
        layout_vars: dict[str, dict[str, Any]] = {}
        sources: dict[str, dict[str, str]] = {}
        connection_sources: dict[str, dict[str, str]] = {}
        for name, host_vars in self.hosts.items():
            member_of = {"all"}.union(*(ancestors[g] | {g} for g in direct[name]))
            ranked = sorted(member_of - {"all"}, key=lambda g: (depth[g], priority[g], g))
            # ansible-core's VariableManager with its default VARIABLE_PRECEDENCE: the inventory file's
            # vars of all, then of the host's groups; group_vars/all, then group_vars/ of the groups
            # (the same order); then the file's host vars, then host_vars/. So group_vars/all.yml
            # overrides a child group's [web:vars], and a [web:vars] never overrides group_vars/web.yml.
            merged: dict[str, _Value] = dict(self.groups["all"].vars)
            for group_name in ranked:
                merged.update(self.groups[group_name].vars)
            for group_name in ("all", *ranked):
                merged.update(files.group(group_name))
            merged.update(host_vars)
            merged.update(files.host(name))
            layout_vars[name] = {key: value.value for key, value in merged.items()}
            sources[name] = {key: self.source(value) for key, value in merged.items()}
            groups = tuple(sorted(member_of - {"all"}, key=order.__getitem__))
            typed, connection_sources[name] = self._host(name, groups, merged, secrets)
            hosts.append(typed)
        members: dict[str, list[str]] = {g: [] for g in self.groups if g != "all"}
        for typed in hosts:
            for group_name in typed.groups:
                members[group_name].append(typed.name)
        if not members["ungrouped"]:
            del members["ungrouped"]
        listed = {g: tuple(names) for g, names in members.items()}
        layout = InventoryLayout(
            children={name: tuple(group.children) for name, group in self.groups.items()},
            hosts={name: tuple(group.hosts) for name, group in self.groups.items() if name != "all"},
            variables=layout_vars,
            sources=sources,
            connection_sources=connection_sources,
        )
        return Inventory(path=self.path, hosts=tuple(hosts), groups=listed, secrets=frozenset(secrets), layout=layout)

    def _ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        pending = [name]
        while pending:
            for parent in self.groups[pending.pop()].parents:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    def _reconcile_ungrouped(self, ancestors: dict[str, set[str]]) -> None:
        """As Ansible: a host in no group but ``all`` is ``ungrouped``; one in any other group is not."""
        implicit = {"all", "ungrouped"}
        in_groups: dict[str, set[str]] = {name: set() for name in self.hosts}
        for group in self.groups.values():
            for host in group.hosts:
                in_groups[host] |= {group.name} | ancestors[group.name]
        ungrouped = self.groups["ungrouped"]
        ungrouped.hosts = {h: None for h in ungrouped.hosts if not in_groups[h] - implicit}
        ungrouped.hosts.update((h, None) for h in self.hosts if in_groups[h] <= {"all"})

    def _depths(self) -> dict[str, int]:
        """A group's depth is its longest path from ``all`` (0), as Ansible's Group.depth."""
        depth: dict[str, int] = {}

        def of(name: str) -> int:
            if name not in depth:
                parents = self.groups[name].parents
                depth[name] = 1 + max(of(p) for p in parents) if parents else 0
            return depth[name]

        for name in self.groups:
            of(name)
        return depth

    def _priority(self, group: _Group) -> int:
        value = group.vars.pop("ansible_group_priority", None)  # Ansible keeps it out of the vars too
        if value is None:
            return 1
        if isinstance(value.value, int) and not isinstance(value.value, bool):
            return value.value
        if isinstance(value.value, str) and value.value.strip().lstrip("-").isdigit():
            return int(value.value)
        raise self.at(value, f"ansible_group_priority: expected a whole number, got {value.value!r}")

    def _host(
        self, name: str, groups: tuple[str, ...], merged: dict[str, _Value], secrets: set[str]
    ) -> tuple[Host, dict[str, str]]:
        """The typed host, and what set each of its connection settings (for ``remediate inventory``)."""
        self._refuse_other_reach(merged)
        chosen: dict[str, str] = {}

        def take(setting: str, keys: tuple[str, ...]) -> _Value | None:
            found = [(key, merged.pop(key)) for key in keys if key in merged]
            if not found:
                return None
            key, value = found[-1]
            chosen[setting] = f"{key} ({self.source(value)})"
            return value

        address = self._text(take("address", ADDRESS_VARS), "ansible_host") or name
        port = self._port(take("port", PORT_VARS))
        user = self._text(take("user", USER_VARS), "ansible_user") or "root"
        identity_file = self._text(take("identity_file", KEY_VARS), "ansible_ssh_private_key_file")
        explicit = set(chosen)  # what the inventory set itself; ssh_config may fill the rest
        known_hosts = None
        for key in SSH_ARGS_VARS:
            if key in merged:
                self._check_ssh_args(merged[key], key)
            if key in merged and known_hosts is None:
                known_hosts = self._known_hosts_option(merged[key], key)
                if known_hosts is not None:
                    explicit.add("known_hosts")
                    chosen["known_hosts"] = f"{key} ({self.source(merged[key])})"
        become = False
        if "ansible_become" in merged:
            set_by = merged["ansible_become"]
            become = self._boolean(set_by, "ansible_become")
            merged["ansible_become"] = _Value(become, set_by.where, set_by.file)
            chosen["become"] = f"ansible_become ({self.source(set_by)})"
        plain = {key: value.value for key, value in merged.items()}
        secrets.update(str(plain[key]) for key in SECRET_VARS & set(plain) if plain[key] not in (None, ""))
        host = Host(
            name=name,
            address=address,
            port=port,
            user=user,
            identity_file=local_path(identity_file, self.path),
            known_hosts=local_path(known_hosts or DEFAULT_KNOWN_HOSTS, self.path),
            groups=groups,
            vars=plain,
            become=become,
            explicit=frozenset(explicit),
        )
        return host, chosen

    def _refuse_other_reach(self, merged: dict[str, _Value]) -> None:
        """Refuse, naming the variable and the file that set it, a setting that would make Ansible reach
        the host another way than remediate's SSH as root or through sudo: obeying half of it (the address
        but not the jump host, sudo but not su) would touch a host other than, or as other than, meant."""
        connection = merged.get("ansible_connection")
        if connection is not None and str(connection.value) not in SSH_CONNECTIONS:
            raise self.at(
                connection,
                f"ansible_connection: {connection.value!r} is not supported: remediate reaches every host over"
                " SSH (set ansible_connection=ssh, or leave the host out of this inventory)",
            )
        method = merged.get("ansible_become_method")
        if method is not None and str(method.value) not in ("sudo", "ansible.builtin.sudo"):
            raise self.at(
                method, f"ansible_become_method: {method.value!r} is not supported: remediate becomes root through sudo"
            )
        for key in ("ansible_become_user", "ansible_sudo_user"):
            become_user = merged.get(key)
            if become_user is not None and str(become_user.value) != "root":
                raise self.at(
                    become_user, f"{key}: {become_user.value!r} is not supported: remediate becomes root only"
                )
        for key in UNSUPPORTED_SSH_VARS:
            if key in merged:
                raise self.at(
                    merged[key],
                    f"{key} is not supported: it changes how the host is reached, which remediate would ignore",
                )

    def _text(self, value: _Value | None, key: str) -> str | None:
        if value is None:
            return None
        if isinstance(value.value, bool) or not isinstance(value.value, str | int):
            raise self.at(value, f"{key}: expected a string, got {value.value!r}")
        text = str(value.value).strip()
        if not text:
            raise self.at(value, f"{key}: is empty")
        if "{{" in text or "{%" in text:
            raise self.at(value, f"{key}: templates are not rendered in connection variables: {text!r}")
        return text

    def _port(self, value: _Value | None) -> int:
        if value is None:
            return 22
        raw = value.value
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 65535:
            raise self.at(value, f"ansible_port: expected a port number (1-65535), got {value.value!r}")
        return raw

    def _boolean(self, value: _Value, key: str) -> bool:
        raw = value.value
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in BOOLEANS_TRUE | BOOLEANS_FALSE:
            return raw.strip().lower() in BOOLEANS_TRUE
        raise self.at(value, f"{key}: expected a boolean (true/false, yes/no, 1/0), got {raw!r}")

    def _known_hosts_option(self, value: _Value, key: str) -> str | None:
        """The first file of ``-o UserKnownHostsFile=FILE`` (or ``-oUserKnownHostsFile FILE``) in ssh args."""
        if not isinstance(value.value, str):
            return None
        try:
            tokens = shlex.split(value.value)
        except ValueError as e:
            raise self.at(value, f"{key}: cannot split {value.value!r}: {e}") from None
        for i, token in enumerate(tokens):
            if token == "-o" and i + 1 < len(tokens):
                option = tokens[i + 1]
            elif token.startswith("-o") and token != "-o":
                option = token[2:]
            else:
                continue
            name, _, setting = option.strip().replace("=", " ", 1).partition(" ")
            if name.lower() == "userknownhostsfile" and setting.split():
                return self._text(_Value(setting.split()[0], value.where, value.file), f"{key} UserKnownHostsFile")
        return None

    def _check_ssh_args(self, value: _Value, key: str) -> None:
        """Refuse ssh arguments that choose another way to the host (``-J``, ``ProxyCommand``, ``-p``,
        ``-i``, ``-F``, ...): only options that leave the host, the user and the key alone are accepted."""
        if not isinstance(value.value, str):
            raise self.at(value, f"{key}: expected a string of ssh arguments, got {value.value!r}")
        try:
            tokens = shlex.split(value.value)
        except ValueError as e:
            raise self.at(value, f"{key}: cannot split {value.value!r}: {e}") from None
        pending_option = False
        for token in tokens:
            if pending_option:
                option, pending_option = token, False
            elif token == "-o":
                pending_option = True
                continue
            elif token.startswith("-o"):
                option = token[2:]
            elif token in HARMLESS_SSH_FLAGS:
                continue
            else:
                raise self.at(
                    value,
                    f"{key}: {token!r} is not supported: only -o options that do not change how the host is reached",
                )
            name = option.strip().replace("=", " ", 1).partition(" ")[0].lower()
            if name not in HARMLESS_SSH_OPTIONS:
                raise self.at(
                    value,
                    f"{key}: -o {option.split('=')[0].split()[0] if option.split() else option} is not supported:"
                    " it changes how the host is reached, which remediate would ignore (put it in ~/.ssh/config)",
                )


# --- values and host patterns ----------------------------------------------------------------------------


def _ini_value(text: str) -> Any:
    """A ``key=value`` value as ansible-core reads it: a Python literal if it is one, else the string."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _plain(value)


def _plain(value: Any) -> Any:
    """Tuples and sets become lists, as in Ansible; types a variable cannot hold become strings."""
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    return value


def _expand_pattern(pattern: str, fail: Fail, limit: int) -> tuple[list[str], int | None]:
    """Host names and the port of a host pattern such as ``www[01:50].example.com:2222``; more than
    ``limit`` names is an error found before they are made."""
    port: int | None = None
    m = _BRACKETED_HOST_PORT.match(pattern) or _HOST_PORT.match(pattern)
    if m:
        if len(m.group(2)) > 5:  # int() of thousands of digits is refused by Python, and slow before that
            raise fail(f"host '{m.group(1)}': port must be between 1 and 65535, got {m.group(2)[:10]}...")
        pattern, port = m.group(1), int(m.group(2))
        if not 1 <= port <= 65535:
            raise fail(f"host '{pattern}': port must be between 1 and 65535, got {port}")
    if pattern.endswith(":"):
        raise fail(f"host pattern '{pattern}' ends in ':' (a port is written host:PORT)")
    names = _expand_ranges(pattern, fail, limit)
    for name in names:
        if not _HOST_NAME.match(name):
            raise fail(f"not a valid host name: {name!r}")
        if name == "---":
            raise fail("'---' is not a host name (is this a broken YAML file?)")
    return names, port


def _expand_ranges(pattern: str, fail: Fail, limit: int) -> list[str]:
    if "[" not in pattern and "]" not in pattern:
        return [pattern]
    head, bracket, rest = pattern.partition("[")
    inside, closed, tail = rest.partition("]")
    if not bracket or not closed or "[" in inside:
        raise fail(f"host pattern '{pattern}': unbalanced '[' and ']'")
    bounds = inside.split(":")
    if len(bounds) not in (2, 3):
        raise fail(f"host pattern '{pattern}': a range is [begin:end] or [begin:end:step], got [{inside}]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not step_text.isdigit() or len(step_text) > NUMBER_MAX_DIGITS or int(step_text) == 0:
        raise fail(f"host pattern '{pattern}': the step of [{inside}] must be a whole number above 0")
    step = int(step_text)
    values: list[str]
    if len(begin) == 1 and len(end) == 1 and begin in string.ascii_letters and end in string.ascii_letters:
        first, last = string.ascii_letters.index(begin), string.ascii_letters.index(end)
        if first > last:
            raise fail(f"host pattern '{pattern}': range [{inside}] goes backwards")
        values = list(string.ascii_letters[first : last + 1 : step])
    elif begin.isdigit() and end.isdigit():
        if max(len(begin), len(end), len(step_text)) > NUMBER_MAX_DIGITS:
            raise fail(f"host pattern '{pattern[:40]}...': a range bound of more than {NUMBER_MAX_DIGITS} digits")
        low, high = int(begin), int(end)
        if low > high:
            raise fail(f"host pattern '{pattern}': range [{inside}] goes backwards (no host)")
        if (high - low) // step + 1 > limit:
            raise fail(_too_many(pattern, limit))
        width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if width and len(end) != width:
            raise fail(f"host pattern '{pattern}': zero-padded range [{inside}] needs begin and end of one width")
        values = [str(n).zfill(width) for n in range(low, high + 1, step)]
    else:
        raise fail(f"host pattern '{pattern}': range [{inside}] is neither numeric nor single letters")
    names: list[str] = []
    for value in values:
        names.extend(_expand_ranges(f"{head}{value}{tail}", fail, limit - len(names)))
        if len(names) > limit:
            raise fail(_too_many(pattern, limit))
    return names


def _too_many(pattern: str, limit: int) -> str:
    return (
        f"host pattern '{pattern}' names more than the {limit} hosts left"
        f" (an inventory names at most {INVENTORY_MAX_HOSTS} hosts in all)"
    )


# --- loading ---------------------------------------------------------------------------------------------


def load_ansible_inventory(path: Path, text: str | None = None) -> Inventory:
    """An Ansible INI or YAML inventory file as an ``Inventory`` (see the module's docstring)."""
    shown = display_path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{shown}: not valid UTF-8") from None
        except OSError as e:
            raise UserError(f"{shown}: cannot read: {e.strerror}") from None
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("$ANSIBLE_VAULT;"):
        raise UserError(f"{shown}: encrypted with Ansible Vault: decrypt it first (ansible-vault decrypt)")
    builder = _Builder(path)
    data = _yaml_or_none(text, shown)
    if isinstance(data, dict) and path.suffix != ".ini":
        _read_yaml(builder, path)
    else:
        _read_ini(builder, text)
    return builder.build()


def _read_ini(b: _Builder, text: str) -> None:
    declared = {"all", "ungrouped"}  # by [group] or [group:children]; [group:vars] does not declare
    vars_sections: list[tuple[str, str]] = []
    children: list[tuple[str, str, str]] = []  # parent, child, where
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        where = f":{number}"
        section = _SECTION.match(line)
        if section:
            group, kind = section.group(1), section.group(2) or "hosts"
            if kind not in GROUP_KEYS:
                raise b.error(
                    where,
                    f"section [{group}:{kind}] has an unknown type '{kind}'"
                    f" (expected [{group}], [{group}:children] or [{group}:vars])",
                )
            b.group(group)
            if kind == "vars":
                vars_sections.append((group, where))
            else:
                declared.add(group)
            continue
        if line.startswith("[") and line.endswith("]"):
            raise b.error(where, f"invalid section header {line!r}: expected [group], [group:children] or [group:vars]")
        if kind == "hosts":
            _ini_host_line(b, line, group, where)
        elif kind == "vars":
            name, equals, value = line.partition("=")
            if not equals or not name.strip() or len(name.split()) != 1:
                raise b.error(where, f"expected NAME=VALUE in [{group}:vars], got {line!r}")
            b.groups[group].vars[name.strip()] = _Value(_ini_value(value.strip()), where)
        else:
            m = _GROUP_NAME.match(line)
            if not m:
                raise b.error(where, f"expected a group name in [{group}:children], got {line!r}")
            b.add_child(group, m.group(1), where)
            children.append((group, m.group(1), where))
    for parent, child, where in children:
        if child not in declared:
            if child in b.hosts:
                raise b.error(where, f"[{parent}:children] names '{child}', which is a host: it lists groups only")
            raise b.error(where, f"[{parent}:children] includes undefined group '{child}'")
    for group, where in vars_sections:
        if group not in declared:
            raise b.error(where, f"section [{group}:vars] is for a group that is not defined: '{group}'")


def _ini_host_line(b: _Builder, line: str, group: str, where: str) -> None:
    def fail(problem: str) -> UserError:
        return b.error(where, problem)

    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as e:
        raise fail(f"cannot parse host line {line!r}: {e}") from None
    if not tokens:
        return
    if "=" in tokens[0]:
        raise fail(f"expected a host name, got {tokens[0]!r} (a group's variables go in a [{group}:vars] section)")
    names, port = _expand_pattern(tokens[0], fail, b.room())
    variables: dict[str, Any] = {}
    for token in tokens[1:]:
        key, equals, value = token.partition("=")
        if not equals or not key:
            raise fail(f"expected key=value after host '{tokens[0]}', got {token!r}")
        variables[key] = _ini_value(value)
    for name in names:
        b.add_host(name, group, port, where)
        b.hosts[name].update({key: _Value(value, where) for key, value in variables.items()})


def _read_yaml(b: _Builder, path: Path) -> None:
    root = Node(path, "", load_yaml(path))
    top = root.entries()
    if "plugin" in top:
        raise top["plugin"].error(
            "an inventory plugin's configuration, not an inventory: write it out with"
            " 'ansible-inventory -i FILE --list --yaml' and use that"
        )
    for name, node in top.items():
        _yaml_group(b, name, node)


def _yaml_group(b: _Builder, name: str, node: Node) -> None:
    b.group(name)
    fields = node.mapping(GROUP_KEYS)
    for key, section in fields.items():
        entries = _yaml_entries(section)
        if key == "vars":
            for var, value in entries.items():
                b.groups[name].vars[var] = _Value(value.value, f": {value.key_path}")
        elif key == "children":
            for child, child_node in entries.items():
                _yaml_group(b, child, child_node)
                b.add_child(name, child, f": {child_node.key_path}")
        else:
            for pattern, host_node in entries.items():
                names, port = _expand_pattern(pattern, host_node.error, b.room())
                host_vars = {var: _Value(v.value, f": {v.key_path}") for var, v in host_node.entries().items()}
                for host in names:
                    b.add_host(host, name, port, f": {host_node.key_path}")
                    b.hosts[host].update(host_vars)


def _yaml_entries(node: Node) -> dict[str, Node]:
    """A section's mapping; a lone string is one entry (``hosts: web1``), as Ansible allows."""
    if isinstance(node.value, str):
        return {node.value: node.child(node.value, None)}
    return node.entries()
