"""A tiny HTTP core shared by the HubSpot and Salesforce emulators.

Why not a web framework: the sandbox must start in-process in a test in milliseconds, bind
127.0.0.1 on an ephemeral port, speak HTTP/1.1 keep-alive (the official clients pool
connections), and be able to *drop* a connection or stall on purpose for fault injection. The
standard library's threading server does all of that with no extra dependency.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["HttpError", "Request", "Response", "Router", "SandboxServer", "SwitchableApp"]


class HttpError(Exception):
    """Raised inside a handler to answer with ``response`` (e.g. a vendor-shaped 400 body)."""

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response.status)


@dataclass
class Request:
    """One parsed request. Header names are matched case-insensitively."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    raw_path: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query-string parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The JSON body, or ``None`` when empty. Invalid JSON raises ``ValueError``."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """What a handler returns. ``drop=True`` closes the socket without answering (fault injection)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response with the right content type."""
        out = {"Content-Type": "application/json;charset=UTF-8", **(headers or {})}
        return cls(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"), out)

    @classmethod
    def text(
        cls,
        status: int,
        body: str,
        content_type: str = "text/plain",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """A text response (CSV results of Bulk API 2.0, XML of the Metadata API)."""
        return cls(status, body.encode("utf-8"), {"Content-Type": content_type, **(headers or {})})


Handler = Callable[..., Response]


class Router:
    """Maps ``METHOD /path/{param}`` patterns to handlers; ``{name}`` matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler(request, **params)`` for ``method`` and ``pattern``."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$"), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return register

    def dispatch(self, request: Request) -> Response | None:
        """Call the matching handler; ``None`` if no pattern matches, 405 if only the method differs."""
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method == request.method:
                try:
                    return handler(request, **match.groupdict())
                except HttpError as exc:
                    return exc.response
        if path_matched:
            return Response.json(
                405, {"message": f"method {request.method} not allowed on {request.path}"}
            )
        return None


App = Callable[[Request], Response]


class SwitchableApp:
    """An app that forwards to whichever app is installed now.

    Stopping a threading server costs ~0.5 s (its poll interval), so test suites keep one listener
    per session and point it at each test's fresh sandbox by setting :attr:`app`.
    """

    def __init__(self) -> None:
        self.app: App | None = None

    def __call__(self, request: Request) -> Response:
        """Forward to the installed app; 503 between tests, so a stray request fails loudly."""
        if self.app is None:
            return Response.json(503, {"message": "no sandbox is installed on this listener"})
        return self.app(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each response would wait ~40 ms
    # for the client's delayed ACK, and the emulator, not the client, would bound benchmarks.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging: tests and the demo would drown in it."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            raw_path=self.path,
        )
        response = self.server.app(request)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle  # noqa: N815 - stdlib names


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, _Handler)


class SandboxServer:
    """Serve ``app`` on 127.0.0.1 in a background thread; use as a context manager in tests.

    Port 0 (the default) picks a free ephemeral port, so parallel test runs never collide.
    """

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        """Start serving in a daemon thread; returns self for chaining."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread (``crm-sync sandbox serve``)."""
        self._server.serve_forever()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
