"""The operator's configuration file (remediate/load/config.py): where it is looked for, what it may say,
and the journal it names, which --journal and $REMEDIATE_JOURNAL override."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remediate.cli.main import main
from remediate.errors import EXIT_BAD_INPUT, UserError
from remediate.journal import journal_target, state_dir
from remediate.load.config import Config, config_path, load_config

URL = "postgresql://ann@db.example.com/remediate"


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_file_is_looked_for_in_xdg_config_home_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "remediate" / "config.yml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/xdg")  # ignored, as the spec says
    assert config_path() == Path.home() / ".config" / "remediate" / "config.yml"
    monkeypatch.setenv("REMEDIATE_CONFIG", str(tmp_path / "mine.yml"))
    assert config_path() == tmp_path / "mine.yml"


def test_no_file_is_the_defaults() -> None:
    assert load_config() == Config()
    assert journal_target(None) == state_dir()


def test_the_journal_comes_from_the_flag_then_the_environment_then_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(tmp_path / "config" / "remediate" / "config.yml", f"journal: {URL}\n")
    assert load_config() == Config(journal=URL)
    assert journal_target(None) == URL
    monkeypatch.setenv("REMEDIATE_JOURNAL", "postgresql://env@db/j")
    assert journal_target(None) == "postgresql://env@db/j"
    assert journal_target("postgresql://flag@db/j") == "postgresql://flag@db/j"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("journal: sqlite:///x.db\n", "config.yml: journal: expected a postgresql://... URL"),
        ("journal: [a, b]\n", "config.yml: journal: expected a string, got a list"),
        ("jounral: postgresql://x/y\n", "config.yml: jounral: unknown key (expected one of: journal)"),
        ("journal: [\n", "config.yml:2:1: YAML syntax error"),
        ("- journal\n", "config.yml: expected a mapping, got a list"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path / "config" / "remediate" / "config.yml", text)
    with pytest.raises(UserError) as raised:
        load_config()
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_file_others_can_change_is_refused(tmp_path: Path) -> None:
    """The journal it names tells a rollback what to write: a file someone else could edit is not trusted."""
    path = _write(tmp_path / "config" / "remediate" / "config.yml", f"journal: {URL}\n", mode=0o666)
    with pytest.raises(UserError, match=r"config.yml: is writable by others \(mode 0666\); chmod go-w it"):
        load_config()
    path.chmod(0o644)
    assert load_config().journal == URL


def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "config" / "remediate" / "config.yml", f"journal: {URL}\n")
    os.chown(path, 65534, 65534)  # nobody: the tests run as root
    with pytest.raises(UserError, match="belongs to another user"):
        load_config()


def test_a_file_named_by_the_environment_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REMEDIATE_CONFIG", str(tmp_path / "missing.yml"))
    with pytest.raises(UserError, match=r"missing.yml: file not found \(named by \$REMEDIATE_CONFIG\)"):
        load_config()


def test_a_bad_file_stops_a_command_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "config" / "remediate" / "config.yml", "journal: mysql://x/y\n")
    assert main(["runs"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config.yml: journal: expected a postgresql://... URL" in err, err
