"""Secret variables and their masking.

A variable is secret when written ``{secret: true, value: ...}``, or read from the controller's
environment with ``{env: NAME}`` (optionally ``secret: false`` for a value that may be shown). Secret
values are replaced by ``MASK`` in everything the tool prints or records: diffs, the summary, progress
lines, the JSON document and the journal. They still reach the hosts, in the files they belong in.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .yamlnode import Node

MASK = "********"


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


class Masker:
    """Replaces every secret value in text, bytes and JSON-like documents."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.values = frozenset(s for s in secrets if s)  # the secrets themselves (a plan file lists them)
        # Every form a value takes on its way out, longest first so that a form containing another is
        # masked whole.
        found = {form for s in self.values for form in secret_forms(s)}
        self._secrets = sorted(found, key=len, reverse=True)
        self._encoded = [s.encode() for s in self._secrets]

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def data(self, data: bytes) -> bytes:
        for secret in self._encoded:
            data = data.replace(secret, MASK.encode())
        return data

    def holds_secret(self, data: bytes) -> bool:
        return any(secret in data for secret in self._encoded)

    def document(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.document(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.document(v) for v in value]
        return value


MIN_SECRET_LINE = 4  # a shorter line of a multi-line value (a PEM's "=="), would mask ordinary text


def secret_forms(secret: str) -> frozenset[str]:
    """The text a secret can show up as: whole or as one of its lines (a diff prints a multi-line value
    line by line), shell-quoted (a command), JSON-escaped with and without ``\\u`` escapes (a journal
    column), as a Python literal (an error quoting a value), and these combined."""
    bases = {secret} | {line for line in secret.splitlines() if len(line.strip()) >= MIN_SECRET_LINE}
    quoted = bases | {shlex.quote(b) for b in bases}
    forms = set(quoted)
    for text in quoted:
        forms |= {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]}
    return frozenset(f for f in forms if f)


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
