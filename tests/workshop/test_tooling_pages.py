"""/_workshop/* and the kit server answer odd requests with a 4xx, never a 500.

- /_workshop/static/ answers 404 for a file it does not have;
- /_workshop/* refuses (403) a write from another site and any request whose
  Host is not a name of this machine (a DNS-rebinding page);
- `python -m workshop.kit --serve` answers 400 to a path with a NUL byte and
  404 to anything but its folder's listing and its real files.
"""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from workshop.timeline import instrument


@pytest.fixture
def tooling() -> TestClient:
    """A tiny app inside the timeline's wrapper, at http://127.0.0.1:8000."""
    client = TestClient(instrument(FastAPI()), raise_server_exceptions=False)
    client.base_url = client.base_url.copy_with(host="127.0.0.1", port=8000)
    return client


@pytest.mark.parametrize(
    "path", ["/_workshop/static/nothing.js", "/_workshop/static/%00", "/_workshop/x"]
)
def test_what_the_tooling_does_not_have_is_404(tooling, path) -> None:
    """A missing static file is a 404 (it was a 500 and a traceback)."""
    assert tooling.get(path).status_code == 404


def test_a_static_file_it_has_is_served(tooling) -> None:
    response = tooling.get("/_workshop/static/swagger-ui.css")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1:9999", "null"]
)
def test_a_write_from_another_site_is_refused(tooling, origin) -> None:
    """POST /_workshop/timeline/reset from another origin answers 403."""
    response = tooling.post("/_workshop/timeline/reset", headers={"origin": origin})
    assert response.status_code == 403, response.text


def test_a_write_from_the_page_itself_or_curl_is_taken(tooling) -> None:
    own = {"origin": "http://127.0.0.1:8000"}
    assert tooling.post("/_workshop/timeline/reset", headers=own).status_code == 200
    assert tooling.post("/_workshop/timeline/reset").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "[::1"])
def test_a_foreign_host_is_refused(tooling, host) -> None:
    """A DNS-rebinding page (another name for 127.0.0.1) cannot read the timeline."""
    response = tooling.get("/_workshop/timeline.json", headers={"host": host})
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    "host",
    ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "x-8000.app.github.dev"],
)
def test_the_machines_own_names_are_served(tooling, host) -> None:
    response = tooling.get("/_workshop/timeline.json", headers={"host": host})
    assert response.status_code == 200, response.text


def test_the_apps_own_paths_are_not_guarded(tooling) -> None:
    """Only /_workshop/* is guarded: the lesson's app answers as it would."""
    response = tooling.get("/openapi.json", headers={"host": "evil.example"})
    assert response.status_code == 200


# --- the kit server ---


@pytest.fixture
def kit(tmp_path) -> Iterator[tuple[Path, int]]:
    """`python -m workshop.kit --serve`'s handler on a free port, in a thread."""
    import functools
    import http.server

    from workshop.course.kit import KitHandler

    folder = tmp_path / "wheelhouse"
    folder.mkdir()
    (folder / "pkg-1.0-py3-none-any.whl").write_bytes(b"wheel")
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.whl").write_bytes(b"inner")
    if hasattr(os, "symlink"):
        (folder / "out.whl").symlink_to(tmp_path / "secret.txt")
    handler = functools.partial(KitHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_kit_serves_its_listing_its_files_and_kit_txt(kit) -> None:
    port = kit[1]
    status, listing = get(port, "/")
    assert status == 200 and b"pkg-1.0-py3-none-any.whl" in listing
    assert get(port, "/pkg-1.0-py3-none-any.whl") == (200, b"wheel")
    assert get(port, "/sub/inner.whl") == (200, b"inner")
    status, options = get(port, "/kit.txt")
    assert status == 200 and b"--no-index" in options


@pytest.mark.parametrize("path", ["/%00", "/a%00b.whl", "/%00/"])
def test_kit_answers_400_to_a_nul_byte(kit, path) -> None:
    """GET /%00 printed a traceback; now it is a 400."""
    assert get(kit[1], path)[0] == 400


@pytest.mark.parametrize(
    "path", ["/out.whl", "/../secret.txt", "/%2e%2e/secret.txt", "/sub/", "/nothing"]
)
def test_kit_serves_only_real_files_inside_its_folder(kit, path) -> None:
    """A symlink out of the folder, a subfolder, a missing file: 404."""
    if path == "/out.whl" and not (kit[0] / "out.whl").is_symlink():
        pytest.skip("no symlinks on this system")
    status, body = get(kit[1], path)
    assert status == 404, (path, body[:80])
    assert b"secret" not in body
    assert get(kit[1], path, "HEAD")[0] == 404
