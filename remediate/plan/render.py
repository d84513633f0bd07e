"""Rendering playbook fields and template files per host: Jinja2's sandbox with StrictUndefined. Pure.

An undefined variable is an error naming the variable, the playbook (or template file and line) and the
host, never an empty string silently written into a config file.
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.nodes

from remediate.actions.registry import type_of
from remediate.errors import UserError
from remediate.fields import has_template_syntax
from remediate.model import Host, HostTarget, Playbook, Probe, Step, Template
from remediate.plan.filters import ANSIBLE_FILTERS
from remediate.plan.sandbox import BoundedSandbox, render_bounded
from remediate.plan.secret_lines import rendered_secret_lines, sentinel_context
from remediate.yamlnode import display_path


def _environment(
    loader: jinja2.BaseLoader | None = None, finalize: Callable[[Any], Any] | None = None
) -> BoundedSandbox:
    # The sandbox keeps templates away from Python internals, files and commands, and bounds their time
    # and memory; StrictUndefined turns a missing variable into an error instead of an empty string.
    # As Ansible's template module: trim_blocks on (a line holding only a {% for %} leaves no blank
    # line), lstrip_blocks off (its default too), Ansible's common filters.
    return BoundedSandbox(
        filters=ANSIBLE_FILTERS,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
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


@dataclass(frozen=True)
class _HostRenderer:
    """Renders the fields of one step or probe for one host (the ``StepRenderer`` step types and probes
    are given); ``where`` is the step's or probe's place in the playbook, ``file: steps[2]``."""

    where: str
    host: Host
    context: Mapping[str, Any]
    secrets: frozenset[str]

    def field(self, key: str, value: str) -> str:
        return render_field(value, self.context, f"{self.where}.{key}", self.host.name)

    def command(self, key: str, value: str) -> str:
        return render_field(value, self.context, f"{self.where}.{key}", self.host.name, command=True)

    def target(self, key: str, path: str) -> str:
        return _check_target_path(path, f"{self.where}.{key}", self.host.name)

    def problem(self, key: str, message: str) -> UserError:
        return UserError(f"{self.where}.{key}: {message} (host {self.host.name})")

    def template_text(self, template: Template, key: str) -> str:
        return _render_template_file(template, self.context, f"{self.where}.{key}", self.host)

    def secret_lines(self, template: Template, content: str) -> tuple[tuple[str, str], ...]:
        return _secret_lines(template, content, self.context, self.secrets)


def _render_probe(playbook: Playbook, index: int, probe: Probe, host: Host, context: dict[str, Any]) -> Probe:
    return probe.rendered(_HostRenderer(f"{display_path(playbook.path)}: verify[{index}]", host, context, frozenset()))


def _render_step(playbook: Playbook, step: Step, host: Host, context: dict[str, Any], secrets: frozenset[str]) -> Step:
    renderer = _HostRenderer(f"{display_path(playbook.path)}: {step.key_path}", host, context, secrets)
    return dataclasses.replace(
        step,
        action=type_of(step.action).render(step.action, renderer),
        validate=renderer.command("validate", step.validate) if step.validate else None,
        on_change=renderer.command("on_change", step.on_change) if step.on_change else None,
    )


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
    return _compiled_template_file(display_path(template.src), template.source, template.includes)


# Compiled once for the whole fleet, not once per host (a compiled template renders from many threads).
@lru_cache(maxsize=64)
def _compiled_template_file(name: str, source: str, includes: tuple[tuple[str, str], ...]) -> jinja2.Template:
    # Only the files read at load time: the main template and what it includes (by the names it uses).
    sources = {**dict(includes), name: source}
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
