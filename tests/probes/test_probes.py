"""Probes from the controller against a real HTTP server on loopback: retries after a change, one look before."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from remediate.probes.checks import run_on_controller
from remediate.probes.http import HttpProbe


class _Counting(http.server.BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: object) -> None:  # quiet: pytest shows what matters
        pass


@pytest.fixture
def failing_site() -> Iterator[tuple[str, type[_Counting]]]:
    """A site on 127.0.0.1 that answers 500 to everything and counts the requests."""
    handler = type("Handler", (_Counting,), {"requests": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()


def test_an_http_probe_retries_after_a_change(failing_site: tuple[str, type[_Counting]]) -> None:
    url, handler = failing_site
    pauses: list[float] = []
    result = run_on_controller(HttpProbe(url, retries=3, delay=1.5), "127.0.0.1", sleep=pauses.append)
    assert (result.ok, result.detail) == (False, "HTTP 500, expected 200")
    assert handler.requests == 3 and pauses == [1.5, 1.5]


def test_a_precheck_looks_once(failing_site: tuple[str, type[_Counting]]) -> None:
    url, handler = failing_site
    pauses: list[float] = []
    result = run_on_controller(HttpProbe(url, retries=3, delay=1.5), "127.0.0.1", sleep=pauses.append, retry=False)
    assert (result.ok, result.detail) == (False, "HTTP 500, expected 200")
    assert handler.requests == 1 and pauses == []
