"""Reading YAML documents with errors that name the file, the key path and the problem.

Every loader (inventory, playbook) walks its document through ``Node`` so that a bad value anywhere
comes out as one line such as ``playbooks/fix.yml: steps[2].line_patch.regex: expected a string``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import UserError


def display_path(path: Path) -> str:
    """The path as the operator typed it, relative to the working directory when it is below it."""
    try:
        return os.path.relpath(path) if path.is_absolute() and path.resolve().is_relative_to(Path.cwd()) else str(path)
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
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = " ".join(str(p) for p in (e.context, e.problem) if p)
        raise UserError(f"{shown}{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as e:
        raise UserError(f"{shown}: YAML syntax error: {e}") from None


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
            path = f"{self.key_path}.{key}" if self.key_path else key
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
