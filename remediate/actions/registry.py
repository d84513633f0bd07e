"""The step types by YAML key, one line per type; ``register_action`` adds one from outside the package.

The order is the order a playbook's errors list them in ("a step needs exactly one of: ...").
"""

from __future__ import annotations

from typing import Any

from remediate.actions import line_patch, template
from remediate.actions.base import ActionType
from remediate.model import Action

# A step's keys beside its type's (``- name: ..., line_patch: {...}, validate: ...``): no step type takes one.
STEP_OPTIONS = ("validate", "on_change")

_TYPES: dict[str, ActionType[Any, Any]] = {
    line_patch.KEY: line_patch.TYPE,
    template.KEY: template.TYPE,
}


def register_action(action_type: ActionType[Any, Any]) -> None:
    """Adds a step type: playbooks may then use its key as a step."""
    if action_type.key in ("name", *STEP_OPTIONS):
        raise ValueError(f"'{action_type.key}' is a step option, not a step type's key")
    if action_type.key in _TYPES:
        raise ValueError(f"a step type '{action_type.key}' is already registered")
    taken = {t for known in _TYPES.values() for t in known.types}
    if taken.intersection(action_type.types):
        raise ValueError(f"one of {[t.__name__ for t in action_type.types]} already belongs to a step type")
    _TYPES[action_type.key] = action_type


def unregister_action(key: str) -> None:
    del _TYPES[key]


def action_keys() -> tuple[str, ...]:
    return tuple(_TYPES)


def action_type(key: str) -> ActionType[Any, Any]:
    """The step type of a key (KeyError: none has it)."""
    return _TYPES[key]


def type_of(action: Action) -> ActionType[Any, Any]:
    """The step type an action value belongs to, by its exact type."""
    for known in _TYPES.values():
        if type(action) in known.types:
            return known
    raise TypeError(f"{type(action).__name__} is not a registered step type's action")
