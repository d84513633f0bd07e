"""Extended attributes and ACLs: getfattr's dump parsed from canned output, the setfattr half run by a real
sh on real files, and the attributes carried by the plan, its file, the journal and the undo."""

from __future__ import annotations

import base64
import dataclasses
import os
import stat
import subprocess
from pathlib import Path

import pytest
from remote_shells import commit_script, run_sh

from remediate.errors import HostError, UserError
from remediate.journal import Journal
from remediate.load.planfile import plan_document, plan_from_document
from remediate.load.playbook import load_playbook
from remediate.model import FileChange, FileKind, Host, HostPlan, Plan, RemoteFile, Xattrs
from remediate.plan.masking import Masker
from remediate.plan.notes import unkept_xattrs_notes
from remediate.plan.planner import plan_host
from remediate.plan.undo import reverse
from remediate.remote.answer import BEGIN, END
from remediate.remote.commit import parse_commit
from remediate.remote.gather import gather_script, parse_gather
from remediate.remote.xattrs import escape, parse_xattr_dump, unescape

WEIRD = "/srv/we\\ird\nna=me\t\x01é"  # a backslash, a newline, an equals sign, a tab, a control and UTF-8
ACL_0640_NOBODY = base64.b64decode("AgAAAAEABgD/////AgAEAP7/AAAEAAQA/////xAABAD/////IAAAAP////8=")

# What getfattr 2.5.1 printed for two of them: names escaped with \ooo (backslash, newline, "=" in an
# attribute's name), every value base64, an empty one as a bare 0s, a blank line after each file.
DUMP = (
    b"# file: /srv/plain\n"
    b"security.selinux=0sc3lzdGVtX3U6b2JqZWN0X3I6aHR0cGRfc3lzX2NvbnRlbnRfdDpzMAA=\n"
    b"system.posix_acl_access=0sAgAAAAEABgD/////AgAEAP7/AAAEAAQA/////xAABAD/////IAAAAP////8=\n"
    b"trusted.t=0s\n"
    b"user.we\\075ird\\012x\\134y=0sMQ==\n"
    b"\n"
    b"# file: /srv/we\\134ird\\012na=me\t\x01\xc3\xa9\n"
    b"user.q=0scQ==\n"
)


def test_a_dump_is_read_per_file_with_its_escapes_undone() -> None:
    found = parse_xattr_dump(DUMP, ["/srv/plain", WEIRD, "/srv/none"])
    assert found == {
        "/srv/plain": (
            ("security.selinux", b"system_u:object_r:httpd_sys_content_t:s0\x00"),
            ("system.posix_acl_access", ACL_0640_NOBODY),
            ("trusted.t", b""),
            ("user.we=ird\nx\\y", b"1"),
        ),
        WEIRD: (("user.q", b"q"),),
    }


@pytest.mark.parametrize(
    "dump",
    [
        b"user.a=0sMQ==\n",  # an attribute before any file
        b"# file: /srv/other\nuser.a=0sMQ==\n",  # a file that was not asked about
        b"# file: /srv/plain\n\n# file: /srv/plain\n",  # the same file twice
        b"# file: /srv/plain\nuser.a\n",  # no value
        b'# file: /srv/plain\nuser.a="1"\n',  # not base64 (getfattr was asked for base64)
        b"# file: /srv/plain\nuser.a=0s!!\n",
        b"# file: /srv/plain\n=0sMQ==\n",  # no name
        f"# file: /srv/plain\n{END}\n".encode(),
    ],
)
def test_anything_else_in_a_dump_fails_the_host(dump: bytes) -> None:
    with pytest.raises(HostError, match="unexpected answer while reading extended attributes"):
        parse_xattr_dump(dump, ["/srv/plain"])


@pytest.mark.parametrize("text", ["plain/path.conf", WEIRD, "a b'c\"$(x)`y`=\\101", "\udcff raw byte"])
def test_an_escaped_name_is_one_safe_word_that_unescapes_to_itself(text: str) -> None:
    escaped = escape(text)
    assert escaped.isascii() and escaped.isprintable() and not set(escaped) & set(" '\"$`=\n")
    assert unescape(escaped.encode()) == text.encode("utf-8", errors="surrogateescape")


def answer(*records: str) -> bytes:
    return "\n".join([BEGIN, "0 stat = 81a0 3 33 33 www-data www-data bYWJj", *records, END, ""]).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("records", "xattrs"),
    [
        ((), ()),  # getfattr found none
        ((f"xattrs {b64(b'# file: /srv/plain' + chr(10).encode() + b'user.a=0sMQ==')}",), (("user.a", b"1"),)),
        (("no-getfattr",), None),  # not known: the plan notes it
    ],
)
def test_the_reading_answer_gives_each_file_its_attributes(records: tuple[str, ...], xattrs: Xattrs | None) -> None:
    assert parse_gather(answer(*records), ["/srv/plain"])["/srv/plain"].xattrs == xattrs


@pytest.mark.parametrize("record", ["xattrs", "xattrs !!", "xattrs a b", "no-getfattr x", f"xattrs {b64(b'junk')}"])
def test_a_malformed_attributes_record_fails_the_host(record: str) -> None:
    with pytest.raises(HostError, match="unexpected answer"):
        parse_gather(answer(record), ["/srv/plain"])


def attributes(path: Path) -> dict[str, bytes]:
    return {name: os.getxattr(path, name) for name in os.listxattr(path)}


STAGED = {"user.plain": b"1", "user.empty": b"", "user.with=equals": b"\x00\xff", "trusted.t": b"root's"}


def staged_file(tmp_path: Path) -> Path:
    """A 0640 file on this machine's disk, in a folder whose name needs escaping, with attributes of
    every awkward kind (an empty value, an "=" in a name, a trusted one) and an ACL."""
    folder = tmp_path / "conf d\\1"
    folder.mkdir()
    target = folder / "app.conf"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    for name, value in STAGED.items():
        os.setxattr(target, name, value)
    subprocess.run(["setfacl", "-m", "u:nobody:r", str(target)], check=True)
    return target


def read(target: Path) -> RemoteFile:
    result = run_sh(gather_script([str(target)]))
    return parse_gather(result.stdout, [str(target)])[str(target)]


def change_of(remote: RemoteFile, after: bytes, validators: tuple[str, ...] = ()) -> FileChange:
    return FileChange(
        remote.path, remote.real_path, ("s",), remote.content, after, remote.mode, remote.uid, remote.gid,
        before_mode=remote.mode, validators=validators, xattrs=remote.xattrs, before_xattrs=remote.xattrs,
    )  # fmt: skip


def commit(tmp_path: Path, changes: list[FileChange]) -> bytes:
    lock = str(tmp_path / "lock")
    result = run_sh(commit_script("RUN", changes, backup_root=str(tmp_path / "b"), lock_dir=lock, as_root=True))
    return result.stdout


@pytest.mark.usefixtures("remote_shell")
def test_the_replacement_and_the_backup_get_the_originals_attributes(tmp_path: Path) -> None:
    target = staged_file(tmp_path)
    staged = attributes(target)
    remote = read(target)
    assert dict(remote.xattrs or ()) == staged and set(staged) == {*STAGED, "system.posix_acl_access"}
    outcome = parse_commit(commit(tmp_path, [change_of(remote, b"new\n")]))
    assert outcome.completed
    assert target.read_bytes() == b"new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert attributes(target) == staged
    assert attributes(Path(outcome.backups[0])) == staged


@pytest.mark.usefixtures("remote_shell")
def test_a_failed_whole_config_check_puts_the_original_back_with_its_attributes(tmp_path: Path) -> None:
    target = staged_file(tmp_path)
    staged = attributes(target)
    outcome = parse_commit(commit(tmp_path, [change_of(read(target), b"new\n", ("echo no; exit 1",))]))
    assert outcome.invalid == (0, "no") and outcome.restored == (0,)
    assert target.read_bytes() == b"old\n" and attributes(target) == staged


@pytest.mark.usefixtures("remote_shell")
def test_an_acl_given_with_a_new_mode_takes_that_mode(tmp_path: Path) -> None:
    target = staged_file(tmp_path)
    change = dataclasses.replace(change_of(read(target), b"new\n"), mode=0o600)
    assert parse_commit(commit(tmp_path, [change])).completed
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    acl = subprocess.run(["getfacl", "-c", str(target)], capture_output=True, text=True, check=True).stdout
    assert "user:nobody:r--\t#effective:---" in acl  # the entry kept, masked as chmod 0600 masks it


@pytest.mark.usefixtures("remote_shell")
def test_a_refused_attribute_fails_the_host_before_anything_is_replaced(tmp_path: Path) -> None:
    target = staged_file(tmp_path)
    change = dataclasses.replace(change_of(read(target), b"new\n"), xattrs=(("bogus.name", b"x"),))
    outcome = parse_commit(commit(tmp_path, [change]))
    assert outcome.error is not None and outcome.replaced == ()
    assert outcome.error[1].startswith("cannot set the extended attributes and ACLs of the originals: setfattr: ")
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["app.conf"]  # its temporary file removed


XATTRS: Xattrs = (("security.selinux", b"label\x00"), ("user.a", b""))


def test_the_plan_carries_the_originals_attributes_and_undoing_gives_them_back(tmp_path: Path) -> None:
    (tmp_path / "pb.yml").write_text("steps:\n  - line_patch: {path: /etc/app.conf, regex: old, replace: new}\n")
    playbook = load_playbook(str(tmp_path / "pb.yml"))
    observed = RemoteFile("/etc/app.conf", FileKind.FILE, "/etc/app.conf", 0o640, 0, 0, "root", "root", 4,
                          b"old\n", xattrs=XATTRS)  # fmt: skip
    (change,) = plan_host(playbook, Host("web1", "a"), playbook.steps, {"/etc/app.conf": observed}).changes
    assert (change.xattrs, change.before_xattrs) == (XATTRS, XATTRS)
    replaced = dataclasses.replace(change, xattrs=(("user.new", b"1"),))  # (a replacement that got others)
    undo = reverse(replaced)
    assert (undo.xattrs, undo.before_xattrs) == (XATTRS, (("user.new", b"1"),))


def test_a_file_whose_attributes_are_not_known_gets_a_note_and_a_new_file_none() -> None:
    known = FileChange("/a", "/a", ("fix",), b"x", b"y", 0o644, 0, 0, xattrs=XATTRS, before_xattrs=XATTRS)
    unknown = dataclasses.replace(known, path="/b", xattrs=None, before_xattrs=None)
    created = FileChange("/c", "/c", ("make",), None, b"y", 0o644, None, None)
    notes = unkept_xattrs_notes(Host("web1", "a"), [known, unknown, created])
    assert [(n.path, n.step, n.reason) for n in notes] == [
        ("", "fix", "getfattr not found on web1: extended attributes and ACLs of /b cannot be kept")
    ]


def test_a_plan_file_and_the_journal_keep_the_attributes(tmp_path: Path) -> None:
    weird: Xattrs = (("user.\udcff=x\n", b"\x00\xff"), *XATTRS)
    change = FileChange("/a", "/a", ("fix",), b"x", b"y", 0o644, 0, 0, xattrs=weird, before_xattrs=XATTRS)
    unknown = dataclasses.replace(change, path="/b", real_path="/b", xattrs=None, before_xattrs=None)
    plan = Plan("P", "pb", "inv", (HostPlan(Host("web1", "a"), (change, unknown)),))
    loaded, _ = plan_from_document(plan_document(plan, "pb.yml", "sha", 0.0, "me", Masker()), "fix.plan")
    assert [(c.xattrs, c.before_xattrs) for c in loaded.hosts[0].changes] == [(weird, XATTRS), (None, None)]
    with Journal(tmp_path / "state", Masker()) as journal:
        journal.start_run("R", "apply", "pb", "pb.yml", "sha", "inv", [])
        journal.record_host_plan("R", plan.hosts[0], "writing", {})
        # The journal keeps the original's: what a later rollback gives back.
        assert [f.xattrs for f in journal.files("R")] == [XATTRS, None]


def test_a_plan_file_with_malformed_attributes_is_refused_in_one_line() -> None:
    change = FileChange("/a", "/a", ("fix",), b"x", b"y", 0o644, 0, 0)
    document = plan_document(
        Plan("P", "pb", "inv", (HostPlan(Host("web1", "a"), (change,)),)), "pb", "s", 0.0, "me", Masker()
    )
    document["hosts"][0]["changes"][0]["xattrs"] = [["user.a"]]
    with pytest.raises(UserError, match=r"fix\.plan: malformed plan file: ValueError: extended attributes"):
        plan_from_document(document, "fix.plan")
