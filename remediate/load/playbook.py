"""A playbook YAML file -> typed ``Playbook``, with every problem named by file and key path."""

from __future__ import annotations

import re
from pathlib import Path

from remediate.errors import UserError
from remediate.limits import regex_problem
from remediate.load.names import find_named_file
from remediate.load.secrets import read_vars
from remediate.load.sed import SedError, parse_sed
from remediate.load.template_files import TemplateFileError, read_included, read_template_source
from remediate.model import (
    AbsentLines,
    CommandProbe,
    EnsureLine,
    FileProbe,
    HttpProbe,
    LineOperation,
    LinePatch,
    MatchRange,
    Playbook,
    Probe,
    RolloutSettings,
    Step,
    Substitute,
    TcpProbe,
    Template,
    sha256_hex,
)
from remediate.plan.render import has_template_syntax, parse_template
from remediate.plan.waves import parse_amount, parse_batches
from remediate.yamlnode import Node, display_path, load_yaml

STEP_TYPES = ("line_patch", "template")
STEP_OPTIONS = ("validate", "on_change")
PROBE_KEYS = {
    "http": ("url", "expect_status", "contains", "timeout", "retries", "delay"),
    "command": ("run", "expect_rc", "contains", "timeout"),
    "file": ("path", "contains", "absent"),
    "tcp": ("port", "host", "timeout"),
}
LINE_PATCH_KEYS = (
    "path", "regex", "replace", "count", "sed", "ensure_line", "after", "before", "absent", "expect_matches", "create",
    "parents",
)  # fmt: skip
TEMPLATE_KEYS = ("src", "dest", "mode", "owner", "group", "parents")


def load_playbook(name_or_path: str) -> Playbook:
    path = find_named_file(name_or_path, "playbooks", "playbook")
    document = load_yaml(path)
    root = Node(path, "", document)
    top = root.mapping(
        ("name", "description", "hosts", "become", "vars", "steps", "verify", "rollout"), required=("steps",)
    )
    steps_node = top["steps"]
    step_nodes = steps_node.items()
    variables, secrets = read_vars(top["vars"]) if "vars" in top else ({}, frozenset[str]())
    if not step_nodes:
        raise steps_node.error("a playbook needs at least one step")
    return Playbook(
        path=path,
        name=top["name"].string() if "name" in top else path.stem,
        description=top["description"].string() if "description" in top else "",
        hosts=top["hosts"].string() if "hosts" in top else "all",
        vars=variables,
        steps=tuple(_step(i, node, path.parent) for i, node in enumerate(step_nodes)),
        sha256=sha256_hex(path.read_bytes()),
        verify=tuple(_probe(node) for node in top["verify"].items()) if "verify" in top else (),
        rollout=_rollout(top["rollout"]) if "rollout" in top else RolloutSettings(),
        secrets=secrets,
        become=top["become"].boolean() if "become" in top else False,
    )


def _rollout(node: Node) -> RolloutSettings:
    f = node.mapping(("canary", "canary_group", "batches", "max_fail", "forks"))

    def text(key: str) -> str:
        value = f[key].value
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        if isinstance(value, int | str) and not isinstance(value, bool):
            return str(value)
        raise f[key].error("expected a number, a percentage such as 25%, or a list of them")

    try:
        return RolloutSettings(
            canary=f["canary"].integer(0) if "canary" in f else None,
            canary_group=f["canary_group"].string() if "canary_group" in f else None,
            batches=parse_batches(text("batches"), "batches") if "batches" in f else None,
            max_fail=parse_amount(text("max_fail"), "max_fail") if "max_fail" in f else None,
            forks=f["forks"].integer(1, 10000) if "forks" in f else None,
        )
    except UserError as e:
        raise node.error(str(e)) from None


def _step(index: int, node: Node, base_dir: Path) -> Step:
    fields = node.mapping(("name", *STEP_TYPES, *STEP_OPTIONS))
    kinds = [k for k in STEP_TYPES if k in fields]
    if len(kinds) != 1:
        if not kinds and isinstance(node.value, dict):
            unknown = [k for k in node.value if k not in ("name", *STEP_OPTIONS)]
            if unknown:
                raise node.child(unknown[0], None).error(
                    f"unknown step type (expected one of: {', '.join(STEP_TYPES)})"
                )
        raise node.error(f"a step needs exactly one of: {', '.join(STEP_TYPES)}")
    kind = kinds[0]
    action = _line_patch(fields[kind]) if kind == "line_patch" else _template(fields[kind], base_dir)
    name = (
        fields["name"].string()
        if "name" in fields
        else f"{kind} {action.path if isinstance(action, LinePatch) else action.dest}"
    )
    return Step(
        index=index,
        name=name,
        action=action,
        validate=_command(fields["validate"]) if "validate" in fields else None,
        on_change=_command(fields["on_change"]) if "on_change" in fields else None,
        parents=_parents(fields[kind], action),
    )


def _parents(node: Node, action: LinePatch | Template) -> bool:
    """``parents: true``: the folders a new target lacks are made. A line_patch makes no new file without
    ``create: true``, so there it goes with create."""
    fields = node.mapping(LINE_PATCH_KEYS if isinstance(action, LinePatch) else TEMPLATE_KEYS)
    if "parents" not in fields:
        return False
    parents = fields["parents"].boolean()
    if parents and isinstance(action, LinePatch) and not action.create:
        raise fields["parents"].error("only goes with create: true (a line_patch makes no new file without it)")
    return parents


def _command(node: Node) -> str:
    value = node.string()
    if not value.strip():
        raise node.error("must not be empty")
    return value


def _probe(node: Node) -> Probe:
    fields = node.mapping(tuple(PROBE_KEYS))
    if len(fields) != 1:
        raise node.error(f"a probe needs exactly one of: {', '.join(PROBE_KEYS)}")
    ((kind, spec),) = fields.items()
    required = {"http": "url", "command": "run", "file": "path", "tcp": "port"}[kind]
    f = spec.mapping(PROBE_KEYS[kind], required=(required,))
    if kind == "http":
        return HttpProbe(
            url=f["url"].string(),
            expect_status=f["expect_status"].integer(100, 599) if "expect_status" in f else 200,
            contains=f["contains"].string() if "contains" in f else None,
            timeout=f["timeout"].number(0.1) if "timeout" in f else 5.0,
            retries=f["retries"].integer(1, 100) if "retries" in f else 3,
            delay=f["delay"].number() if "delay" in f else 1.0,
        )
    if kind == "command":
        return CommandProbe(
            run=_command(f["run"]),
            expect_rc=f["expect_rc"].integer(0, 255) if "expect_rc" in f else 0,
            contains=f["contains"].string() if "contains" in f else None,
            timeout=f["timeout"].number(0.1) if "timeout" in f else 30.0,
        )
    if kind == "file":
        if "contains" not in f and "absent" not in f:
            raise spec.error("a file probe needs 'contains' or 'absent' (a regex)")
        return FileProbe(
            path=_path_field(f["path"]),
            contains=_regex(f["contains"]) if "contains" in f else None,
            absent=_regex(f["absent"]) if "absent" in f else None,
        )
    return TcpProbe(
        port=f["port"].integer(1, 65535),
        host=f["host"].string() if "host" in f else None,
        timeout=f["timeout"].number(0.1) if "timeout" in f else 5.0,
    )


def _line_patch(node: Node) -> LinePatch:
    fields = node.mapping(LINE_PATCH_KEYS, required=("path",))
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
        _check_regex(fields["sed"], operation.regex)
    elif chosen == ["regex/replace"]:
        for key in ("regex", "replace"):
            if key not in fields:
                raise node.error(f"missing required key '{key}' (regex and replace go together)")
        operation = Substitute(
            regex=_regex(fields["regex"]),
            replace=fields["replace"].string(),
            count=fields["count"].integer(0) if "count" in fields else 0,
        )
    elif chosen == ["ensure_line"]:
        operation = EnsureLine(
            line=fields["ensure_line"].string(),
            regex=_regex(fields["regex"]) if "regex" in fields else None,
            after=_regex(fields["after"]) if "after" in fields else None,
            before=_regex(fields["before"]) if "before" in fields else None,
        )
        if operation.after is not None and operation.before is not None:
            raise node.error("ensure_line takes 'after' or 'before', not both")
    else:
        operation = AbsentLines(regex=_regex(fields["absent"]))
    return LinePatch(
        path=_path_field(fields["path"]),
        operation=operation,
        expect_matches=_match_range(fields["expect_matches"]) if "expect_matches" in fields else None,
        create=fields["create"].boolean() if "create" in fields else False,
    )


def _template(node: Node, base_dir: Path) -> Template:
    fields = node.mapping(TEMPLATE_KEYS, required=("src", "dest"))
    src = (base_dir / fields["src"].string()).resolve()
    try:
        source = read_template_source(src)
        parse_template(source, display_path(src))
        includes = read_included(src, source, base_dir)
    except TemplateFileError as e:
        raise fields["src"].error(str(e)) from None
    return Template(
        includes=includes,
        src=src,
        source=source,
        dest=_path_field(fields["dest"]),
        mode=_mode(fields["mode"]) if "mode" in fields else None,
        owner=fields["owner"].string() if "owner" in fields else None,
        group=fields["group"].string() if "group" in fields else None,
    )


def _path_field(node: Node) -> str:
    value = node.string()
    if not has_template_syntax(value) and not value.startswith("/"):
        raise node.error(f"must be an absolute path, got {value!r}")
    return value


def _regex(node: Node) -> str:
    value = node.string()
    _check_regex(node, value)
    return value


def _check_regex(node: Node, value: str) -> None:
    if has_template_syntax(value):
        return  # checked once rendered, per host
    problem = regex_problem(value)
    if problem:
        raise node.error(problem)


def _mode(node: Node) -> int:
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value):
        return int(value, 8)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
        return value  # YAML 1.1 already read an unquoted 0644 as octal
    raise node.error(f'expected an octal file mode such as "0644", got {value!r}')


def _match_range(node: Node) -> MatchRange:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return MatchRange(value, value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d*)\s*", value)
        if m:
            low, high = int(m.group(1)), int(m.group(2)) if m.group(2) else None
            if high is None or high >= low:
                return MatchRange(low, high)
    raise node.error(f"expected a number or a range such as 0..1 or 1.., got {value!r}")
