"""A fake DingTalk Stream gateway: the HTTP endpoint that opens a connection
(POST /v1.0/gateway/connections/open -> endpoint + ticket) and the WebSocket behind it.

Each connection follows the next plan queued with `plan(...)` (then "serve"):
  serve       send the queued frames (`frames`), then take the client's frames until it leaves
  disconnect  send a disconnect frame, then say nothing more while keeping the connection open
              (the gateway that goes quiet after a server-side disconnect)
  silent      say nothing at all, keeping the connection open
  fin         close the TCP connection without a WebSocket close frame
  rst         reset the TCP connection
`received` keeps every frame the clients sent (acks), `connections` counts the connections.
"""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


def callback_frame(message_id: str, data: dict, topic: str = "/v1.0/im/bot/messages/get") -> dict:
    return {"specVersion": "1.0", "type": "CALLBACK",
            "headers": {"topic": topic, "messageId": message_id, "contentType": "application/json",
                        "time": str(int(time.time() * 1000))},
            "data": json.dumps(data, ensure_ascii=False)}


def system_frame(topic: str, message_id: str, data: dict | None = None) -> dict:
    return {"specVersion": "1.0", "type": "SYSTEM",
            "headers": {"topic": topic, "messageId": message_id, "contentType": "application/json",
                        "time": str(int(time.time() * 1000))},
            "data": json.dumps(data or {})}


class FakeGateway:
    def __init__(self) -> None:
        self.plans: deque[str] = deque()
        self.frames: deque[dict] = deque()
        self.received: list[dict] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.ws = serve(self._handle, "127.0.0.1", 0)
        self.ws_port = self.ws.socket.getsockname()[1]
        gateway = self

        class Open(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"endpoint": f"ws://127.0.0.1:{gateway.ws_port}", "ticket": "t-1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Open)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self._threads = [threading.Thread(target=self.ws.serve_forever, daemon=True),
                         threading.Thread(target=self.http.serve_forever, daemon=True)]
        for t in self._threads:
            t.start()

    def plan(self, *plans: str) -> None:
        self.plans.extend(plans)

    def send(self, frame: dict) -> None:
        """A frame for the next connection that serves."""
        self.frames.append(frame)

    def acks(self) -> list[str]:
        """messageIds the clients acknowledged."""
        with self._lock:
            return [f.get("headers", {}).get("messageId") for f in self.received]

    def _handle(self, conn: ServerConnection) -> None:
        with self._lock:
            self.connections += 1
        plan = self.plans.popleft() if self.plans else "serve"
        if plan == "fin":
            conn.socket.shutdown(socket.SHUT_RDWR)
            return
        if plan == "rst":
            conn.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.socket.close()
            return
        if plan == "disconnect":
            conn.send(json.dumps(system_frame("disconnect", "d-1", {"reason": "persistent connection is timeout"})))
        elif plan == "serve":
            while self.frames:
                conn.send(json.dumps(self.frames.popleft()))
        self._listen(conn)

    def _listen(self, conn: ServerConnection) -> None:
        """Take the client's frames until it leaves (or the gateway stops); send nothing."""
        while not self._stop.is_set():
            try:
                raw = conn.recv(timeout=0.1)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            with self._lock:
                self.received.append(json.loads(raw))

    def close(self) -> None:
        self._stop.set()
        self.http.shutdown()
        self.http.server_close()
        self.ws.shutdown()
