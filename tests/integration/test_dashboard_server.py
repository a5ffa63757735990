"""The local dashboard server: the built app for every route of the SPA, /config.json naming the API, the
template's content security policy, and nothing outside the build folder."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from luxebrain_dev.local.dashboard import PREVIEW_FRAME_POLICY, DashboardNotBuiltError, DashboardServer


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "dist" / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "dist" / "email-preview.html").write_text("<!doctype html><script src=/email-preview.js></script>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return tmp_path / "dist"


def test_serves_the_app_its_config_and_its_policy(dist: Path) -> None:
    server = DashboardServer("http://127.0.0.1:8000/", dist=dist)
    url = server.start()
    try:
        status, headers, body = fetch(url + "/app/prices?x=1")  # a route of the app, not a file
        assert status == 200 and b"id=root" in body and headers["Cache-Control"] == "no-cache"
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "connect-src 'self' http://127.0.0.1:8000" in policy
        assert "frame-ancestors 'none'" in policy
        status, headers, body = fetch(url + "/config.json")
        assert json.loads(body) == {"apiUrl": "http://127.0.0.1:8000"}
        status, headers, body = fetch(url + "/assets/app-1234.js")
        assert status == 200 and "immutable" in headers["Cache-Control"] and "javascript" in headers["Content-Type"]
        assert fetch(url + "/assets/missing.js")[0] == 404
        status, _, body = fetch(url + "/%2e%2e/secret.txt")
        assert b"outside the build" not in body
    finally:
        server.stop()


def test_an_unbuilt_dashboard_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DashboardNotBuiltError, match="npm ci && npm run build"):
        DashboardServer("http://127.0.0.1:8000", dist=tmp_path).start()


def test_the_email_preview_frame_has_a_policy_of_its_own_and_the_app_keeps_its_own(dist: Path) -> None:
    server = DashboardServer("http://127.0.0.1:8000", dist=dist)
    url = server.start()
    try:
        _, frame, _ = fetch(url + "/email-preview.html")
        assert frame["Content-Security-Policy"] == PREVIEW_FRAME_POLICY and frame["X-Frame-Options"] == "SAMEORIGIN"
        assert "style-src 'unsafe-inline'" in PREVIEW_FRAME_POLICY and "frame-ancestors 'self'" in PREVIEW_FRAME_POLICY
        _, app, _ = fetch(url + "/app/campaigns")
        assert "'unsafe-inline'" not in app["Content-Security-Policy"] and app["X-Frame-Options"] == "DENY"
    finally:
        server.stop()
