"""playbooks/apache-vhost.yml through the whole engine, on lab hosts running a real Apache.

The second outage behind remediate: an Apache misconfiguration went live untested. Here a vhost only
goes live if `apache2ctl configtest` accepts the whole configuration with it in place; then a graceful
reload; then a probe.
"""

from __future__ import annotations

import urllib.request

import pytest
from labtools import run_json

from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab

VHOST = "/etc/apache2/sites-available/000-default.conf"


def headers(url: str) -> dict[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(response.headers)


def test_vhost_goes_live_after_configtest_and_a_graceful_reload(
    apache_lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    assert all("X-Frame-Options" not in headers(f"{h.apache_url}health.txt") for h in apache_lab.hosts)
    code, doc = run_json(capsys, "apply", "apache-vhost", "-i", str(apache_lab.inventory_path), "--yes")
    assert code == 0, doc
    for host in apache_lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "changed"
        assert [p["detail"] for p in entry["probes"]] == ["HTTP 200"]
        assert f"ServerAlias {host.name} {host.address}" in host.local_path(VHOST).read_text()
        # The graceful reload really happened: the new vhost's headers are served.
        assert headers(f"{host.apache_url}health.txt")["X-Frame-Options"] == "SAMEORIGIN"
    code, doc = run_json(capsys, "apply", "apache-vhost", "-i", str(apache_lab.inventory_path), "--yes")
    assert code == 0 and doc["summary"] == {"unchanged": len(apache_lab.hosts)}


def test_a_vhost_apache_rejects_never_goes_live(apache_lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    before = {h.name: h.local_path(VHOST).read_bytes() for h in apache_lab.hosts}
    # A ServerName with a space is the kind of typo that took an outage three hours to find.
    code, doc = run_json(
        capsys,
        "apply",
        "apache-vhost",
        "-i",
        str(apache_lab.inventory_path),
        "--yes",
        "--max-fail",
        "100%",
        "--var",
        "server_name=www example",
    )
    assert code == 1
    for host in apache_lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "failed"
        assert entry["error"].startswith(f"validation of {VHOST} failed: ")
        assert "ServerName takes one argument" in entry["error"]
        assert host.local_path(VHOST).read_bytes() == before[host.name]
        # Apache was never reloaded onto the bad file: still up, still the old vhost.
        assert "X-Frame-Options" not in headers(f"{host.apache_url}health.txt")
