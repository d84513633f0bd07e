"""Choosing hosts: ``--limit`` and a playbook's ``hosts:`` as Ansible's host patterns over an inventory. Pure.

A pattern is a list of items, comma-separated (or, with no comma in it, colon-separated as in Ansible's
older form, ``web:&paris:!web3``, a bracketed ``[1:3]`` or an IPv6 address staying whole). An item is:

- a host name, a group name (its hosts), ``all``, or a shell-style glob over both;
- ``~REGEX``: the host and group names the regex matches from their start;
- any of those with a subscript, ``web[0]``, ``web[-1]``, ``web[1:3]``, ``web[2:]``: those of its
  matches, in inventory order;
- prefixed ``&``: only the hosts also matched by it; prefixed ``!``: not the hosts matched by it.

As in Ansible, the plain items are taken together first, then each ``&`` item, then each ``!`` item;
with only ``&`` and ``!`` items the plain part is ``all``. (``@FILE`` items are read from the file by
``load.limitfile`` before this module sees the pattern.) Unlike Ansible, which warns and goes on, an
item that matches nothing is an error: a typo must not silently shrink, or an exclusion silently
keep, the hosts of a rollout.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from remediate.errors import UserError
from remediate.limits import regex_problem
from remediate.model import Host, Inventory
from remediate.yamlnode import display_path

# Ansible's own (inventory/manager.py): a pattern ending in [N], [-N], [N:M] or [N:].
_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$")
# With no comma, colons separate items, except inside [...] (a range or a subscript).
_COLON_ITEM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_IPV6 = re.compile(r"^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*$")  # two colons or more: an address, whole
_GLOB_CHARACTERS = (".", "?", "*", "[")


@dataclass(frozen=True)
class PatternItem:
    text: str  # as written, for messages
    operator: str  # "" (add), "&" (intersect) or "!" (exclude)
    expression: str  # a name, glob or ~regex, without its subscript
    subscript: tuple[int, int | None] | None = None  # (start, end or None for one), end -1: to the last


def split_pattern(pattern: str) -> list[str]:
    """The items of a pattern, as Ansible splits them (``split_host_pattern``), stripped, none empty."""
    if "," in pattern:
        items = pattern.split(",")
    elif _IPV6.match(pattern.strip()):
        items = [pattern]
    else:
        items = _COLON_ITEM.findall(pattern)
    return [item.strip() for item in items if item.strip()]


def parse_item(text: str, what: str) -> PatternItem:
    operator = text[0] if text[0] in "&!" else ""
    expression = text[len(operator) :].strip()
    if not expression:
        raise UserError(f"{what}: '{text}' has nothing after its '{operator}'")
    if expression.startswith("@"):
        raise UserError(f"{what}: '{text}': an @FILE item is read only in --limit")
    if expression.startswith("~"):
        problem = regex_problem(expression[1:])
        if problem:
            raise UserError(f"{what}: '{text}': {problem}")
        return PatternItem(text, operator, expression)
    match = _SUBSCRIPT.match(expression)
    if not match:
        return PatternItem(text, operator, expression)
    base, index, start, separator, end = match.groups()
    if separator == "-":
        raise UserError(f"{what}: '{text}': a range subscript is [x:y] (inclusive), not [x-y]")
    subscript = (int(index), None) if index is not None else (int(start), int(end) if end else -1)
    return PatternItem(text, operator, base, subscript)


def select_hosts(inventory: Inventory, patterns: str, what: str) -> tuple[Host, ...]:
    """The hosts a pattern names, in inventory order. Every item must match at least one host."""
    lost = "," not in patterns and not _IPV6.match(patterns.strip()) and patterns.count("[") != patterns.count("]")
    if lost:  # colon-splitting would drop an unpaired bracket: Ansible then reads '~[' as '~', every host
        raise UserError(f"{what}: '{patterns}': a '[' without its ']' (or the other way round)")
    items = [parse_item(text, what) for text in split_pattern(patterns)]
    ordered = [i for i in items if not i.operator] or [PatternItem("all", "", "all")]
    ordered += [i for i in items if i.operator == "&"] + [i for i in items if i.operator == "!"]
    chosen: set[str] = set()
    for item in ordered:
        matched = _apply_subscript(_matches(inventory, item.expression), item, inventory, what)
        if not matched:
            raise UserError(f"{what}: '{item.text}' matches no host or group in {display_path(inventory.path)}")
        if item.operator == "&":
            chosen &= set(matched)
        elif item.operator == "!":
            chosen -= set(matched)
        else:
            chosen.update(matched)
    if not chosen:
        raise UserError(f"{what}: '{patterns}' names no host")
    return tuple(h for h in inventory.hosts if h.name in chosen)


def _matches(inventory: Inventory, expression: str) -> list[str]:
    """Host names ``expression`` matches, in inventory order: a group's hosts when it names groups, and
    hosts by name when it names no group or is a regex or a glob (Ansible's ``_enumerate_matches``)."""
    names = [h.name for h in inventory.hosts]
    if expression == "all":
        return names
    if expression in names and expression not in inventory.groups:
        return [expression]
    regex = re.compile(expression[1:] if expression.startswith("~") else fnmatch.translate(expression))
    groups = [g for g in inventory.groups if regex.match(g)]
    found = {member for group in groups for member in inventory.groups[group]}
    if not groups or expression.startswith("~") or any(c in expression for c in _GLOB_CHARACTERS):
        found.update(n for n in names if regex.match(n))
    return [n for n in names if n in found]


def _apply_subscript(matched: list[str], item: PatternItem, inventory: Inventory, what: str) -> list[str]:
    if item.subscript is None or not matched:
        return matched
    start, end = item.subscript
    try:
        if end is None:
            return [matched[start]]
    except IndexError:
        raise UserError(
            f"{what}: '{item.text}': {item.expression} has {len(matched)} host(s) in"
            f" {display_path(inventory.path)}, no [{start}]"
        ) from None
    return matched[start : (len(matched) - 1 if end == -1 else end) + 1]
