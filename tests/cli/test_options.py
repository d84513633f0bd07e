"""The command line, converted once into typed options (cli/options.py): each value read as the flag
says, every refusal in the flag's own words, and none of it below cli/ (plan/waves takes the names)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from remediate.cli.main import build_parser, main
from remediate.cli.options import ROLLOUT_FLAGS, connection_options, rollout_options, target_options
from remediate.errors import UserError
from remediate.model import RolloutSettings, SettingNames
from remediate.runs.apply import fleet_for, rollout_policy
from remediate.runs.options import ConnectionOptions, RolloutOptions, TargetOptions

# Two hosts nothing listens for (port 1): every refusal here comes before a connection is tried.
INVENTORY = """\
hosts:
  web1: {address: 127.0.0.1, port: 1}
  web2: {address: 127.0.0.1, port: 1}
groups:
  canary: {hosts: [web2]}
  db: {hosts: []}
"""
PLAYBOOK = "steps:\n- line_patch: {path: /etc/motd, regex: a, replace: b}\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "inv.yml").write_text(INVENTORY)
    (tmp_path / "pb.yml").write_text(PLAYBOOK)
    return str(tmp_path / "pb.yml"), str(tmp_path / "inv.yml")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch", "x"], "--batch: expected a number or a percentage such as 25%, got 'x'"),
        (["--batch", "0"], "--batch: must be more than 0, got '0'"),
        (["--batch", ","], "--batch: expected sizes such as 10%,50%,100% or 1,5,10"),
        (["--max-fail", "150%"], "--max-fail: a percentage is at most 100%, got '150%'"),
        (["--canary", "-1"], "--canary must be 0 or more"),
        (["--forks", "0"], "--forks must be at least 1"),
        (["--canary-group", "nope"], "--canary-group: no group 'nope' in the inventory"),
        (["--canary-group", "db"], "--canary-group: group 'db' has none of this run's hosts"),
        (["-e", "bad"], "--var 'bad': expected NAME=VALUE with NAME a variable name"),
        (["--secret-var", "=x"], "--var '=x': expected NAME=VALUE with NAME a variable name"),
        (["--max-file-size", "lots"], "--max-file-size: expected a size such as 10M or 500K, got 'lots'"),
        (["--timeout", "0"], "--timeout and --command-timeout must be more than 0 seconds"),
    ],
)
def test_a_bad_flag_is_refused_in_its_own_words(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    playbook, inventory = files
    assert main(["apply", playbook, "-i", inventory, "--dry-run", *flags]) == 2
    assert capsys.readouterr().err == f"remediate: error: {message}\n"


def test_the_become_password_is_asked_only_when_the_fleet_opens(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Standard input is no terminal under pytest: asked at once, the password would be the error here.
    playbook, _ = files
    assert main(["apply", playbook, "-i", str(tmp_path / "missing.yml"), "--dry-run", "--ask-become-pass"]) == 2
    assert capsys.readouterr().err == f"remediate: error: {tmp_path / 'missing.yml'}: file not found\n"


def test_the_flags_become_typed_values() -> None:
    args = build_parser().parse_args(
        ["apply", "pb", "-i", "inv", "-l", "web*", "-e", "a=1", "--secret-var", "token=s3", "--become",
         "--forks", "7", "--timeout", "3", "--max-file-size", "512K", "--ssh-config", "cfg",
         "--canary", "2", "--batch", "10%,100%", "--max-fail", "1", "--rollback-on-halt"]
    )  # fmt: skip
    assert target_options(args) == TargetOptions("inv", "web*", {"a": "1"}, {"token": "s3"})
    connection = connection_options(args)
    assert (connection.become, connection.forks, connection.connect_timeout, connection.command_timeout) == (
        True, 7, 3.0, 120.0
    )  # fmt: skip
    assert (connection.max_file_size, connection.ssh_config, connection.accept_new_host_keys) == (
        512 << 10,
        "cfg",
        False,
    )
    assert rollout_options(args) == RolloutOptions(2, None, "10%,100%", "1", True, ROLLOUT_FLAGS)


def test_a_fleet_of_no_forks_is_refused_as_its_caller_names_it(
    files: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    playbook, inventory = files
    assert main(["audit", playbook, "-i", inventory, "--forks", "-1"]) == 2  # no rollout policy checks it there
    assert capsys.readouterr().err == "remediate: error: --forks must be at least 1\n"
    with pytest.raises(UserError, match=r"^forks must be at least 1$"):
        fleet_for(ConnectionOptions(), 0)


def test_without_ask_become_pass_the_password_is_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDIATE_BECOME_PASSWORD", "from-env")
    connection = connection_options(build_parser().parse_args(["audit", "pb", "-i", "inv"]))
    assert connection.become_password() == "from-env"
    assert ConnectionOptions().become_password() is None


@pytest.mark.parametrize(
    ("given", "forks", "cli", "neutral"),
    [
        (RolloutOptions(batches="x"), None, "--batch: expected", "batches: expected"),
        (RolloutOptions(max_fail="x"), None, "--max-fail: expected", "max_fail: expected"),
        (RolloutOptions(canary=-1), None, "--canary must be 0 or more", "canary must be 0 or more"),
        (RolloutOptions(), 0, "--forks must be at least 1", "forks must be at least 1"),
        (RolloutOptions(canary_group="db"), None, "--canary-group: group 'db' has", "canary_group: group 'db' has"),
    ],
)
def test_the_rollout_policy_names_a_setting_as_its_caller_does(
    given: RolloutOptions, forks: int | None, cli: str, neutral: str
) -> None:
    for names, message in ((ROLLOUT_FLAGS, cli), (SettingNames(), neutral)):
        with pytest.raises(UserError) as raised:
            rollout_policy(replace(given, names=names), forks, RolloutSettings(), ["web1"], {"db": []})
        assert str(raised.value).startswith(message)


# A sharded run (issue 20): what it cannot do is refused before any host is touched, in one line.
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
