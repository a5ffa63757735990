"""The merchant dashboard (web/dist, built by ``npm run build``) served on localhost beside the local API, as
CloudFront serves it from S3 in AWS: the same content security policy, ``/config.json`` naming the API, and
index.html for every path of the single-page app."""

from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from luxebrain_dev.local.functions import LoopbackHTTPServer

REPO = Path(__file__).resolve().parents[3]
DIST = REPO / "web" / "dist"


def content_security_policy(api_url: str) -> str:
    """The policy of the template's CloudFront response headers, with the local API as the one API origin."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src 'self' {api_url}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
        "object-src 'none'"
    )


# The e-mail preview frame (web/public/email-preview.html), framed by the app only, in a sandbox without
# same-origin: an e-mail's inline styles and remote images apply there and nowhere in the app; no script but the
# frame's own. The template's DashboardPreviewHeadersPolicy carries the same policy (a test compares them).
PREVIEW_FRAME_PATH = "/email-preview.html"
PREVIEW_FRAME_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; object-src 'none'"
)


class DashboardNotBuiltError(RuntimeError):
    pass


class DashboardServer:
    def __init__(self, api_url: str, *, host: str = "127.0.0.1", port: int = 0, dist: Path = DIST) -> None:
        self.api_url = api_url.rstrip("/")
        self.host, self.port, self.dist = host, port, dist.resolve()
        self._server: LoopbackHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the dashboard server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        if not (self.dist / "index.html").is_file():
            raise DashboardNotBuiltError(
                f"the dashboard is not built ({self.dist}/index.html is missing): run `npm ci && npm run build` in web/"
            )
        dashboard = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                dashboard._serve(self, head=False)

            def do_HEAD(self) -> None:
                dashboard._serve(self, head=True)

        self._server = LoopbackHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="dashboard", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _file_for(self, path: str) -> Path | None:
        candidate = (self.dist / unquote(path).lstrip("/")).resolve()
        if candidate.is_relative_to(self.dist) and candidate.is_file():
            return candidate
        return None

    def _serve(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = urlsplit(request.path).path
        headers = {
            "Content-Security-Policy": content_security_policy(self.api_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Frame-Options": "DENY",
        }
        if path == PREVIEW_FRAME_PATH:
            headers.update({"Content-Security-Policy": PREVIEW_FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"})
        if path == "/config.json":
            body = json.dumps({"apiUrl": self.api_url}).encode()
            content_type, cache = "application/json", "no-store"
        else:
            found = self._file_for(path) if path != "/" else None
            if found is None and path.startswith("/assets/"):
                self._write(request, 404, {"Content-Type": "text/plain"}, b"not found", head)
                return
            found = found or self.dist / "index.html"  # the app's own routes
            body = found.read_bytes()
            content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            # Hashed assets never change; index.html must be re-read to pick up a new build.
            cache = "public, max-age=31536000, immutable" if path.startswith("/assets/") else "no-cache"
        headers.update({"Content-Type": content_type, "Cache-Control": cache})
        self._write(request, 200, headers, body, head)

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if not head:
            request.wfile.write(body)
