"""Planning one canned host (web1) from a playbook's text and the files it "observed": no hosts, no SSH."""

from __future__ import annotations

import textwrap
from pathlib import Path

from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import FileKind, RemoteFile
from remediate.plan.planner import build_plan, render_targets

INVENTORY = "hosts: {web1: {address: 127.0.1.1, vars: {docroot: /var/www/html}}}\n"


def setup(tmp_path: Path, playbook: str, templates: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    for name, text in (templates or {}).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pb.yml").write_text(textwrap.dedent(playbook))
    (tmp_path / "inv.yml").write_text(INVENTORY)
    return load_playbook(str(tmp_path / "pb.yml")), load_inventory(str(tmp_path / "inv.yml"))


def existing(path: str, content: bytes, mode: int = 0o644) -> RemoteFile:
    return RemoteFile(path, FileKind.FILE, path, mode, 33, 33, "www-data", "www-data", len(content), content)


def plan_for(tmp_path: Path, playbook_text: str, observed, templates=None):  # type: ignore[no-untyped-def]
    playbook, inventory = setup(tmp_path, playbook_text, templates)
    targets = render_targets(playbook, inventory, None, {})
    return build_plan("RUN", playbook, inventory, targets, {"web1": observed}).hosts[0]
