"""The lab host's pristine tree, byte for byte, against a golden snapshot (tests/lab_site_golden.json).

The snapshot was written from the code before the lab's site moved from Python strings to data files
(remediate/lab/site/), so these tests show the move changed no byte, mode, owner, symlink target or
order of any host's tree: two hosts, each without and with Apache. Regenerate it (``python
tests/lab/test_lab_site.py --write-golden``) only for a deliberate change to what a lab host holds.
"""

from __future__ import annotations

import glob
import grp
import hashlib
import json
import pwd
import re
import sys
import tomllib
from pathlib import Path

import pytest

from remediate.lab.docroot import (
    APACHE_LOCK_DIR,
    APACHE_LOG_DIR,
    APACHE_PID_FILE,
    APACHE_RUN_DIR,
    ApacheBuild,
    TreeEntry,
    host_pristine_tree,
    pristine_tree,
    substitute,
)

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "lab_site_golden.json"
LAB_PACKAGE = REPO / "remediate" / "lab"
PHP_MODULE = "/usr/lib/apache2/modules/libphp8.2.so"
HOSTS = (("web1", "127.0.1.1"), ("web42", "127.0.4.11"))

Row = tuple[str, str, str, str, str]  # path, kind, mode (octal), owner (user:group names), sha256 of data


def _www_data_ids() -> tuple[int, int]:
    try:
        return pwd.getpwnam("www-data").pw_uid, grp.getgrnam("www-data").gr_gid
    except KeyError:  # the tree falls back to root on a machine without www-data
        return 0, 0


def _owner(uid: int, gid: int) -> str:
    www_uid, www_gid = _www_data_ids()

    def name(number: int, www: int) -> str:
        return "root" if number == 0 else "www-data" if number == www else str(number)

    return f"{name(uid, www_uid)}:{name(gid, www_gid)}"


def rows(tree: tuple[TreeEntry, ...]) -> list[Row]:
    return [
        (
            entry.path,
            entry.kind,
            f"{entry.mode:04o}",
            _owner(entry.uid, entry.gid),
            hashlib.sha256(entry.data).hexdigest(),
        )
        for entry in tree
    ]


def cases() -> dict[str, tuple[str, str, ApacheBuild | None]]:
    return {
        f"{host} {address} {f'apache={build.php_module}' if build else 'no apache'}": (host, address, build)
        for host, address in HOSTS
        for build in (None, ApacheBuild(PHP_MODULE))
    }


def golden() -> dict[str, list[Row]]:
    document = json.loads(GOLDEN.read_text())
    entries = [tuple(entry) for entry in document["entries"]]
    return {key: [entries[k] for k in ids] for key, ids in document["trees"].items()}  # type: ignore[misc]


def write_golden() -> None:
    """The snapshot, with each distinct row stored once (the trees share most of them)."""
    index: dict[Row, int] = {}  # insertion-ordered: the rows in order of first appearance
    trees: dict[str, list[int]] = {}
    for key, (host, address, build) in cases().items():
        trees[key] = [index.setdefault(row, len(index)) for row in rows(host_pristine_tree(host, address, build))]
    about = (
        "Each lab host tree as remediate.lab made it before its site moved to data files: every distinct"
        " entry once (path, kind, octal mode, owner as user:group names, sha256 of the content or symlink"
        " target), and each tree as the entries' indexes in order. Written by"
        " `python tests/lab/test_lab_site.py --write-golden`."
    )
    lines = ["{", f' "about": {json.dumps(about)},', ' "entries": [']
    lines += [f"  {json.dumps(list(row))}," for row in index]
    lines[-1] = lines[-1].rstrip(",")
    lines += [" ],", ' "trees": {']
    lines += [f"  {json.dumps(key)}: {json.dumps(ids)}," for key, ids in trees.items()]
    lines[-1] = lines[-1].rstrip(",")
    lines += [" }", "}"]
    GOLDEN.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("key", list(cases()))
def test_host_tree_is_byte_for_byte_the_golden_one(key: str) -> None:
    host, address, build = cases()[key]
    expected = golden()[key]
    actual = rows(host_pristine_tree(host, address, build))
    changed = sorted({row[0] for row in set(actual) ^ set(expected)})
    assert not changed, f"entries that differ from the golden tree: {changed}"
    assert actual == expected  # the same entries, also in the same order (parents before children)


def test_golden_covers_two_hosts_with_and_without_apache() -> None:
    trees = golden()
    assert set(trees) == set(cases())
    no_apache = [trees[key] for key in trees if key.endswith("no apache")]
    with_apache = [trees[key] for key in trees if "apache=" in key]
    assert no_apache[0] == no_apache[1]  # without Apache every host's tree is the same
    assert with_apache[0] != with_apache[1]  # with it, envvars, ports.conf and servername.conf are the host's
    assert {row[0] for row in set(with_apache[0]) ^ set(with_apache[1])} == {
        "/etc/apache2/envvars",
        "/etc/apache2/ports.conf",
        "/etc/apache2/conf-available/servername.conf",
    }


def test_substitute_fills_every_placeholder_and_refuses_an_unknown_one() -> None:
    values = {"HOST_NAME": "web3", "HOST_ADDRESS": "127.0.1.3"}
    assert substitute("Listen @HOST_ADDRESS@:80 # @HOST_NAME@ @HOST_NAME@", values) == "Listen 127.0.1.3:80 # web3 web3"
    assert substitute("${APACHE_LOG_DIR} webmaster@localhost /**#@+ @package", {}) == (
        "${APACHE_LOG_DIR} webmaster@localhost /**#@+ @package"
    )  # what the site's files hold besides placeholders is left alone
    with pytest.raises(ValueError, match="@HOST_NAME@ has no value"):
        substitute("ServerName @HOST_NAME@", {"HOST_ADDRESS": "127.0.1.3"})


def test_no_placeholder_is_left_in_any_tree() -> None:
    for host, address, build in cases().values():
        for entry in host_pristine_tree(host, address, build):
            assert not re.search(r"@[A-Z][A-Z0-9_]*@", entry.path + entry.data.decode()), entry.path


def test_apache_envvars_keeps_its_state_where_the_lab_looks_for_it() -> None:
    """The data file's paths are the constants lab.fleet uses (the pid file) and the tests check."""
    envvars = {e.path: e.data.decode() for e in host_pristine_tree("web1", "127.0.1.1", ApacheBuild(PHP_MODULE))}[
        "/etc/apache2/envvars"
    ]
    for name, value in (
        ("APACHE_PID_FILE", APACHE_PID_FILE),
        ("APACHE_RUN_DIR", APACHE_RUN_DIR),
        ("APACHE_LOCK_DIR", APACHE_LOCK_DIR),
        ("APACHE_LOG_DIR", APACHE_LOG_DIR),
    ):
        assert f"\nexport {name}={value}\n" in envvars


def test_every_site_file_is_used_and_shipped() -> None:
    """Each content file under site/ is an entry of some tree (no orphans), and pyproject's package-data
    patterns, with the glob rules setuptools applies (``*`` skips dot files), match every file there:
    the wheel and the editable install hold the whole site."""
    site = LAB_PACKAGE / "site"
    on_disk = {str(path.relative_to(LAB_PACKAGE)) for path in site.rglob("*") if path.is_file()}
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {
        match
        for pattern in patterns["remediate.lab"]
        for match in glob.glob(pattern, root_dir=LAB_PACKAGE, recursive=True)
    }
    assert on_disk - shipped == set()
    build = ApacheBuild(PHP_MODULE)
    paths = {
        e.path for tree in (pristine_tree(), pristine_tree(build), host_pristine_tree("w", "a", build)) for e in tree
    }
    unused = {
        name
        for name in on_disk - {"site/tree.txt"}
        if substitute("/" + name.split("/", 2)[2], {"PHP_MODULE_NAME": build.php_module_name}) not in paths
    }
    assert unused == set()


if __name__ == "__main__" and sys.argv[1:] == ["--write-golden"]:
    write_golden()
