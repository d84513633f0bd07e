"""The ``template`` step type: the rendered file replaces the whole target; mode/owner/group may be set
by the step. The template files are read at load time (``LoadContext``), so rendering stays pure."""

from __future__ import annotations

from remediate.actions.base import (
    DEFAULT_NEW_FILE_MODE,
    ActionType,
    LoadContext,
    StepRenderer,
    WorkingFile,
    parents_option,
)
from remediate.fields import mode_field, path_field
from remediate.model import Host, Playbook, RemoteFile, RenderedTemplate, Step, Template
from remediate.yamlnode import Node

KEY = "template"
KEYS = ("src", "dest", "mode", "owner", "group", "parents")


def load(node: Node, context: LoadContext) -> Template:
    fields = node.mapping(KEYS, required=("src", "dest"))
    file = context.template_source(fields["src"])
    return Template(
        includes=file.includes,
        src=file.src,
        source=file.source,
        dest=path_field(fields["dest"]),
        mode=mode_field(fields["mode"]) if "mode" in fields else None,
        owner=fields["owner"].string() if "owner" in fields else None,
        group=fields["group"].string() if "group" in fields else None,
    )


def parents(node: Node, action: Template) -> bool:
    return parents_option(node.mapping(KEYS))


def render(action: Template | RenderedTemplate, renderer: StepRenderer) -> RenderedTemplate:
    if not isinstance(action, Template):
        raise TypeError(f"the template step for {action.dest} is already rendered")
    content = renderer.template_text(action, f"{KEY}.src")
    dest = renderer.field(f"{KEY}.dest", action.dest)
    secret_lines = renderer.secret_lines(action, content)
    owner = renderer.field(f"{KEY}.owner", action.owner) if action.owner else None
    group = renderer.field(f"{KEY}.group", action.group) if action.group else None
    return RenderedTemplate(
        dest=renderer.target(f"{KEY}.dest", dest),
        content=content,
        secret_lines=secret_lines,
        mode=action.mode,
        owner=owner,
        group=group,
    )


def missing_text(action: RenderedTemplate, where: str) -> None:
    return None  # the template is the whole file


def apply(action: RenderedTemplate, working: WorkingFile, step: Step, playbook: Playbook, host: Host) -> str:
    if not isinstance(action, RenderedTemplate):
        raise TypeError(f"{step.key_path} was not rendered")
    mode = desired_mode(action, working.remote if working.text is not None else None)
    owner = action.owner or working.owner
    group = action.group or working.group
    if working.text == action.content:  # the template's lines, whether or not this step changes them
        working.secret_lines = dict(action.secret_lines)
    if (working.text, working.mode, working.owner, working.group) == (action.content, mode, owner, group):
        return "the file already matches the template"
    working.text, working.mode, working.owner, working.group = action.content, mode, owner, group
    working.secret_lines = dict(action.secret_lines)
    return ""


def desired_mode(step: RenderedTemplate, current: RemoteFile | None) -> int:
    if step.mode is not None:
        return step.mode
    return current.mode if current is not None else DEFAULT_NEW_FILE_MODE


TYPE = ActionType(KEY, (Template, RenderedTemplate), load, parents, render, missing_text, apply)
