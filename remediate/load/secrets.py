"""Secret variables and their masking.

A variable is secret when written ``{secret: true, value: ...}``, or read from the controller's
environment with ``{env: NAME}`` (optionally ``secret: false`` for a value that may be shown). Secret
values are replaced by ``MASK`` in everything the tool prints or records: diffs, the summary, progress
lines, the JSON document and the journal. They still reach the hosts, in the files they belong in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from remediate.yamlnode import Node


@dataclass(frozen=True)
class Variable:
    value: Any
    secret: bool = False


def read_variable(node: Node) -> Variable:
    """A variable's value; the secret and environment forms are mappings with these keys only."""
    value = node.value
    if not isinstance(value, dict) or not value or not set(value) <= {"secret", "value", "env"}:
        return Variable(value)
    if "env" not in value and "secret" not in value:
        return Variable(value)  # an ordinary mapping that merely has a "value" key
    fields = node.mapping(("secret", "value", "env"))
    secret = fields["secret"].boolean() if "secret" in fields else "env" in fields
    if "env" in fields:
        if "value" in fields:
            raise node.error("give 'value' or 'env', not both")
        name = fields["env"].string()
        if name not in os.environ:
            raise fields["env"].error(f"environment variable {name} is not set")
        return Variable(os.environ[name], secret)
    if "value" not in fields:
        raise node.error("a secret needs 'value' or 'env'")
    return Variable(fields["value"].value, secret)


def read_vars(node: Node) -> tuple[dict[str, Any], frozenset[str]]:
    """A ``vars`` mapping: the values, and the string values of those that are secret."""
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for name, child in node.entries().items():
        variable = read_variable(child)
        values[name] = variable.value
        if variable.secret:
            secrets.add(str(variable.value))
    return values, frozenset(secrets)
