#!/usr/bin/env python3
"""A local HTTP sink on loopback that records every request, for end-to-end tests of the
template connectors. It behaves like the templates' target REST API:

  POST   /users              -> 201 {"id": "sink-<n>"}   (remembers userName -> id)
  PUT    /users/<id>         -> 200 {"id": "<id>"}
  DELETE /users/<id>         -> 204
  GET    /users?userName=<u> -> 200 {"id": ...} when created here, else 404

Each request is appended to the log file as one JSON line: method, path, headers (the
Authorization value is kept, so a test can check the host attached the credential), body text.

Usage: sink.py <log-file> <port-file>
Binds 127.0.0.1 on a free port, writes the port to <port-file>, serves until killed.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Sink(BaseHTTPRequestHandler):
    """Records and answers one request."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    users = {}
    log_path = ""

    def _record(self, body: bytes) -> None:
        line = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with self.lock, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")

    def _answer(self, status: int, payload=None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._body()
        self._record(body)
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] != ["users"]:
            return self._answer(404, {"error": f"no route {url.path}"})
        if self.command == "POST" and len(parts) == 1:
            try:
                name = json.loads(body or b"{}").get("userName")
            except ValueError:
                return self._answer(400, {"error": "body is not JSON"})
            with self.lock:
                remote = f"sink-{len(self.users) + 1}"
                self.users[name] = remote
            return self._answer(201, {"id": remote})
        if self.command == "GET" and len(parts) == 1:
            name = parse_qs(url.query).get("userName", [None])[0]
            with self.lock:
                remote = self.users.get(name)
            return self._answer(200, {"id": remote}) if remote else self._answer(404, {"error": "no such user"})
        if self.command == "PUT" and len(parts) == 2:
            return self._answer(200, {"id": parts[1]})
        if self.command == "DELETE" and len(parts) == 2:
            return self._answer(204)
        return self._answer(405, {"error": f"{self.command} {url.path} is not supported"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, *_args) -> None:
        """Quiet: the log file is the record."""


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: sink.py <log-file> <port-file>")
    Sink.log_path = sys.argv[1]
    open(Sink.log_path, "w").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    with open(sys.argv[2], "w") as port_file:
        port_file.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
