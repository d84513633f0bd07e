"""The native YAML inventory -> typed ``Inventory``; host selection by name, group and glob."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from remediate.load.names import CONNECTION_KEYS, DEFAULT_KNOWN_HOSTS, HOST_KEYS, find_named_file, local_path
from remediate.load.secrets import read_vars
from remediate.model import Host, Inventory, InventoryLayout
from remediate.yamlnode import Node, display_path, load_yaml


def load_inventory(name_or_path: str) -> Inventory:
    path = find_named_file(name_or_path, "inventory", "inventory")
    from remediate.load.ansible_inventory import load_ansible_inventory, looks_like_ansible
    from remediate.load.ansible_vars import load_yaml_refusing_vault

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        text = None  # load_yaml below says what is wrong with the file
    if text is not None and looks_like_ansible(path, text):
        return load_ansible_inventory(path, text)
    # A !vault value is refused as such: the inventory may be Ansible's YAML that a vaulted value made
    # unreadable (and so not detected as Ansible's)
    root = Node(path, "", load_yaml(path) if text is None else load_yaml_refusing_vault(text, display_path(path)))
    top = root.mapping(("defaults", "vars", "hosts", "groups"))
    if "hosts" not in top or not top["hosts"].value:
        raise root.error("no hosts: an inventory needs a 'hosts' mapping with at least one host")
    defaults = _connection_settings(top["defaults"]) if "defaults" in top else {}
    secrets: set[str] = set()

    def variables(node: Node) -> dict[str, Any]:
        values, secret = read_vars(node)
        secrets.update(secret)
        return values

    common_vars = variables(top["vars"]) if "vars" in top else {}
    groups = _groups(top["groups"], variables) if "groups" in top else {}

    host_nodes = top["hosts"].entries()
    for group, (members_node, members, _) in groups.items():
        for i, member in enumerate(members):
            if member not in host_nodes:
                raise members_node.child(i, member).error(
                    f"group '{group}' names host '{member}', which is not in 'hosts'"
                )

    hosts = []
    layout_vars: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, str]] = {}
    connection_sources: dict[str, dict[str, str]] = {}
    for name, node in host_nodes.items():
        fields = node.mapping(HOST_KEYS)
        settings = {**defaults, **_connection_settings_from(fields)}
        member_of = tuple(g for g, (_, members, _) in groups.items() if name in members)
        merged: dict[str, Any] = dict(common_vars)
        for group in member_of:
            merged.update(groups[group][2])
        if "vars" in fields:
            merged.update(variables(fields["vars"]))
        address = fields["address"].string() if "address" in fields else name
        layout_vars[name] = merged
        sources[name] = _sources(top, member_of, fields)
        set_in = {key: fields[key] for key in ("address", *CONNECTION_KEYS) if key in fields}
        for key in defaults.keys() - set_in.keys():
            set_in[key] = top["defaults"].child(key, None)
        connection_sources[name] = {key: f"{display_path(path)}: {where.key_path}" for key, where in set_in.items()}
        hosts.append(
            Host(
                name=name,
                address=address,
                port=int(settings.get("port", 22)),
                user=str(settings.get("user", "root")),
                identity_file=local_path(settings.get("identity_file"), path),
                known_hosts=local_path(settings.get("known_hosts", DEFAULT_KNOWN_HOSTS), path),
                groups=member_of,
                vars=merged,
                become=bool(settings.get("become", False)),
                explicit=frozenset(settings) | ({"address"} if "address" in fields else set()),
            )
        )
    grouped = {member for _, members, _ in groups.values() for member in members}
    ungrouped = tuple(host.name for host in hosts if host.name not in grouped)
    layout = InventoryLayout(  # shaped like an Ansible inventory's, so `remediate inventory` shows both alike
        children={"all": ("ungrouped", *groups), "ungrouped": (), **{group: () for group in groups}},
        hosts={"ungrouped": ungrouped, **{group: members for group, (_, members, _) in groups.items()}},
        variables=layout_vars,
        sources=sources,
        connection_sources=connection_sources,
    )
    return Inventory(
        path=path,
        hosts=tuple(hosts),
        groups={name: members for name, (_, members, _) in groups.items()},
        secrets=frozenset(secrets),
        layout=layout,
    )


def _sources(top: Mapping[str, Node], member_of: tuple[str, ...], fields: Mapping[str, Node]) -> dict[str, str]:
    """Where each of a host's variables was set, in the order they override each other."""
    places = [top["vars"]] if "vars" in top else []
    for group in member_of:
        group_node = top["groups"].child(group, top["groups"].value[group])
        if isinstance(group_node.value, dict) and "vars" in group_node.value:
            places.append(group_node.child("vars", group_node.value["vars"]))
    if "vars" in fields:
        places.append(fields["vars"])
    found: dict[str, str] = {}
    for place in places:
        found.update({key: f"{display_path(child.file)}: {child.key_path}" for key, child in place.entries().items()})
    return found


def _connection_settings(node: Node) -> dict[str, Any]:
    return _connection_settings_from(node.mapping(CONNECTION_KEYS))


def _connection_settings_from(fields: Mapping[str, Node]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key in CONNECTION_KEYS:
        if key in fields:
            if key == "port":
                settings[key] = fields[key].integer(1, 65535)
            elif key == "become":
                settings[key] = fields[key].boolean()
            else:
                settings[key] = fields[key].string()
    return settings


def _groups(
    node: Node, variables: Callable[[Node], dict[str, Any]]
) -> dict[str, tuple[Node, tuple[str, ...], dict[str, Any]]]:
    groups = {}
    for name, group_node in node.entries().items():
        if name == "all":
            raise group_node.error("'all' is reserved: it always means every host")
        fields = group_node.mapping(("hosts", "vars"))
        members_node = fields.get("hosts", group_node.child("hosts", []))
        members = tuple(member.string() for member in members_node.items())
        groups[name] = (members_node, members, variables(fields["vars"]) if "vars" in fields else {})
    return groups
