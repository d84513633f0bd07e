"""A fleet is one change: hosts with byte-identical changes share one diff block (issue 17)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from labtools import WP, run_json

from remediate.cli.main import main
from remediate.lab.fleet import Lab
from remediate.report.groups import compact_hosts, group_by


@pytest.mark.parametrize(
    ("names", "shown"),
    [
        (["web1", "web2", "web3"], "web[1-3]"),
        ([f"web{n:02d}" for n in range(1, 47)] + ["db1"], "web[01-46], db1"),
        (["web9", "web10", "web11"], "web[9-11]"),  # unpadded numbers join across widths
        (["web1", "web3", "web4", "web7"], "web1, web[3-4], web7"),
        (["db1", "web1", "db2"], "db[1-2], web1"),  # in the order a name of each first appears
        (["a.example.com", "b.example.com"], "a.example.com, b.example.com"),
        (["node1a", "node2a", "node2b"], "node[1-2]a, node2b"),
        (["web1", "web1"], "web1"),
    ],
)
def test_host_names_compact_to_ranges(names: list[str], shown: str) -> None:
    assert compact_hosts(names) == shown


def test_groups_come_largest_first_then_in_the_order_first_seen() -> None:
    assert group_by(["a", "b", "a", "c", "b", "a"], lambda x: x) == [("a", "a", "a"), ("b", "b"), ("c",)]


def dry_run_text(lab: Lab, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["apply", "fix-phpp", "-i", str(lab.inventory_path), "--dry-run", *flags]) == 0
    return capsys.readouterr().out


def blocks(text: str) -> list[str]:
    """The block titles of a plan's printout: one line per host or group, before its diffs."""
    return [line for line in text.splitlines() if line.endswith(("to change", ")")) and " (" in line]


@pytest.mark.lab
def test_identical_hosts_print_one_diff_and_outliers_their_own(
    big_lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    count = len(big_lab.hosts)
    assert count >= 20
    text = dry_run_text(big_lab, capsys)
    assert text.count(f"--- a{WP}") == 1, text[:3000]
    assert blocks(text) == [f"web[1-{count}] ({count} hosts): 1 file to change"]

    # Two hosts whose file differs elsewhere: the same fix is another diff there.
    for host, extra in ((big_lab.hosts[4], b"// edited on web5\n"), (big_lab.hosts[11], b"// edited on web12\n")):
        path = host.local_path(WP)
        path.write_bytes(path.read_bytes().replace(b"require ABSPATH . WPINC . '/class-wp-locale.phpp';\n",
                                                   b"require ABSPATH . WPINC . '/class-wp-locale.phpp';\n" + extra))  # fmt: skip
    text = dry_run_text(big_lab, capsys)
    assert text.count(f"--- a{WP}") == 3, text[:3000]
    assert blocks(text) == [
        f"web[1-4], web[6-11], web[13-{count}] ({count - 2} hosts): 1 file to change",
        f"web5 ({big_lab.hosts[4].address}): 1 file to change",
        f"web12 ({big_lab.hosts[11].address}): 1 file to change",
    ]
    assert "+// edited on web5" not in text and " // edited on web5" in text  # context of its own diff

    per_host = dry_run_text(big_lab, capsys, "--diff", "per-host")
    assert per_host.count(f"--- a{WP}") == count
    assert blocks(per_host) == [f"{h.name} ({h.address}): 1 file to change" for h in big_lab.hosts]
    none = dry_run_text(big_lab, capsys, "--diff", "none")
    assert f"--- a{WP}" not in none and blocks(none) == blocks(text)

    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--dry-run", "--json")
    assert code == 0
    groups = sorted(doc["groups"].values(), key=len, reverse=True)
    assert [len(g) for g in groups] == [count - 2, 1, 1] and groups[1:] == [["web5"], ["web12"]]
    assert all(entry["changes"] for entry in doc["hosts"].values())  # every host keeps its own changes


@pytest.mark.lab
def test_show_groups_the_hosts_of_a_run(big_lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--yes")
    assert code == 0
    count = len(big_lab.hosts)
    assert main(["show", doc["run_id"]]) == 0
    text = capsys.readouterr().out
    assert f"web[1-{count}] ({count} hosts): changed" in text and text.count(f"--- a{WP}") == 1, text[:2000]
    assert main(["show", doc["run_id"], "--diff", "per-host"]) == 0
    assert capsys.readouterr().out.count(f"--- a{WP}") == count
    assert main(["show", doc["run_id"], "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hosts"]) == count


def summary_of(text: str) -> list[str]:
    """The lines after the plan and the progress (a line per host finished: ``web3: changed``)."""
    lines = text.splitlines()
    progress = [i for i, line in enumerate(lines) if re.match(r"^[\w.-]+: [a-z_]+(?: |$)", line)]
    return lines[progress[-1] + 1 :]


@pytest.mark.lab
def test_the_summary_of_an_all_ok_fleet_is_short_and_lists_every_host_that_is_not(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hotfix = [
        "hotfix", "--file", WP, "--sed", r"s/\.phpp\b/.php/", "--verify-http", "http://{{ host.address }}:8080/",
        "--yes", "--diff", "none", "--max-fail", "100%",
    ]  # fmt: skip
    assert main([*hotfix, "-i", str(big_lab.inventory_path)]) == 0
    text = capsys.readouterr().out
    summary = summary_of(text)
    assert len(summary) < 15, "\n".join(summary)
    assert f"verified: web[1-{len(big_lab.hosts)}]: ok HTTP 200" in summary  # one line for the same health
    assert any(line.startswith("backups on each changed host: /var/backups/remediate/") for line in summary)
    assert f"{len(big_lab.hosts)} changed" in summary[-1]


HOTFIX = [
    "hotfix", "--file", WP, "--sed", r"s/\.phpp\b/.php/", "--verify-http", "http://{{ host.address }}:8080/",
    "--yes", "--diff", "none", "--max-fail", "100%",
]  # fmt: skip


@pytest.mark.lab
def test_the_summary_lists_each_host_that_is_not_ok_with_its_reason_and_no_other(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hotfix = HOTFIX
    # Two hosts that cannot be reached: each is listed, with its reason; the ok ones are not.
    inventory = big_lab.inventory_path.read_text().replace(
        "hosts:\n",
        "hosts:\n  ghost1: {address: 127.0.0.1, port: 9}\n  ghost2: {address: 127.0.0.1, port: 9}\n",
        1,
    )
    with_ghosts = tmp_path / "with-ghosts.yml"
    with_ghosts.write_text(inventory)
    assert main([*hotfix, "-i", str(with_ghosts)]) == 1
    text = capsys.readouterr().out
    summary = summary_of(text)
    assert len(summary) < 15, "\n".join(summary)
    rows = [line for line in summary if "ghost" in line or any(f" {h.name} " in line for h in big_lab.hosts)]
    assert [row.split()[1] for row in rows if "ghost" in row] == ["ghost1", "ghost2"], text[-3000:]
    assert all("unreachable" in row and "refused" in row.lower() for row in rows if "ghost" in row), rows
    assert not [row for row in rows if "ghost" not in row], rows  # no row for a host that is ok
