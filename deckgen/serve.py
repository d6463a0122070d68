"""``deckgen serve``: every card of the deck as Anki shows it, on a local page that follows
the bank as it is edited.

The builds run in the calling thread (as under ``deckgen watch``, with warm cell workers);
a small HTTP server in another thread serves the page (renderers/serve/page.html), the
deck's data (``/deck.json``: each card's sides, filled from the note types' templates by
deckgen.preview), its media, and the MathJax Anki ships (deckgen.mathjax), so the page
needs no network. ``/version?since=N`` answers when build N+1 is there (live reload).

Only this computer can reach it unless ``--host`` says otherwise, and only under its own
name: a request whose Host header names another host is refused (no DNS rebinding).
"""

from __future__ import annotations

import json
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from deckgen import templates

WAIT_SECONDS = 20.0
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


class Preview:
    """The page's data, replaced after each build; readers wait for the next one."""

    def __init__(self) -> None:
        self.version = 0
        self.data = b"{}"
        self.media: dict[str, bytes] = {}
        self._changed = threading.Condition()

    def publish(self, data: dict[str, Any], media: dict[str, bytes]) -> None:
        with self._changed:
            self.version += 1
            data["version"] = self.version
            self.data = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.media = dict(media)
            self._changed.notify_all()

    def wait(self, since: int, timeout: float = WAIT_SECONDS) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.version > since, timeout)
            return self.version


def page(mathjax: Path | None) -> bytes:
    text = templates.load("serve/page.html")
    if mathjax is not None:
        config = (mathjax / "mathjax.js").read_text(encoding="utf-8").replace("</", "<\\/")
        head = (f"<script>{config}</script>\n"
                "<script>MathJax.loader.paths.mathjax = '/mathjax/vendor/mathjax';</script>\n"
                '<script src="/mathjax/vendor/mathjax/tex-chtml-full.js"></script>')
    else:
        head = "<!-- no MathJax here: formulas show as their LaTeX source -->"
    return text.replace("<!--MATHJAX-->", head).encode("utf-8")


def make_server(preview: Preview, mathjax: Path | None, host: str = "127.0.0.1",
                port: int = 8000) -> ThreadingHTTPServer:
    body = page(mathjax)
    root = mathjax.resolve() if mathjax is not None else None

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
            pass

        def _send(self, status: int, content: bytes, kind: str, cache: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(content)

        def _refuse(self, status: int = HTTPStatus.NOT_FOUND) -> None:
            self._send(status, b"not here\n", "text/plain; charset=utf-8")

        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            name = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            if host in ("127.0.0.1", "localhost", "::1") and \
                    name not in ("127.0.0.1", "localhost", "::1"):
                return self._refuse(HTTPStatus.FORBIDDEN)  # another name for this address
            url = urlsplit(self.path)
            path = unquote(url.path)
            if path in ("/", "/index.html"):
                return self._send(HTTPStatus.OK, body, "text/html; charset=utf-8")
            if path == "/deck.json":
                return self._send(HTTPStatus.OK, preview.data, "application/json")
            if path == "/version":
                try:
                    since = int(parse_qs(url.query).get("since", ["0"])[0])
                except ValueError:
                    return self._refuse(HTTPStatus.BAD_REQUEST)
                version = preview.wait(since)
                return self._send(HTTPStatus.OK, json.dumps({"version": version}).encode(),
                                  "application/json")
            if path.startswith("/media/"):
                data = preview.media.get(path[len("/media/"):])
                kind = MEDIA_TYPES.get(Path(path).suffix.lower())
                if data is None or kind is None:
                    return self._refuse()
                return self._send(HTTPStatus.OK, data, kind, cache=True)
            if path.startswith("/mathjax/") and root is not None:
                target = (root / path[len("/mathjax/"):]).resolve()
                if root not in target.parents or not target.is_file():
                    return self._refuse()
                kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                return self._send(HTTPStatus.OK, target.read_bytes(), kind, cache=True)
            return self._refuse()

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
