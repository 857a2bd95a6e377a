"""A tiny HTTP/1.1 keep-alive server on 127.0.0.1 that can misbehave the way real servers do with
idle connections, for the pooled client's tests (bot/kit/http_pool.py).

    with KeepAliveServer() as srv:
        pool.request("POST", srv.url("/api/x"), body=b"{}")
        srv.close_idle(rst=True)     # the server drops every idle connection (RST, or FIN with rst=False)
        srv.drop_next_after_read()   # the next request is read, counted, and its connection closed unanswered
        assert srv.requests == 1 and srv.connections == 1

Every request read in full is counted (`requests`, with its body in `bodies`) before it is answered:
that is what "the server got it" means in these tests. `connections` counts accepted connections.
"""
from __future__ import annotations

import socket
import struct
import threading
from typing import Self


class KeepAliveServer:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.requests = 0
        self.connections = 0
        self.bodies: list[bytes] = []
        self._idle: set[socket.socket] = set()
        self._open: set[socket.socket] = set()
        self._drop_next = 0
        self._lock = threading.Condition()
        self._stopped = False
        self._threads: list[threading.Thread] = []

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # -- scripting ------------------------------------------------------------------------------
    def close_idle(self, *, rst: bool) -> int:
        """Close every connection waiting for its next request: with a RST (rst=True) or a FIN."""
        with self._lock:  # a connection that just answered gets back to waiting a moment later
            self._lock.wait_for(lambda: self._idle == self._open, timeout=5)
            idle, self._idle = list(self._idle), set()
        for conn in idle:
            try:
                if rst:  # linger 0: close() sends a RST; SHUT_RD wakes the serving thread's recv
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.shutdown(socket.SHUT_RD)
                else:
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
        return len(idle)

    def drop_next_after_read(self, n: int = 1) -> None:
        """The next n requests are read and counted, then their connection is closed unanswered."""
        with self._lock:
            self._drop_next += n

    def stop_listening(self) -> None:
        """New connections are refused from now on (the open ones stay)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would not
        except OSError:
            pass
        self._sock.close()

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        t = threading.Thread(target=self._accept, name="keepalive-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self._stopped = True
        self.stop_listening()
        self.close_idle(rst=False)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with self._lock:
            self._open.add(conn)
        try:
            while True:
                with self._lock:
                    self._idle.add(conn)
                    self._lock.notify_all()
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    with self._lock:
                        self._idle.discard(conn)
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:length], buf[length:]
                with self._lock:
                    self._idle.discard(conn)
                    self.requests += 1
                    self.bodies.append(body)
                    drop = self._drop_next > 0
                    self._drop_next -= drop
                    self._lock.notify_all()
                if drop:
                    return
                answer = b'{"ok": true}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(answer)).encode() + b"\r\n\r\n" + answer)
        except OSError:
            return
        finally:
            with self._lock:
                self._idle.discard(conn)
                self._open.discard(conn)
                self._lock.notify_all()
            try:
                conn.close()
            except OSError:
                pass


def wait_until_reset_arrives(pool, timeout: float = 2.0) -> None:
    """Block until the client side of every idle pooled connection of `pool` (a bot.kit.http_pool.HttpPool)
    has the server's RST in hand. Loopback delivers it a moment after close() returns; a test about
    "reset before our next request wrote a byte" must not race that delivery."""
    import select

    socks = [conn.sock for p in pool._manager.pools._container.values() for conn in list(p.pool.queue)
             if conn is not None and getattr(conn, "sock", None) is not None]
    assert socks, "no idle pooled connection to wait on"
    select.select(socks, [], [], timeout)  # a reset socket reads as ready
