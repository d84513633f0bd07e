"""Extended attributes and ACLs: getfattr's dump parsed from canned output, and the reading answer."""

from __future__ import annotations

import base64

import pytest

from remediate.answer import BEGIN, END
from remediate.errors import HostError
from remediate.gather import parse_gather
from remediate.model import Xattrs
from remediate.xattrs import parse_xattr_dump

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
