"""The simulation's HTTP request handler: moto's, with HTTP/1.1 keep-alive.

Werkzeug's development server answers every request with `Connection: close` (its handler cannot
drain a request body it did not read before the next request line), so each AWS call made against the
simulation opened a new TCP connection and the server started a new thread for it: about a fifth of the
CPU a demo spends on calls. This handler reads each request's body whole before the application runs
and sends each answer with its length, so a connection carries any number of requests, as AWS's
endpoints do. Everything else is moto's request handler (its environ, with the header names S3
metadata needs).

The server keeps the connections it serves (`OpenConnections`), so that closing the simulation also
ends the threads that wait on idle keep-alive connections.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from werkzeug.exceptions import InternalServerError

_NO_BODY_CODES = frozenset({204, 304})


class OpenConnections:
    """The sockets of the connections a server is serving."""

    def __init__(self) -> None:
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def close_all(self) -> None:
        """Shut every connection down: a thread waiting for the next request on it then ends."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by its client
                sock.shutdown(socket.SHUT_RDWR)


def keepalive_handler(connections: OpenConnections) -> type[MotoRequestHandler]:
    """A request handler class for one server, recording its connections in `connections`."""

    class KeepAliveHandler(MotoRequestHandler):  # type: ignore[misc,valid-type]
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # The head and the body of an answer are two writes: without this the body waits for the
            # client's delayed acknowledgement of the head (Nagle's algorithm), some 40 ms a call.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections.add(self.connection)

        def finish(self) -> None:
            connections.discard(self.connection)
            super().finish()

        def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per call is noise
            pass

        def run_wsgi(self) -> None:
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.environ = environ = self.make_environ()
            # The whole body is read now, so that the next request on this connection starts where
            # this one ends whatever the application reads of it.
            if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's make_environ dechunks it
                body = environ["wsgi.input"].read()
            else:
                body = self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                status, headers, content = _call(self.server.app, environ)
            except (ConnectionError, TimeoutError):
                raise
            except Exception as exc:
                self.close_connection = True
                from werkzeug.debug.tbtools import DebugTraceback

                self.server.log("error", f"Error on request:\n{DebugTraceback(exc).render_traceback_text()}")
                status, headers, content = _call(InternalServerError(), environ)
            self._answer(status, headers, content, environ["REQUEST_METHOD"])

        def _answer(self, status: str, headers: list[tuple[str, str]], content: bytes, method: str) -> None:
            code_text, _, message = status.partition(" ")
            code = int(code_text)
            self.send_response(code, message)
            has_length = False
            for key, value in headers:
                if key.lower() == "content-length":
                    has_length = True
                    if method != "HEAD":
                        continue  # the length of what is sent, below
                elif key.lower() in ("connection", "transfer-encoding"):
                    continue
                self.send_header(key, value)
            if method != "HEAD" and not (100 <= code < 200 or code in _NO_BODY_CODES):
                self.send_header("Content-Length", str(len(content)))
            elif method == "HEAD" and not has_length:
                self.send_header("Content-Length", "0")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if content and method != "HEAD":
                self.wfile.write(content)
            self.wfile.flush()

    return KeepAliveHandler


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the WSGI application; its status, headers and whole body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return lambda data: chunks.append(data)  # the legacy write() callable

    chunks: list[bytes] = []
    result: Iterable[bytes] = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the application returned without calling start_response")
    return started[0], started[1], b"".join(chunks)
