"""``group_vars/`` and ``host_vars/`` beside an Ansible inventory, found and read as ansible-core's
``host_group_vars`` vars plugin and ``DataLoader.find_vars_files`` do (checked against ansible-core 2.19):

- For a group or host NAME, the first of ``NAME`` (a file, or a folder), ``NAME.yml``, ``NAME.yaml``,
  ``NAME.json`` that exists is used, and only that one. A folder's files are read in sorted name order,
  folders without an extension recursively; hidden names (``.x``) and backups (``x~``) are skipped, and
  only files with no extension or one of the three are read. A later file's variable replaces an
  earlier one's (Ansible's default ``hash_behaviour = replace``).
- An empty file sets nothing; anything else but a mapping of variable names is an error, as in Ansible.
- A Vault-encrypted file (``$ANSIBLE_VAULT;`` header) or value (``!vault``) is refused with one line
  naming the file: remediate does not decrypt, and a variable silently missing would be worse.
- Every read is bounded (``limits``): the number of files, the bytes of each and of all, the directory
  entries looked at and the folder depth, so a hostile or mistaken tree is refused before the work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.errors import UserError
from remediate.limits import (
    ANSIBLE_VARS_MAX_DEPTH,
    ANSIBLE_VARS_MAX_ENTRIES,
    ANSIBLE_VARS_MAX_FILE_BYTES,
    ANSIBLE_VARS_MAX_FILES,
    ANSIBLE_VARS_MAX_TOTAL_BYTES,
)
from remediate.yamlnode import Node, display_path, load_yaml_text

EXTENSIONS = (".yml", ".yaml", ".json")  # ansible-core's YAML_FILENAME_EXTENSIONS
# The safe loader's refusal of a !vault tag, after "FILE": ":LINE:COLUMN: YAML syntax error: ..."
_VAULT_TAG_ERROR = re.compile(r"^(:\d+):\d+: YAML syntax error: .*tag '!vault'")


@dataclass(frozen=True)
class VarsFileValue:
    """One variable a vars file sets: its value and where (the file, and its key path there)."""

    value: Any
    file: Path
    key_path: str


@dataclass
class VarsReader:
    """Reads the vars files beside one inventory, counting against the bounds as it goes."""

    basedir: Path
    files: int = 0
    total_bytes: int = 0
    entries: int = 0
    _found: dict[tuple[str, str], list[Path]] = field(default_factory=dict)

    def variables(self, subdir: str, name: str) -> dict[str, VarsFileValue]:
        """What ``group_vars/NAME`` (subdir ``group_vars``) or ``host_vars/NAME`` sets, later files winning."""
        merged: dict[str, VarsFileValue] = {}
        for path in self._find(subdir, name):
            merged.update(self._read(path))
        return merged

    def _find(self, subdir: str, name: str) -> list[Path]:
        folder = self.basedir / subdir
        # Ansible skips names starting with "/" (chroot-style inventory names); a name with a path
        # separator or ".." must not reach outside the folder either.
        if not folder.is_dir() or "/" in name or name in (".", ".."):
            return []
        for candidate in (folder / name, *(folder / f"{name}{ext}" for ext in EXTENSIONS)):
            if candidate.is_dir():
                return self._folder_files(candidate, 0)
            if candidate.exists():
                return [candidate]
        return []

    def _folder_files(self, folder: Path, depth: int) -> list[Path]:
        if depth > ANSIBLE_VARS_MAX_DEPTH:
            raise UserError(f"{display_path(folder)}: vars folders nested more than {ANSIBLE_VARS_MAX_DEPTH} deep")
        try:
            names = sorted(entry.name for entry in folder.iterdir())
        except OSError as e:
            raise UserError(f"{display_path(folder)}: cannot list: {e.strerror}") from None
        self.entries += len(names)
        if self.entries > ANSIBLE_VARS_MAX_ENTRIES:
            raise UserError(
                f"{display_path(folder)}: more than {ANSIBLE_VARS_MAX_ENTRIES} entries in group_vars/ and host_vars/"
            )
        found: list[Path] = []
        for entry in names:
            if entry.startswith(".") or entry.endswith("~"):
                continue
            path = folder / entry
            if path.is_dir() and not path.suffix:
                found.extend(self._folder_files(path, depth + 1))
            elif path.is_file() and (not path.suffix or path.suffix in EXTENSIONS):
                found.append(path)
        return found

    def _read(self, path: Path) -> dict[str, VarsFileValue]:
        shown = display_path(path)
        self.files += 1
        if self.files > ANSIBLE_VARS_MAX_FILES:
            raise UserError(f"{shown}: more than {ANSIBLE_VARS_MAX_FILES} files in group_vars/ and host_vars/")
        try:
            with path.open("rb") as stream:
                data = stream.read(ANSIBLE_VARS_MAX_FILE_BYTES + 1)
        except OSError as e:
            raise UserError(f"{shown}: cannot read: {e.strerror}") from None
        if len(data) > ANSIBLE_VARS_MAX_FILE_BYTES:
            raise UserError(f"{shown}: larger than {ANSIBLE_VARS_MAX_FILE_BYTES} bytes")
        self.total_bytes += len(data)
        if self.total_bytes > ANSIBLE_VARS_MAX_TOTAL_BYTES:
            raise UserError(f"{shown}: group_vars/ and host_vars/ hold more than {ANSIBLE_VARS_MAX_TOTAL_BYTES} bytes")
        try:
            text = data.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise UserError(f"{shown}: not valid UTF-8") from None
        if text.lstrip().startswith("$ANSIBLE_VAULT;"):
            raise UserError(f"{shown}: encrypted with Ansible Vault: decrypt it first (ansible-vault decrypt)")
        document = load_yaml_refusing_vault(text, shown)
        if document is None:
            return {}  # an empty file (or only comments) sets nothing, as in Ansible
        root = Node(path, "", document)
        if not isinstance(document, dict):
            raise root.error("a vars file holds a mapping of variable names to values")
        return {key: VarsFileValue(node.value, path, node.key_path) for key, node in root.entries().items()}


def load_yaml_refusing_vault(text: str, shown: str) -> Any:
    """The YAML document, with a ``!vault`` value refused as what it is: remediate does not decrypt. The
    tag is told from the loader's own refusal, so the text ``!vault`` inside a string is no false alarm."""
    try:
        return load_yaml_text(text, shown)
    except UserError as e:
        vaulted = _VAULT_TAG_ERROR.match(str(e).removeprefix(shown))
        if vaulted is None:
            raise
        raise UserError(
            f"{shown}{vaulted.group(1)}: a value encrypted with Ansible Vault (!vault): remediate does not"
            " decrypt; decrypt it or pass the value with --secret-var"
        ) from None
