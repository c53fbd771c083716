"""A light AWS responder for the collect benchmark: record from the simulation, replay with latency.

Record: a proxy on 127.0.0.1 in front of the simulation stores each request's response under a key
(service, method, path, canonical parameters, signing access key id). Session secrets in AssumeRoot /
AssumeRole responses are replaced by fixed placeholders before anything is kept, so a recording holds no
secret (the replayer does not check signatures).

Replay: `python bench/collect_responder.py RECORDING --latency 0.05` serves the recording from a threaded
HTTP server on 127.0.0.1 (a free port, printed on stdout), sleeping `latency` seconds per call; a key
answered several times in the recording (a credential report STARTED, then COMPLETE) is replayed in order.
It runs in its own process, so the benchmark measures rootaudit and not the responder.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import re
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
_SECRETS = [
    (
        re.compile(rb"<SecretAccessKey>[^<]*</SecretAccessKey>"),
        b"<SecretAccessKey>bench-placeholder-secret</SecretAccessKey>",
    ),
    (
        re.compile(rb"<SessionToken>[^<]*</SessionToken>"),
        b"<SessionToken>bench-placeholder-token</SessionToken>",
    ),
]
KEPT_HEADERS = ("content-type", "x-amzn-requestid", "x-amz-request-id", "x-amzn-errortype")


def request_key(method: str, path: str, headers: Any, body: bytes) -> str:
    """What identifies a call across runs: service, operation and parameters, and who signs it."""
    match = _SCOPE.search(headers.get("Authorization", "") or "")
    access_key, service = (match.group(1), match.group(2)) if match else ("", "")
    content_type = (headers.get("Content-Type") or "").lower()
    if "x-www-form-urlencoded" in content_type:
        params: Any = sorted(
            (k, v)
            for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            if k != "Version"
        )
    elif body:
        try:
            params = json.loads(body)
        except ValueError:
            params = body.decode("utf-8", "replace")
    else:
        params = None
    target = headers.get("X-Amz-Target", "")
    return json.dumps([service, method, urlsplit(path).path, target, params, access_key], sort_keys=True)


def scrub(body: bytes) -> bytes:
    for pattern, placeholder in _SECRETS:
        body = pattern.sub(placeholder, body)
    return body


class Recording:
    def __init__(self, entries: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.entries: dict[str, list[dict[str, Any]]] = defaultdict(list, entries or {})
        self.lock = threading.Lock()

    def add(self, key: str, status: int, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.entries[key].append(
                {"status": status, "headers": headers, "body": scrub(body).decode("utf-8")}
            )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            json.dump(self.entries, fh)

    @classmethod
    def load(cls, path: Path) -> Recording:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return cls(json.load(fh))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints do
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = request_key(self.command, self.path, self.headers, body)
        status, headers, payload = self.server.respond(self.command, self.path, self.headers, body, key)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


class RecordingProxy(ThreadingHTTPServer):
    """Forwards to the simulation and records every answer."""

    daemon_threads = True

    def __init__(self, upstream: str, recording: Recording) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = urlsplit(upstream)
        self.recording = recording

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def respond(
        self, method: str, path: str, headers: Any, body: bytes, key: str
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            conn.request(
                method,
                path,
                body=body,
                headers={k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")},
            )
            resp = conn.getresponse()
            payload = resp.read()
            kept = {k: v for k, v in resp.getheaders() if k.lower() in KEPT_HEADERS}
        finally:
            conn.close()
        self.recording.add(key, resp.status, kept, payload)
        return resp.status, kept, scrub(payload)

    def start(self) -> RecordingProxy:
        threading.Thread(target=self.serve_forever, name="bench-recorder", daemon=True).start()
        return self


class Replayer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recording: Recording, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recording = recording
        self.latency = latency
        self.served: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self.misses = 0

    def respond(
        self, method: str, path: str, headers: Any, body: bytes, key: str
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.latency)
        answers = self.recording.entries.get(key)
        if not answers:
            with self.lock:
                self.misses += 1
            sys.stderr.write(f"responder: no recorded answer for {key[:200]}\n")
            return 500, {"Content-Type": "text/plain"}, b"not recorded"
        with self.lock:
            n = self.served[key]
            self.served[key] = n + 1
        answer = answers[min(n, len(answers) - 1)]
        return answer["status"], answer["headers"], answer["body"].encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds slept per call (default 0.05)")
    args = parser.parse_args()
    server = Replayer(Recording.load(args.recording), args.latency)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
