"""The ``line_patch`` step type: edits lines of a file in place (regex/replace, sed, ensure_line, absent);
the patching itself is actions/patching's."""

from __future__ import annotations

import dataclasses

from remediate.actions import patching
from remediate.actions.base import ActionType, HostPlanError, LoadContext, StepRenderer, WorkingFile, parents_option
from remediate.actions.sed import SedError, parse_sed
from remediate.errors import UserError
from remediate.fields import check_regex, match_range_field, path_field, regex_field
from remediate.limits import regex_problem
from remediate.model import AbsentLines, EnsureLine, Host, LineOperation, LinePatch, Playbook, Step, Substitute
from remediate.yamlnode import Node, display_path

KEY = "line_patch"
KEYS = (
    "path", "regex", "replace", "count", "sed", "ensure_line", "after", "before", "absent", "expect_matches", "create",
    "parents",
)  # fmt: skip


def load(node: Node, context: LoadContext | None = None) -> LinePatch:
    fields = node.mapping(KEYS, required=("path",))
    forms = {
        # ensure_line may carry a regex of its own (the line it replaces), so regex alone is not this form
        "regex/replace": "replace" in fields or ("regex" in fields and "ensure_line" not in fields),
        "sed": "sed" in fields,
        "ensure_line": "ensure_line" in fields,
        "absent": "absent" in fields,
    }
    chosen = [form for form, present in forms.items() if present]
    if len(chosen) != 1:
        raise node.error(f"a line_patch needs exactly one of: {', '.join(forms)} (got {', '.join(chosen) or 'none'})")
    for key in ("after", "before"):
        if key in fields and chosen != ["ensure_line"]:
            raise fields[key].error("only goes with ensure_line")
    if "count" in fields and chosen != ["regex/replace"]:
        raise fields["count"].error("only goes with regex/replace (sed takes the g flag)")
    operation: LineOperation
    if chosen == ["sed"]:
        try:
            operation = parse_sed(fields["sed"].string())
        except SedError as e:
            raise fields["sed"].error(str(e)) from None
        check_regex(fields["sed"], operation.regex)
    elif chosen == ["regex/replace"]:
        for key in ("regex", "replace"):
            if key not in fields:
                raise node.error(f"missing required key '{key}' (regex and replace go together)")
        operation = Substitute(
            regex=regex_field(fields["regex"]),
            replace=fields["replace"].string(),
            count=fields["count"].integer(0) if "count" in fields else 0,
        )
    elif chosen == ["ensure_line"]:
        operation = EnsureLine(
            line=fields["ensure_line"].string(),
            regex=regex_field(fields["regex"]) if "regex" in fields else None,
            after=regex_field(fields["after"]) if "after" in fields else None,
            before=regex_field(fields["before"]) if "before" in fields else None,
        )
        if operation.after is not None and operation.before is not None:
            raise node.error("ensure_line takes 'after' or 'before', not both")
    else:
        operation = AbsentLines(regex=regex_field(fields["absent"]))
    return LinePatch(
        path=path_field(fields["path"]),
        operation=operation,
        expect_matches=match_range_field(fields["expect_matches"]) if "expect_matches" in fields else None,
        create=fields["create"].boolean() if "create" in fields else False,
    )


def parents(node: Node, action: LinePatch) -> bool:
    """A line_patch makes no new file without ``create: true``, so ``parents`` goes with create."""
    fields = node.mapping(KEYS)
    parents = parents_option(fields)
    if parents and not action.create:
        raise fields["parents"].error("only goes with create: true (a line_patch makes no new file without it)")
    return parents


def render(action: LinePatch, renderer: StepRenderer) -> LinePatch:
    operation = action.operation
    changes = {
        f.name: renderer.field(f"{KEY}.{f.name}", value)
        for f in dataclasses.fields(operation)
        if isinstance(value := getattr(operation, f.name), str)
    }
    operation = dataclasses.replace(operation, **changes)  # type: ignore[arg-type]
    for name in ("regex", "after", "before"):
        value = getattr(operation, name, None)
        if value is None:
            continue
        problem = regex_problem(value)
        if problem:
            raise renderer.problem(f"{KEY}.{name}", problem)
    path = renderer.field(f"{KEY}.path", action.path)
    return dataclasses.replace(action, path=renderer.target(f"{KEY}.path", path), operation=operation)


def missing_text(action: LinePatch, where: str) -> str:
    if not action.create:
        raise HostPlanError(f"{where}: target file does not exist (a line_patch with create: true makes it)")
    return ""


def apply(action: LinePatch, working: WorkingFile, step: Step, playbook: Playbook, host: Host) -> str:
    assert working.text is not None  # missing_text gives a missing line_patch target an empty text
    try:
        result = patching.patch(action, working.text)
    except patching.UnexpectedMatches as e:
        raise HostPlanError(f"{step.key_path} ({step.name}): {e}") from None
    except patching.NotIdempotent as e:
        # A patch that is not idempotent is a playbook bug: refuse the whole run before any write.
        raise UserError(
            f"{display_path(playbook.path)}: {step.key_path}.{KEY}: not idempotent on host {host.name}: {e}"
        ) from None
    if result.text == working.text:
        return result.reason
    working.text = result.text
    return ""


TYPE = ActionType(KEY, (LinePatch,), load, parents, render, missing_text, apply)
