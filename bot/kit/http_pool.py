"""Keep-alive HTTP for the platform APIs: a urllib3 connection pool per host, shared by the outbox's
sender threads, so that a fan-out pays one TCP (and TLS) handshake per connection, not per call.

A pooled connection can go stale: the server closes it while it sits idle. urllib3 drops a
connection it finds closed before reusing it, and connections idle longer than `max_idle` (less than
common servers' keep-alive timeouts) are retired too, so a stale one is rarely used. When one is used
anyway, the request goes again on a fresh connection only when it provably never reached the
server: the connection was refused, or the request failed before a single byte of it was written.
A failure after that is `MaybeSent` and never retried here: the server may have read the request
and acted on it (a message posted twice is worse than one posted late), so the caller decides.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import parse_url

log = logging.getLogger("teambot.http")

DEFAULT_TIMEOUT = 10.0
#: Seconds a pooled connection may sit idle and still be reused. Servers close idle keep-alive
#: connections after their own timeout (5 s for uvicorn, gunicorn and Apache; 60-75 s for most load
#: balancers); retiring ours first keeps a request from racing the server's close.
DEFAULT_MAX_IDLE = 4.0
#: Connections kept per host: about one per sender thread.
DEFAULT_MAXSIZE = 64
MAX_BODY = 10_000_000


class NotSent(OSError):
    """No byte of the request reached the server, also on a fresh connection: safe to send again."""


class MaybeSent(OSError):
    """The request may have reached the server and its outcome is unknown: sending it again may
    act twice."""


@dataclass(frozen=True)
class Response:
    status: int
    #: Header names lower-cased.
    headers: dict[str, str]
    body: bytes


class _Tracked:
    """Counts the bytes of the current request that the socket accepted, and when the connection
    went idle; the pool reads both."""

    max_idle: float | None = DEFAULT_MAX_IDLE
    monotonic: Callable[[], float] = staticmethod(time.monotonic)

    #: The header block waits for the first body chunk, so that a small request is one packet, not
    #: two (and costs one system call).
    _hold = False
    _held = b""

    def request(self, method, url, body=None, headers=None, **kw):
        self.bytes_sent = 0
        self.reused = self.sock is not None
        self.idle_since = None
        _current.conn = self
        self._hold, self._held = True, b""
        try:
            result = super().request(method, url, body=body, headers=headers, **kw)
            self._flush()
            return result
        finally:
            self._hold, self._held = False, b""

    def send(self, data) -> None:
        if self.sock is None:  # http.client opens lazily
            self.connect()
        if self._hold and isinstance(data, bytes):
            if not self._held:
                self._held = data
                return
            data, self._held, self._hold = self._held + data, b"", False
        else:
            self._flush()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            self.bytes_sent += 1  # a stream: whatever left, we cannot tell how much
            super().send(data)
            return
        self._write(data)

    def _flush(self) -> None:
        if self._held:
            data, self._held = self._held, b""
            self._write(data)

    def _write(self, data) -> None:
        view = memoryview(data).cast("B")
        while view:
            n = self.sock.send(view)
            self.bytes_sent += n
            view = view[n:]

    @property
    def is_connected(self) -> bool:
        since = getattr(self, "idle_since", None)
        if since is not None and self.max_idle is not None and self.monotonic() - since > self.max_idle:
            return False  # retired: the server may be about to close it
        return super().is_connected


class _HTTPConnection(_Tracked, HTTPConnection):
    pass


class _HTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _IdleMarking:
    def _put_conn(self, conn) -> None:
        if conn is not None:
            conn.idle_since = conn.monotonic()
        super()._put_conn(conn)


class _HTTPPool(_IdleMarking, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_IdleMarking, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_current = threading.local()


class HttpPool:
    """Thread-safe. One per platform client; `close()` lets go of every connection."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_idle: float | None = DEFAULT_MAX_IDLE,
                 maxsize: int = DEFAULT_MAXSIZE, monotonic: Callable[[], float] = time.monotonic,
                 ssl_context=None):
        self.timeout = timeout
        kinds = {}
        for scheme, base in (("http", _HTTPPool), ("https", _HTTPSPool)):
            conn_cls = type(f"Conn_{scheme}", (base.ConnectionCls,),
                            {"max_idle": max_idle, "monotonic": staticmethod(monotonic)})
            kinds[scheme] = type(f"Pool_{scheme}", (base,), {"ConnectionCls": conn_cls})
        self._pools = kinds
        self._ssl = {"ssl_context": ssl_context} if ssl_context is not None else {}
        self._manager = urllib3.PoolManager(num_pools=16, maxsize=maxsize, block=False, retries=False,
                                            **self._ssl)
        self._manager.pool_classes_by_scheme = kinds
        #: Requests sent again on a fresh connection because they provably never left (for tests
        #: and the log).
        self.resent = 0

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Response:
        """One request; an HTTP error status is a Response. Raises NotSent or MaybeSent when there
        is no answer."""
        try:
            return self._once(self._manager.urlopen, method, url, body, headers, timeout)
        except NotSent as e:
            log.info("%s %s never left (%s); sending it on a fresh connection", method, _host(url), e)
        # Provably never reached the server: once more, on a connection of its own.
        self.resent += 1
        u = parse_url(url)
        fresh = self._pools[u.scheme or "http"](u.host, u.port, maxsize=1, retries=False, **self._ssl)
        try:
            return self._once(fresh.urlopen, method, url, body, headers, timeout)
        finally:
            fresh.close()

    def _once(self, urlopen, method, url, body, headers, timeout) -> Response:
        t = urllib3.Timeout(connect=timeout or self.timeout, read=timeout or self.timeout)
        _current.conn = None
        try:
            r = urlopen(method, url, body=body, headers=dict(headers or {}), timeout=t, redirect=False,
                        retries=False, preload_content=False, assert_same_host=False)
        except ConnectTimeoutError as e:  # also NewConnectionError: refused, unreachable, no DNS
            raise NotSent(f"{type(e).__name__}: {e}") from None
        except ReadTimeoutError as e:
            raise MaybeSent(f"no answer in time: {e}") from None
        except (Urllib3Error, OSError) as e:
            if _nothing_left():
                raise NotSent(f"{type(e).__name__}: {e}") from None
            raise MaybeSent(f"{type(e).__name__}: {e}") from None
        try:
            data = r.read(MAX_BODY)
        except (Urllib3Error, OSError) as e:
            raise MaybeSent(f"answer cut off: {type(e).__name__}: {e}") from None
        finally:
            r.release_conn()
        return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, data)

    def close(self) -> None:
        self._manager.clear()


def _host(url: str) -> str:
    return parse_url(url).host or "?"


def _nothing_left() -> bool:
    """Did the failed request leave nothing on the wire? True when it failed before a connection
    took it, or before the socket accepted a single byte of it."""
    conn = getattr(_current, "conn", None)
    return conn is None or conn.bytes_sent == 0
