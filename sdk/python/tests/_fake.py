"""A scripted HTTP/1.1 server on loopback for transport tests (retries,
keep-alive, error mapping) and for the OpenAI / Ollama endpoints of the
RAG helpers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

Reply = Tuple[int, Dict[str, str], bytes]
Handler = Callable[["Request"], Optional[Reply]]


class Request:
    def __init__(self, method: str, path: str, headers: Dict[str, str], body: bytes, client_port: int) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.client_port = client_port

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


def json_reply(status: int, obj: Any, headers: Optional[Dict[str, str]] = None) -> Reply:
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return status, h, json.dumps(obj).encode("utf-8")


class FakeServer:
    """``replies`` are consumed in order (the last one repeats); a callable
    ``handler`` overrides them. ``None`` from the handler drops the
    connection without answering."""

    def __init__(self, replies: Optional[List[Reply]] = None, handler: Optional[Handler] = None) -> None:
        self.replies = list(replies or [json_reply(200, {})])
        self.handler = handler
        self.requests: List[Request] = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path, {k: v for k, v in self.headers.items()}, body, self.client_address[1])
                with outer.lock:
                    outer.requests.append(req)
                    if outer.handler is None:
                        reply = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                if outer.handler is not None:
                    reply = outer.handler(req)
                if reply is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, data = reply
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
