"""The Ansible filters users reach for, inside the sandbox: ``to_json``, ``to_nice_json``, ``to_yaml``,
``to_nice_yaml``, ``b64encode``, ``b64decode``, ``regex_replace``, ``regex_search`` and ``mandatory``
(``default`` is Jinja's own). Their arguments and defaults are Ansible's (ansible-core's
``plugins/filter/core.py``), so a template written for Ansible renders the same here.

Every argument is size-checked by the sandbox before the filter runs (``BoundedSandbox`` wraps these
like Jinja's own). What a filter could still blow up is bounded here: an indent (each of 10M elements
indented by a million spaces), a regex (the limits every playbook regex has, ``limits.regex_problem``)
and a substitution's output (measured match by match, with the render's clock). A bad argument is a
FilterArgumentError, a TemplateError: one line naming the field or template, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import yaml
from jinja2 import Undefined, UndefinedError
from jinja2.exceptions import FilterArgumentError

from remediate.limits import TEMPLATE_MAX_OUTPUT, regex_problem
from remediate.plan.sandbox import LimitExceeded, check_clock

MAX_INDENT = 32  # JSON and YAML indents: beyond it the output grows with no use to a reader


def _indent(indent: Any, name: str) -> int:
    if isinstance(indent, bool) or not isinstance(indent, int) or not 0 <= indent <= MAX_INDENT:
        raise FilterArgumentError(f"{name}: indent must be a whole number from 0 to {MAX_INDENT}, got {indent!r}")
    return indent


def _json(value: Any, name: str, indent: int | None, sort_keys: bool, ensure_ascii: bool) -> str:
    separators = (",", ": ") if indent is not None else None
    try:
        return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators)
    except (TypeError, ValueError) as e:  # an Undefined, a macro, a float('nan') is fine, a circular list is not
        raise FilterArgumentError(f"{name}: {e}") from None


def to_json(value: Any, indent: int | None = None, sort_keys: bool = False, ensure_ascii: bool = True) -> str:
    return _json(value, "to_json", None if indent is None else _indent(indent, "to_json"), sort_keys, ensure_ascii)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, ensure_ascii: bool = True) -> str:
    return _json(value, "to_nice_json", _indent(indent, "to_nice_json"), sort_keys, ensure_ascii)


def _yaml(value: Any, name: str, **options: Any) -> str:
    try:
        return str(yaml.dump(value, Dumper=yaml.SafeDumper, allow_unicode=True, **options))
    except yaml.YAMLError as e:  # a value YAML has no tag for (a macro, an Undefined)
        raise FilterArgumentError(f"{name}: {e}") from None


def to_yaml(value: Any, indent: int = 2, default_flow_style: bool | None = None, width: int = 80) -> str:
    """Ansible's terse form: flow style for the innermost collections."""
    return _yaml(
        value, "to_yaml", indent=_indent(indent, "to_yaml"), default_flow_style=default_flow_style, width=width
    )


def to_nice_yaml(value: Any, indent: int = 4, default_flow_style: bool = False, width: int = 80) -> str:
    return _yaml(
        value,
        "to_nice_yaml",
        indent=_indent(indent, "to_nice_yaml"),
        default_flow_style=default_flow_style,
        width=width,
    )


def b64encode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(_text(value).encode(_encoding(encoding, "b64encode"))).decode("ascii")


def b64decode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    try:
        data = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(_text(value))
        return data.decode(_encoding(encoding, "b64decode"))
    except (binascii.Error, ValueError) as e:  # not base64, or bytes that are not text in that encoding
        raise FilterArgumentError(f"b64decode: {e}") from None


def _encoding(encoding: str, name: str) -> str:
    try:
        "".encode(encoding)
    except (LookupError, TypeError):
        raise FilterArgumentError(f"{name}: unknown encoding {encoding!r}") from None
    return encoding


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _compiled(pattern: Any, name: str, ignorecase: bool, multiline: bool) -> re.Pattern[str]:
    pattern = _text(pattern)
    problem = regex_problem(pattern)
    if problem is not None:
        raise FilterArgumentError(f"{name}: {problem}")
    return re.compile(pattern, (re.IGNORECASE if ignorecase else 0) | (re.MULTILINE if multiline else 0))


def regex_replace(
    value: Any = "",
    pattern: str = "",
    replacement: str = "",
    ignorecase: bool = False,
    multiline: bool = False,
    count: int = 0,
    mandatory_count: int = 0,
) -> str:
    """``re.subn``, with backreferences (``\\1``, ``\\g<name>``) in ``replacement``; ``mandatory_count``
    refuses a result with another number of substitutions."""
    text, compiled = _text(value), _compiled(pattern, "regex_replace", ignorecase, multiline)
    replacement = _text(replacement)
    try:
        if _substitution_bound(compiled, text, replacement, count) <= TEMPLATE_MAX_OUTPUT:
            output, substitutions = compiled.subn(replacement, text, count=count)  # in C: fast, and small
        else:
            output, substitutions = _measured_subn(compiled, text, replacement, count)
    except (re.error, IndexError, TypeError) as e:  # a backreference to a group it lacks; a count not a number
        raise FilterArgumentError(f"regex_replace: {e}") from None
    if mandatory_count and substitutions != mandatory_count:
        raise FilterArgumentError(
            f"regex_replace: {pattern!r} should match {mandatory_count} times, but matches {substitutions} times"
        )
    return output


def _substitution_bound(compiled: re.Pattern[str], text: str, replacement: str, count: int) -> int:
    """At most how long the result can be: matches do not overlap, so all the groups a replacement
    refers to (each ``\\`` may be one) are at most the text once per reference."""
    matches = 0
    for matches, _ in enumerate(compiled.finditer(text), 1):
        if matches % 4096 == 0:
            check_clock()
        if matches == count:
            break
    return (1 + replacement.count("\\")) * len(text) + matches * len(replacement)


def _measured_subn(compiled: re.Pattern[str], text: str, replacement: str, count: int) -> tuple[str, int]:
    """``subn``, measuring each replacement as it is made: a 1,000-character replacement on each of a
    million empty matches would be a 1 GB string built in C before anything could measure it."""
    grown = len(text)
    literal = "\\" not in replacement  # match.expand parses the replacement anew on every call

    def replace(match: re.Match[str]) -> str:
        nonlocal grown
        check_clock()
        expanded = replacement if literal else match.expand(replacement)
        grown += len(expanded) - (match.end() - match.start())
        if grown > TEMPLATE_MAX_OUTPUT:
            raise LimitExceeded(f"regex_replace: a result longer than {TEMPLATE_MAX_OUTPUT:,} characters")
        return expanded

    return compiled.subn(replace, text, count=count)


def regex_search(value: Any, regex: str, *groups: str, ignorecase: bool = False, multiline: bool = False) -> Any:
    """The first match, or with ``'\\1'``/``'\\g<name>'`` arguments the list of those groups; None (which
    prints as nothing, and fails a ``default``-less test) when nothing matches."""
    wanted: list[int | str] = []
    for group in groups:
        number, name = re.fullmatch(r"\\(\d+)", group), re.fullmatch(r"\\g<(\w+)>", group)
        if number is None and name is None:
            raise FilterArgumentError(f"regex_search: {group!r} is not a group such as '\\1' or '\\g<name>'")
        wanted.append(int(number.group(1)) if number else name.group(1) if name else "")
    match = _compiled(regex, "regex_search", ignorecase, multiline).search(_text(value))
    if match is None:
        return None
    try:
        return [match.group(g) for g in wanted] if wanted else match.group()
    except IndexError as e:
        raise FilterArgumentError(f"regex_search: {e}") from None


def mandatory(value: Any, msg: str | None = None) -> Any:
    """``value``, or an error when it is undefined: what ``StrictUndefined`` does anyway, with a message
    of the playbook's own choosing."""
    if isinstance(value, Undefined):
        if msg is not None:
            raise UndefinedError(str(msg))
        name = getattr(value, "_undefined_name", None)
        raise UndefinedError(f"Mandatory variable {f'{name!r} ' if name else ''}not defined.")
    return value


def _arguments_checked(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, with a wrong argument (``to_json(default=...)``, a missing regex) a template error:
    Python's TypeError would be a crash instead of one line naming the field."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as e:
            raise FilterArgumentError(f"{name}: {e}") from None
        return function(*args, **kwargs)

    return checked


_FILTERS: dict[str, Callable[..., Any]] = {
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "mandatory": mandatory,
}
ANSIBLE_FILTERS = {name: _arguments_checked(name, function) for name, function in _FILTERS.items()}
