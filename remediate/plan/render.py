"""Rendering playbook fields and template files per host: Jinja2's sandbox with StrictUndefined. Pure.

An undefined variable is an error naming the variable, the playbook (or template file and line) and the
host, never an empty string silently written into a config file.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shlex
import traceback
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.nodes

from remediate.errors import UserError
from remediate.limits import regex_problem
from remediate.model import (
    FileProbe,
    Host,
    HostTarget,
    LineOperation,
    LinePatch,
    Playbook,
    Probe,
    RenderedTemplate,
    Step,
    Template,
)
from remediate.plan.sandbox import BoundedSandbox, render_bounded
from remediate.plan.secret_lines import rendered_secret_lines, sentinel_context
from remediate.yamlnode import display_path

_TEMPLATE_MARKERS = re.compile(r"\{\{|\{%|\{#")


def has_template_syntax(value: str) -> bool:
    return bool(_TEMPLATE_MARKERS.search(value))


def _environment(
    loader: jinja2.BaseLoader | None = None, finalize: Callable[[Any], Any] | None = None
) -> BoundedSandbox:
    # The sandbox keeps templates away from Python internals, files and commands, and bounds their time
    # and memory; StrictUndefined turns a missing variable into an error instead of an empty string.
    return BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        loader=loader,
        finalize=finalize,
    )


def _shell_quoted(value: Any) -> str:
    return shlex.quote(str(value))


_FIELD_ENV = _environment()
# In a command (validate, on_change, a command probe) every {{ value }} comes out shell-quoted, so a
# variable holding `; rm -rf /` or `$(...)` is one literal word, never code: `php -l {{ docroot }}/x.php`.
_COMMAND_ENV = _environment(finalize=_shell_quoted)


@lru_cache(maxsize=4096)
def _compiled_field(source: str, command: bool = False) -> jinja2.Template:
    return (_COMMAND_ENV if command else _FIELD_ENV).from_string(source)


def parse_template(source: str, name: str) -> jinja2.nodes.Template:
    try:
        return _environment().parse(source, name=name, filename=name)
    except jinja2.TemplateSyntaxError as e:
        raise UserError(f"{name}:{e.lineno}: template syntax error: {e.message}") from None
    except RecursionError:  # Jinja's parser recurses once per nested expression
        raise UserError(f"{name}: template syntax error: nested too deeply") from None


def host_context(host: Host, playbook: Playbook, cli_vars: Mapping[str, Any]) -> dict[str, Any]:
    """Variables for one host, lowest precedence first: inventory, group, host, playbook, ``--var``."""
    context: dict[str, Any] = {**host.vars, **playbook.vars, **cli_vars}
    context["host"] = {
        "name": host.name,
        "address": host.address,
        "port": host.port,
        "user": host.user,
        "groups": list(host.groups),
    }
    return context


def render_host(
    playbook: Playbook, host: Host, cli_vars: Mapping[str, Any], secrets: frozenset[str] = frozenset()
) -> HostTarget:
    """The playbook's steps and probes for one host, every string field rendered; ``secrets`` (every
    secret value of the run) are found in the rendered files by where they are, for masking."""
    context = host_context(host, playbook, cli_vars)
    return HostTarget(
        host,
        tuple(_render_step(playbook, step, host, context, secrets) for step in playbook.steps),
        tuple(_render_probe(playbook, i, probe, host, context) for i, probe in enumerate(playbook.verify)),
        secrets,
    )


def _render_probe(playbook: Playbook, index: int, probe: Probe, host: Host, context: dict[str, Any]) -> Probe:
    kind = type(probe).__name__.removesuffix("Probe").lower()
    where = f"{display_path(playbook.path)}: verify[{index}].{kind}"
    changes = {
        f.name: render_field(value, context, f"{where}.{f.name}", host.name, command=f.name == "run")
        for f in dataclasses.fields(probe)
        if isinstance(value := getattr(probe, f.name), str)
    }
    rendered = dataclasses.replace(probe, **changes)  # type: ignore[arg-type]
    if isinstance(rendered, FileProbe):
        rendered = dataclasses.replace(rendered, path=_check_target_path(rendered.path, f"{where}.path", host.name))
    return rendered


def _render_step(playbook: Playbook, step: Step, host: Host, context: dict[str, Any], secrets: frozenset[str]) -> Step:
    where = f"{display_path(playbook.path)}: {step.key_path}"

    def field(key_path: str, value: str) -> str:
        return render_field(value, context, f"{where}.{key_path}", host.name)

    def command(key_path: str, value: str) -> str:
        return render_field(value, context, f"{where}.{key_path}", host.name, command=True)

    action = step.action
    rendered: LinePatch | RenderedTemplate
    if isinstance(action, LinePatch):
        operation = _render_operation(action.operation, lambda k, v: field(f"line_patch.{k}", v))
        _check_rendered_regexes(operation, f"{where}.line_patch", host.name)
        rendered = dataclasses.replace(action, path=field("line_patch.path", action.path), operation=operation)
    elif isinstance(action, Template):
        content = _render_template_file(action, context, f"{where}.template.src", host)
        rendered = RenderedTemplate(
            dest=field("template.dest", action.dest),
            content=content,
            secret_lines=_secret_lines(action, content, context, secrets),
            mode=action.mode,
            owner=field("template.owner", action.owner) if action.owner else None,
            group=field("template.group", action.group) if action.group else None,
        )
    else:
        raise TypeError(f"step {step.key_path} is already rendered")
    if isinstance(rendered, LinePatch):
        path = _check_target_path(rendered.path, f"{where}.line_patch.path", host.name)
        rendered = dataclasses.replace(rendered, path=path)
    else:
        dest = _check_target_path(rendered.dest, f"{where}.template.dest", host.name)
        rendered = dataclasses.replace(rendered, dest=dest)
    return dataclasses.replace(
        step,
        action=rendered,
        validate=command("validate", step.validate) if step.validate else None,
        on_change=command("on_change", step.on_change) if step.on_change else None,
    )


def _render_operation(operation: LineOperation, field: Callable[[str, str], str]) -> LineOperation:
    changes = {
        f.name: field(f.name, value)
        for f in dataclasses.fields(operation)
        if isinstance(value := getattr(operation, f.name), str)
    }
    return dataclasses.replace(operation, **changes)  # type: ignore[arg-type]


def _check_rendered_regexes(operation: LineOperation, where: str, host: str) -> None:
    for name in ("regex", "after", "before"):
        value = getattr(operation, name, None)
        if value is None:
            continue
        problem = regex_problem(value)
        if problem:
            raise UserError(f"{where}.{name}: {problem} (host {host})")


def _check_target_path(path: str, where: str, host: str) -> str:
    """The path, normalised (``//`` and ``/./`` folded); refused when relative, with ``..`` or a newline."""
    if not path.startswith("/"):
        raise UserError(f"{where}: must be an absolute path, got {path!r} for host {host}")
    if "\0" in path or "\n" in path or "\r" in path:
        raise UserError(f"{where}: a path cannot hold a NUL, newline or carriage return (host {host})")
    if any(part == ".." for part in path.split("/")):
        raise UserError(f"{where}: '..' is not allowed in a target path, got {path!r} for host {host}")
    normal = "/" + posixpath.normpath(path).lstrip("/")
    if normal == "/":
        raise UserError(f"{where}: '/' is a directory, not a file (host {host})")
    return normal


def render_field(source: str, context: Mapping[str, Any], where: str, host: str, command: bool = False) -> str:
    if not has_template_syntax(source):
        return source
    try:
        return render_bounded(_compiled_field(source, command), context)
    except jinja2.UndefinedError as e:
        raise UserError(f"{where}: {e.message} (host {host})") from None
    except jinja2.TemplateSyntaxError as e:
        raise UserError(f"{where}: template syntax error: {e.message}") from None
    except jinja2.TemplateError as e:
        raise UserError(f"{where}: {type(e).__name__}: {e} (host {host})") from None
    except RecursionError:
        raise UserError(f"{where}: {_RECURSION} (host {host})") from None


_RECURSION = "recursion too deep (a macro or template that calls itself?)"


def _template_file(template: Template) -> jinja2.Template:
    name = display_path(template.src)
    # Only the files read at load time: the main template and what it includes (by the names it uses).
    sources = {**dict(template.includes), name: template.source}
    # filename=name: an error's traceback then points at the template's own line
    env = _environment(jinja2.FunctionLoader(lambda n: (sources[n], n, lambda: True) if n in sources else None))
    return env.get_template(name)


def _secret_lines(
    template: Template, content: str, context: Mapping[str, Any], secrets: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    marked = sentinel_context(context, secrets)
    if marked is None:
        return ()
    try:
        sentinel: str | None = render_bounded(_template_file(template), marked)
    # A template that computes with a secret (`| int`, `+ 1`) fails on a sentinel: then any line may
    # hold the secret, and every line is masked.
    except Exception:
        sentinel = None
    return rendered_secret_lines(content, sentinel)


def _render_template_file(template: Template, context: Mapping[str, Any], where: str, host: Host) -> str:
    name = display_path(template.src)
    try:
        return render_bounded(_template_file(template), context)
    except (jinja2.TemplateError, RecursionError) as e:
        line = _template_line(e, name)
        message = _problem(e)
        raise UserError(f"{name}{f':{line}' if line else ''}: {message} (playbook {where}, host {host.name})") from None


def _problem(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return _RECURSION
    if isinstance(error, jinja2.UndefinedError):
        return str(error.message)
    return f"{type(error).__name__}: {error}"


def _template_line(error: Exception, filename: str) -> int | None:
    if isinstance(error, jinja2.TemplateSyntaxError):
        return error.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    return lines[-1] if lines else None
