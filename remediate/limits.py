"""Every bound on input, in one place, so that bad input is refused before the work it would cause.

The numbers are documented in docs/playbook.md ("Limits"); each is far above any real playbook,
inventory or template and far below what would take seconds or hundreds of megabytes to process.
"""

from __future__ import annotations

import re

YAML_MAX_DEPTH = 64  # nested mappings and lists; a 300-group Ansible tree is a generated file, not a fleet
YAML_MAX_ALIAS_EXPANSION = 1_000_000  # nodes plus scalar characters that aliases add: stops billion laughs
NUMBER_MAX_DIGITS = 100  # Python refuses int() over 4,300 digits; no port, count or mode needs 100
REGEX_MAX_LENGTH = 4096
INVENTORY_MAX_HOSTS = 10_000  # after range expansion, counted before a range is expanded
TEMPLATE_MAX_SOURCE = 1_000_000  # bytes of one template file
TEMPLATE_MAX_FILES = 50  # templates one template step includes, extends or imports, in all
TEMPLATE_MAX_OUTPUT = 10_000_000  # characters one render may produce (target files are capped at 10M too)
TEMPLATE_MAX_SECONDS = 1.0  # wall-clock time of one render
TEMPLATE_MAX_RANGE = 100_000  # elements of all range() calls of one render, together
TEMPLATE_MAX_LIPSUM = 100  # paragraphs of lipsum()


def regex_problem(value: str) -> str | None:
    """Why ``value`` is not a usable regex, or None. Python's ``re`` raises OverflowError (not re.error)
    for a repeat count such as ``a{4294967296}`` and RecursionError for very deep groups."""
    if len(value) > REGEX_MAX_LENGTH:
        return f"regex longer than {REGEX_MAX_LENGTH} characters"
    try:
        re.compile(value)
    except re.error as e:
        return f"invalid regex {value!r}: {e}"
    except (OverflowError, RecursionError, ValueError) as e:
        return f"invalid regex {value!r}: {e}"
    return None


# group_vars/ and host_vars/ beside an Ansible inventory: a real tree (kubespray's) has a few dozen files
ANSIBLE_VARS_MAX_FILES = 1_000  # vars files read for one inventory, every group's and host's together
ANSIBLE_VARS_MAX_FILE_BYTES = 1_000_000  # bytes of one vars file
ANSIBLE_VARS_MAX_TOTAL_BYTES = 20_000_000  # bytes of all of them together
ANSIBLE_VARS_MAX_ENTRIES = 10_000  # directory entries looked at while finding them (hidden ones included)
ANSIBLE_VARS_MAX_DEPTH = 8  # folders below group_vars/NAME/: a link back up must not walk forever
