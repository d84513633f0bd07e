"""What a sharded run cannot do is refused before any host is touched: one line, exit 2 (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.cli.main import main

INVENTORY = "hosts:\n  web1: {address: 127.0.0.1, port: 1}\n"  # never reached: nothing gets that far
PLAYBOOK = "name: pb\nsteps:\n  - line_patch: {path: /etc/app.conf, regex: a, replace: b}\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "inv.yml").write_text(INVENTORY)
    (tmp_path / "pb.yml").write_text(PLAYBOOK)
    return str(tmp_path / "pb.yml"), str(tmp_path / "inv.yml")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dry-run"], "--workers with --dry-run: a dry-run writes nothing, so it queues nothing for workers"),
        (
            ["--rollback-on-halt"],
            "--workers with --rollback-on-halt is not supported: after a halt, `remediate rollback RUN` puts back"
            " every host the workers changed",
        ),
    ],
)
def test_apply_workers_refuses_what_workers_cannot_do(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    playbook, inventory = files
    assert main(["apply", playbook, "-i", inventory, "--yes", "--workers", *flags]) == 2
    assert capsys.readouterr().err == f"remediate: error: {message}\n"


def test_workers_need_a_postgresql_journal(
    files: tuple[str, str], in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    playbook, inventory = files
    assert main(["apply", playbook, "-i", inventory, "--yes", "--workers"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"remediate: error: --workers: the journal {in_repo / 'journal.sqlite'} is SQLite")
    assert err.count("\n") == 1
    assert main(["work", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
