"""Reading YAML documents with errors that name the file, the key path and the problem.

Every loader (inventory, playbook) walks its document through ``Node`` so that a bad value anywhere
comes out as one line such as ``playbooks/fix.yml: steps[2].line_patch.regex: expected a string``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from remediate.errors import UserError
from remediate.limits import NUMBER_MAX_DIGITS, YAML_MAX_ALIAS_EXPANSION, YAML_MAX_DEPTH


def display_path(path: Path) -> str:
    """The path as the operator typed it, relative to the working directory when it is below it."""
    try:
        working = os.getcwd()
    except OSError:  # the working directory is gone: nothing is below it
        return str(path)
    return _display_path(path, working)


# An inventory names its own file in every value's source (6,000 times for 1,000 hosts): resolving it each
# time was a quarter of a second of a 1,000-host run's start.
@lru_cache(maxsize=256)
def _display_path(path: Path, working: str) -> str:
    try:
        return (
            os.path.relpath(path, working)
            if path.is_absolute() and path.resolve().is_relative_to(working)
            else str(path)
        )
    except (OSError, ValueError):
        return str(path)


if TYPE_CHECKING:
    SafeLoader = yaml.SafeLoader
else:  # libyaml's parser where PyYAML has it: a fleet's inventory reads several times faster
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(SafeLoader):
    """The safe loader, refusing duplicate keys (YAML silently keeps the last, hiding a typo'd host)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{shown}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError:
        raise UserError(f"{shown}: not valid UTF-8") from None
    except OSError as e:
        raise UserError(f"{shown}: cannot read: {e.strerror}") from None
    return load_yaml_text(text, shown)


def load_yaml_text(text: str, shown: str) -> Any:
    """The document in ``text`` (from the file shown as ``shown``), refused when past a limit."""
    try:
        check_yaml_bounds(text, shown)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = " ".join(str(p) for p in (e.context, e.problem) if p)
        raise UserError(f"{shown}{where}: YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as e:  # its str() is two lines
        raise UserError(
            f"{shown}: YAML syntax error: control character {_codepoint(e.character)} at position {e.position}"
            " (write it as an escape such as \\x07 in a double-quoted string)"
        ) from None
    except yaml.YAMLError as e:
        raise UserError(f"{shown}: YAML syntax error: {one_line(str(e))}") from None


def key_text(key: str) -> str:
    """A key as it reads in a key path: quoted when it holds a newline or another unprintable character,
    so an error stays one line."""
    return key if key.isprintable() else repr(key)


def _codepoint(character: str | int) -> str:
    return f"#x{character if isinstance(character, int) else ord(character):02x}"


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class _Open:
    """A mapping or list being read by ``check_yaml_bounds``."""

    key_path: str
    is_mapping: bool
    anchor: str | None
    size: int = 1
    entries: int = 0
    key: str | None = None  # in a mapping: the key whose value comes next; None while a key is expected


_INT_TAG = "tag:yaml.org,2002:int"
_RESOLVER = yaml.resolver.Resolver()


def check_yaml_bounds(text: str, shown: str) -> None:
    """One pass over the parser's events (iterative: no recursion, no objects built) that refuses, with
    the key path, what would make building the document crash or run away: nesting deeper than
    YAML_MAX_DEPTH, aliases expanding past YAML_MAX_ALIAS_EXPANSION nodes and characters (billion
    laughs), a list or mapping as a mapping key, and integers of more than NUMBER_MAX_DIGITS digits."""
    stack: list[_Open] = []
    anchors: dict[str, tuple[int, bool]] = {}  # anchor -> (expanded size, is a collection)
    expanded = 0

    def fail(key_path: str, problem: str) -> UserError:
        return UserError(f"{shown}:{f' {key_path}:' if key_path else ''} {problem}")

    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.CollectionEndEvent):
            done = stack.pop()
            if done.anchor:
                anchors[done.anchor] = (done.size, True)
            _finish(stack, done.size)
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.is_mapping and parent.key is None
        path = "" if parent is None else parent.key_path if is_key else _child_path(parent)
        if isinstance(event, yaml.AliasEvent):
            size, is_collection = anchors.get(event.anchor or "", (1, False))
            expanded += size
            if expanded > YAML_MAX_ALIAS_EXPANSION:
                raise fail(path, f"aliases expand past {YAML_MAX_ALIAS_EXPANSION:,} nodes and characters")
            if is_key and is_collection:
                raise fail(path, "keys must be strings, got an alias of a list or mapping")
            _finish(stack, size, f"*{event.anchor}")
        elif isinstance(event, yaml.ScalarEvent):
            if _is_integer(event) and len(event.value) > NUMBER_MAX_DIGITS:
                raise fail(path, f"a number of more than {NUMBER_MAX_DIGITS} digits")
            if event.anchor:
                anchors[event.anchor] = (1 + len(event.value), False)
            _finish(stack, 1 + len(event.value), event.value)
        else:
            if is_key:
                raise fail(path, "keys must be strings, got a list or mapping")
            if len(stack) >= YAML_MAX_DEPTH:
                raise fail(path, f"nested more than {YAML_MAX_DEPTH} levels deep")
            stack.append(_Open(path, isinstance(event, yaml.MappingStartEvent), event.anchor))


def _child_path(parent: _Open) -> str:
    if not parent.is_mapping:
        return f"{parent.key_path}[{parent.entries}]"
    key = key_text(str(parent.key))
    return f"{parent.key_path}.{key}" if parent.key_path else key


def _finish(stack: list[_Open], size: int, scalar: str = "") -> None:
    """A node of ``size`` is complete: it counts in its parent, as a key or as a value."""
    if not stack:
        return
    parent = stack[-1]
    parent.size += size
    if parent.is_mapping and parent.key is None:
        parent.key = scalar or "?"
        return
    parent.entries += 1
    parent.key = None


def _is_integer(event: yaml.ScalarEvent) -> bool:
    if event.tag not in (None, "!"):
        return event.tag == _INT_TAG
    resolved = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
    return bool(resolved == _INT_TAG)


@dataclass(frozen=True)
class Node:
    """A value inside a YAML document, with where it came from."""

    file: Path
    key_path: str
    value: Any

    def error(self, problem: str) -> UserError:
        where = f" {self.key_path}:" if self.key_path else ""
        return UserError(f"{display_path(self.file)}:{where} {problem}")

    def child(self, key: str | int, value: Any) -> Node:
        if isinstance(key, int):
            path = f"{self.key_path}[{key}]"
        else:
            path = f"{self.key_path}.{key_text(key)}" if self.key_path else key_text(key)
        return Node(self.file, path, value)

    def mapping(self, allowed: Iterable[str], required: Iterable[str] = ()) -> dict[str, Node]:
        """The mapping's entries; unknown and missing keys are errors. ``None`` reads as empty."""
        value = {} if self.value is None else self.value
        if not isinstance(value, dict):
            raise self.error(f"expected a mapping, got {_type_name(value)}")
        allowed = tuple(allowed)
        for key in value:
            if not isinstance(key, str):
                raise self.error(f"keys must be strings, got {key!r}")
            if key not in allowed:
                raise self.child(key, None).error(f"unknown key (expected one of: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                raise self.error(f"missing required key '{key}'")
        return {key: self.child(key, v) for key, v in value.items()}

    def entries(self) -> dict[str, Node]:
        """A mapping with free-form string keys (host names, variables)."""
        value = {} if self.value is None else self.value
        if not isinstance(value, dict):
            raise self.error(f"expected a mapping, got {_type_name(value)}")
        for key in value:
            if not isinstance(key, str):
                raise self.error(f"keys must be strings, got {key!r}")
        return {key: self.child(key, v) for key, v in value.items()}

    def items(self) -> list[Node]:
        value = [] if self.value is None else self.value
        if not isinstance(value, list):
            raise self.error(f"expected a list, got {_type_name(value)}")
        return [self.child(i, v) for i, v in enumerate(value)]

    def string(self) -> str:
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, got {_type_name(self.value)}")
        return self.value

    def integer(self, minimum: int | None = None, maximum: int | None = None) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"expected a whole number, got {_type_name(self.value)}")
        if (minimum is not None and self.value < minimum) or (maximum is not None and self.value > maximum):
            raise self.error(f"must be between {minimum} and {maximum}, got {self.value}")
        return self.value

    def number(self, minimum: float = 0.0) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.error(f"expected a number, got {_type_name(self.value)}")
        if self.value < minimum:
            raise self.error(f"must be at least {minimum:g}, got {self.value}")
        return float(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {_type_name(self.value)}")
        return self.value


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
