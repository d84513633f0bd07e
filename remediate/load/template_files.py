"""Reading a template step's files at load time: the template and every template it includes, extends or
imports, so that rendering stays pure and every file problem is found before any host is contacted.

A template may name other templates (``{% include 'header.j2' %}``, ``{% extends %}``, ``{% import %}``,
``{% from ... import %}``), as Ansible users expect. A name is looked up beside the template, then in the
playbook's folder; the file it resolves to (symlinks followed) must lie below the playbook's folder.
Anything else is refused: a name computed at render time, a file elsewhere, one that is not a regular
file (a FIFO would block the read, ``/dev/zero`` never ends), one past the size limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2
import jinja2.meta

from remediate.limits import TEMPLATE_MAX_FILES, TEMPLATE_MAX_SOURCE
from remediate.plan.render import parse_template
from remediate.yamlnode import display_path


class TemplateFileError(ValueError):
    """A template file that cannot be used; the message names it (the caller adds the key path)."""


def read_template_source(path: Path) -> str:
    """The text of a regular file of at most TEMPLATE_MAX_SOURCE bytes. Opened without blocking and
    checked on the open descriptor, so a FIFO or device is refused, never read."""
    shown = display_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise TemplateFileError(f"template file not found: {shown}") from None
    except OSError as e:
        raise TemplateFileError(f"cannot read template file {shown}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TemplateFileError(f"template source is not a regular file: {shown}")
        data = handle.read(TEMPLATE_MAX_SOURCE + 1)
    if len(data) > TEMPLATE_MAX_SOURCE:
        raise TemplateFileError(f"template file {shown} is larger than {TEMPLATE_MAX_SOURCE:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateFileError(f"template file is not valid UTF-8: {shown}") from None


def read_included(main: Path, source: str, playbook_dir: Path) -> tuple[tuple[str, str], ...]:
    """Every template ``source`` (the file ``main``) names, directly or through others: (name, text)."""
    root = playbook_dir.resolve()
    found: dict[str, str] = {}
    pending = [(main, source)]
    while pending:
        path, text = pending.pop()
        for name in _referenced(path, text):
            if name in found:
                continue
            if len(found) >= TEMPLATE_MAX_FILES:
                raise TemplateFileError(f"{display_path(path)}: includes more than {TEMPLATE_MAX_FILES} templates")
            included = _locate(name, path.parent, root)
            found[name] = read_template_source(included)
            parse_template(found[name], display_path(included))
            pending.append((included, found[name]))
    return tuple(found.items())


def _referenced(path: Path, text: str) -> list[str]:
    names = []
    for name in jinja2.meta.find_referenced_templates(parse_template(text, display_path(path))):
        if name is None:
            raise TemplateFileError(
                f"{display_path(path)}: include, extends and import need a template name written out"
                " (a name computed when rendering cannot be checked before the run)"
            )
        names.append(name)
    return names


def _locate(name: str, beside: Path, root: Path) -> Path:
    for folder in (beside, root):
        candidate = (folder / name).resolve()
        if candidate.is_relative_to(root) and candidate.exists():
            return candidate
    raise TemplateFileError(
        f"template {name!r} is not a file beside the template or in the playbook's folder {display_path(root)}"
    )
