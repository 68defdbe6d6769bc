"""A server whose ``@odata.nextLink`` points back at a page already read would keep a read
going forever: the read stops at the repeat, with an error naming the link. Real HTTP: a
server on 127.0.0.1, and a proxy in front of the sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.connectors.http.client import ODataClient
from integrator.errors import BadResponseError
from integrator.sandbox.testing import SandboxHandle
from tests.golden.dataset import load_sales
from tests.security.http_commands import init_workspace, integrator
from tests.security.http_servers import Answer, proxy, serve

#: path → the nextLink of its page (``None``: the last page); filled in by each test
Links = dict[str, str | None]


def _pages(links: Links, seen: list[str]) -> type[BaseHTTPRequestHandler]:
    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            origin = f"http://{self.headers['Host']}"
            body: dict[str, Any] = {"value": [{"n": len(seen)}]}
            link = links.get(self.path.partition("?")[0])
            if link is not None:
                body["@odata.nextLink"] = origin + link
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Pages


@pytest.fixture
def paging() -> Iterator[Callable[[Links], tuple[ODataClient, list[str]]]]:
    """``paging(links)``: a client of a server on 127.0.0.1 paging as ``links`` says, and
    the paths it was asked for."""
    servers = []

    def start(links: Links) -> tuple[ODataClient, list[str]]:
        seen: list[str] = []
        server = serve(_pages(links, seen))
        servers.append(server)
        return ODataClient(server.__enter__() + "/api/"), seen

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def test_a_next_link_to_the_same_page_stops_the_read_at_once(
    paging: Callable[[Links], tuple[ODataClient, list[str]]],
) -> None:
    client, seen = paging({"/api/contacts": "/api/contacts?$select=n"})
    read: list[Any] = []

    with pytest.raises(BadResponseError) as caught:
        for body in client.pages("contacts", params={"$select": "n"}):
            read.extend(body["value"])

    link = f"{client.base_url}contacts?$select=n"
    assert str(caught.value) == (
        f"GET {client.base_url}contacts: its @odata.nextLink {link} points back at a page "
        "this read has already read (1 page read); the read stops here instead of going "
        "round forever"
    )
    assert seen == ["/api/contacts?%24select=n"] and len(read) == 1


def test_a_loop_over_two_pages_is_seen_whatever_the_link_escapes(
    paging: Callable[[Links], tuple[ODataClient, list[str]]],
) -> None:
    client, seen = paging({"/api/contacts": "/api/page2", "/api/page2": "/api/contacts?$top=5"})

    with pytest.raises(BadResponseError, match=r"nextLink \S+/api/contacts\?\$top=5 points back"):
        list(client.pages("contacts", params={"$top": "5"}))

    assert seen == ["/api/contacts?%24top=5", "/api/page2"]


def test_pages_that_go_on_are_all_read(
    paging: Callable[[Links], tuple[ODataClient, list[str]]],
) -> None:
    client, seen = paging({"/api/a": "/api/b", "/api/b": "/api/c", "/api/c": None})

    assert [body["value"] for body in client.pages("a")] == [[{"n": 1}], [{"n": 2}], [{"n": 3}]]
    assert seen == ["/api/a", "/api/b", "/api/c"]


@pytest.mark.parametrize(
    "filtered",
    [
        pytest.param(True, id="a filtered read (client pages)"),
        pytest.param(False, id="the change-tracking read"),
    ],
)
def test_a_run_whose_source_pages_in_a_loop_fails_the_read_and_ends(
    tmp_path: Path, sandbox: SandboxHandle, filtered: bool
) -> None:
    load_sales(sandbox.data_dir)
    read_path = "/sales/api/data/v9.2/accounts?"

    def loop(method: str, path: str, origin: str) -> Answer | None:
        if method != "GET" or not path.startswith(read_path) or ("filter" in path) != filtered:
            return None
        body = httpx.get(sandbox.url + path, timeout=30).json()
        body["@odata.nextLink"] = origin + path  # "the next page" is this page again
        return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    with proxy(sandbox.url, loop) as service:
        workspace = init_workspace(tmp_path / "ws", service.origin)
        started = time.monotonic()
        result = integrator("run", "Accounts (Sales to Fin and Ops)", "--workspace", str(workspace))
        reads = [
            path
            for _, path in service.seen
            if path.startswith(read_path) and ("filter" in path) == filtered
        ]

    assert time.monotonic() - started < 60
    assert result.returncode == 1, result.stdout + result.stderr
    assert "points back at a page this read has already read" in result.stdout + result.stderr
    assert len(reads) == 1
