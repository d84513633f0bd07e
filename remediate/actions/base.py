"""What a step type is: its YAML key, how its mapping loads, renders per host, opens a missing target and
applies itself to the planner's working copy of a file. One step type per module (line_patch, template);
actions/registry holds them by key.

Nothing here does I/O: the files a step type needs at load time come through ``LoadContext``, and
rendering goes through the ``StepRenderer`` plan/render hands in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from remediate.model import Host, Playbook, RemoteFile, Renderer, Step, Template, TemplateSource
from remediate.yamlnode import Node

DEFAULT_NEW_FILE_MODE = 0o644

A = TypeVar("A")  # the action a step type loads
R = TypeVar("R")  # the action it renders that to, for one host (often the same type)


class HostPlanError(Exception):
    """This host cannot be planned (missing target, unexpected matches, a file it must not edit)."""


class LoadContext(Protocol):
    """What loading a step may read from disk (load/playbook implements it)."""

    def template_source(self, node: Node) -> TemplateSource:
        """The template file a ``src`` field names, beside the playbook, with what it includes; checked."""
        ...


class StepRenderer(Renderer, Protocol):
    """A ``Renderer`` that also renders template files (Jinja's sandbox lives in plan/)."""

    def template_text(self, template: Template, key: str) -> str:
        """The template's text rendered for the host (``key``: its ``src`` field, for the error)."""
        ...

    def secret_lines(self, template: Template, content: str) -> tuple[tuple[str, str], ...]:
        """(line, masked line) for each line of ``content`` a secret is rendered into."""
        ...


@dataclass
class WorkingFile:
    """The planner's in-memory copy of one target file, which a host's steps change in order."""

    remote: RemoteFile
    text: str | None  # None: the file does not exist (yet)
    mode: int
    owner: str | None = None
    group: str | None = None
    steps: list[Step] = field(default_factory=list)  # the steps that changed it
    # The masked form of each line a template rendered a secret into, by the line's text (a later
    # line_patch may move it).
    secret_lines: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionType(Generic[A, R]):
    key: str  # the step's key in a playbook: ``- line_patch: {...}``
    types: tuple[type[Any], ...]  # the action values it loads and renders to; each belongs to one step type
    # The node of the step type's mapping (``steps[0].line_patch``) -> its action; errors name the node.
    load: Callable[[Node, LoadContext], A]
    # ``parents: true`` from that mapping: the folders a new target lacks are made (False when absent).
    parents: Callable[[Node, A], bool]
    # The action rendered for one host (its fields through the renderer; the target path checked).
    render: Callable[[A, StepRenderer], R]
    # The text a missing target starts from: "" (worked on as an empty file), None (the step writes the
    # whole file); or HostPlanError when the step cannot make it. ``where`` starts every message.
    missing_text: Callable[[R, str], str | None]
    # Runs the rendered step over the working copy; returns why nothing changed, or "" when something did.
    # HostPlanError fails the host; UserError (a playbook bug) the whole run, before any write.
    apply: Callable[[R, WorkingFile, Step, Playbook, Host], str]


def parents_option(fields: dict[str, Node]) -> bool:
    """``parents:`` of a step type's mapping, False when absent."""
    return fields["parents"].boolean() if "parents" in fields else False
