"""A fake chat platform for the fan-out benchmarks, in its own process: the Slack Web API methods the
outbox uses, DingTalk's robot 1:1 messages and WeCom's app messages, each call answered after a
configurable latency over real HTTP/1.1 keep-alive (uvicorn), with the limits real platforms keep:

  * per destination: one chat.postMessage a second per channel (Slack's documented pacing);
    WeCom: 30 app messages a minute per member;
  * workspace-wide, per method: a token bucket (`--rate chat.postMessage=200`, with a burst of
    `--burst-seconds` of it); beyond either, HTTP 429 with Retry-After (DingTalk: 429 with a
    throttling code; WeCom: errcode 45009), and the call does nothing.

Accepted messages are counted: per destination, the number after `#` in the text (the benchmark
writes `#<n>` in its reminders) must be new (else it is a duplicate) and larger than the last one
(else an order violation); a text without a number must not arrive twice at one destination. `GET /stats` answers all counters; `POST /reset` clears them.

    python bench/fake_platform.py --port P [--latency 0.1] [--rate chat.postMessage=200,...]

Prints {"url": ...} on its first line of stdout and serves until stdin is closed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qsl

NUMBER = re.compile(r"#(\d+)")
#: Calls per second per method, workspace-wide, unless --rate says otherwise.
DEFAULT_RATES = {"chat.postMessage": 200.0, "conversations.open": 200.0, "files.getUploadURLExternal": 20.0,
                 "files.completeUploadExternal": 20.0, "robot.oToMessages": 100.0, "message.send": 100.0}
SLACK_CHANNEL_INTERVAL = 1.0
WECOM_PER_MEMBER_PER_MINUTE = 30
DINGTALK_BATCH = 20
WECOM_BATCH = 1000


class Bucket:
    """A token bucket: `rate` a second, holding at most `burst`."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.at = self.burst, time.monotonic()

    def take(self, now: float) -> float:
        """0 when a token was taken; else the seconds until one is there."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Platform:
    def __init__(self, latency: float, rates: dict[str, float], burst_seconds: float):
        self.latency = latency
        self.buckets = {m: Bucket(r, r * burst_seconds) for m, r in rates.items() if r > 0}
        self.reset()

    def reset(self) -> None:
        self.calls: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()
        self.accepted = 0
        self.recipients = 0
        self.duplicates = 0
        self.order_violations = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._seen: set[tuple[str, int]] = set()
        self._last: dict[str, int] = {}
        self._channel_at: dict[str, float] = {}
        self._member_times: dict[str, list[float]] = defaultdict(list)

    def stats(self) -> dict:
        return {"cpu_s": time.process_time(), "calls": dict(self.calls), "limited": dict(self.limited), "accepted": self.accepted,
                "recipients": self.recipients, "duplicates": self.duplicates,
                "order_violations": self.order_violations, "first_at": self.first_at, "last_at": self.last_at}

    # -- limits ------------------------------------------------------------------------------------
    def over_quota(self, method: str, now: float) -> float:
        bucket = self.buckets.get(method)
        return bucket.take(now) if bucket else 0.0

    def accept(self, destination: str, text: str) -> None:
        """A message reached `destination` (wall-clock time kept, for the benchmark's end-to-end time)."""
        wall = time.time()
        self.accepted += 1
        self.first_at = self.first_at or wall
        self.last_at = wall
        m = NUMBER.search(text or "")
        key = int(m.group(1)) if m else hash(text)  # unnumbered: the same text twice is a duplicate
        if (destination, key) in self._seen:
            self.duplicates += 1
            return
        self._seen.add((destination, key))
        if m is not None:
            if key < self._last.get(destination, -1):
                self.order_violations += 1
            self._last[destination] = max(key, self._last.get(destination, -1))

    # -- the APIs ----------------------------------------------------------------------------------
    def slack(self, method: str, p: dict, now: float) -> tuple[int, dict, dict]:
        wait = self.over_quota(method, now)
        if wait:
            return 429, {"Retry-After": str(max(1, math.ceil(wait)))}, {"ok": False, "error": "ratelimited"}
        if method == "conversations.open":
            user = str(p.get("users") or "").split(",")[0].strip()
            if not user:
                return 200, {}, {"ok": False, "error": "users_list_not_supplied"}
            return 200, {}, {"ok": True, "channel": {"id": "D" + user}}
        if method == "chat.postMessage":
            channel = str(p.get("channel") or "")
            last = self._channel_at.get(channel)
            if last is not None and now - last < SLACK_CHANNEL_INTERVAL:
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            self._channel_at[channel] = now
            self.recipients += 1
            self.accept(channel, str(p.get("text") or ""))
            return 200, {}, {"ok": True, "channel": channel, "ts": f"{time.time():.6f}"}
        if method == "files.getUploadURLExternal":
            return 200, {}, {"ok": True, "upload_url": "/upload/F1", "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return 200, {}, {"ok": True, "files": [{"id": "F1"}]}
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": "UBOT", "team_id": "T1"}
        return 200, {}, {"ok": False, "error": "unknown_method"}

    def dingtalk(self, p: dict, now: float) -> tuple[int, dict, dict]:
        users = list(p.get("userIds") or [])
        if not users or len(users) > DINGTALK_BATCH:
            return 400, {}, {"code": "InvalidParameter", "message": f"userIds: 1 to {DINGTALK_BATCH}"}
        if self.over_quota("robot.oToMessages", now):
            return 429, {}, {"code": "Throttling.Api", "message": "too many requests"}
        try:
            text = json.loads(p.get("msgParam") or "{}").get("text") or ""
        except ValueError:
            text = ""
        for user in users:
            self.recipients += 1
            self.accept(f"user:{user}", text)
        return 200, {}, {"processQueryKey": f"q{self.accepted}", "invalidStaffIdList": [],
                         "flowControlledStaffIdList": []}

    def wecom(self, p: dict, now: float) -> tuple[int, dict, dict]:
        users = [u for u in str(p.get("touser") or "").split("|") if u]
        if not users or len(users) > WECOM_BATCH:
            return 200, {}, {"errcode": 40130, "errmsg": f"touser: 1 to {WECOM_BATCH}"}
        if self.over_quota("message.send", now):
            return 200, {}, {"errcode": 45009, "errmsg": "api freq out of limit"}
        busy = []
        for user in users:
            times = [t for t in self._member_times[user] if now - t < 60]
            if len(times) >= WECOM_PER_MEMBER_PER_MINUTE:
                busy.append(user)
            self._member_times[user] = times
        if busy:
            return 200, {}, {"errcode": 45009, "errmsg": f"member freq out of limit: {busy[0]}"}
        text = str((p.get("markdown") or p.get("text") or {}).get("content") or "")
        for user in users:
            self._member_times[user].append(now)
            self.recipients += 1
            self.accept(f"user:{user}", text)
        return 200, {}, {"errcode": 0, "errmsg": "ok", "invaliduser": ""}

    def route(self, path: str, p: dict) -> tuple[int, dict, dict]:
        now = time.monotonic()
        method = path.rsplit("/", 1)[-1]
        if path.startswith("/api/"):
            self.calls[method] += 1
            answer = self.slack(method, p, now)
        elif path.startswith("/upload/"):
            self.calls["upload"] += 1
            answer = 200, {}, {"ok": True}
        elif path == "/v1.0/oauth2/accessToken":
            answer = 200, {}, {"accessToken": "at-bench", "expireIn": 7200}
        elif path == "/v1.0/robot/oToMessages/batchSend":
            self.calls["robot.oToMessages"] += 1
            answer = self.dingtalk(p, now)
        elif path == "/cgi-bin/gettoken":
            answer = 200, {}, {"errcode": 0, "access_token": "t-bench", "expires_in": 7200}
        elif path == "/cgi-bin/message/send":
            self.calls["message.send"] += 1
            answer = self.wecom(p, now)
        else:
            answer = 404, {}, {"ok": False, "error": "not_found"}
        if answer[0] == 429 or answer[2].get("errcode") == 45009:
            self.limited[method] += 1
        return answer


def _params(query: str, body: bytes, content_type: str) -> dict:
    p = dict(parse_qsl(query, keep_blank_values=True))
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            if isinstance(data, dict):
                p.update(data)
        except ValueError:
            pass
    elif text:
        p.update(parse_qsl(text, keep_blank_values=True))
    return p


def app_for(platform: Platform):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        path = scope["path"]
        if path == "/stats":
            status, headers, answer = 200, {}, platform.stats()
        elif path == "/reset":
            platform.reset()
            status, headers, answer = 200, {}, {"ok": True}
        else:
            content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
            p = _params(scope.get("query_string", b"").decode(), body, content_type)
            await asyncio.sleep(platform.latency / 2)  # the request on its way
            status, headers, answer = platform.route(path, p)
            await asyncio.sleep(platform.latency / 2)  # the answer on its way back
        data = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                                *((k.lower().encode(), v.encode()) for k, v in headers.items())]})
        await send({"type": "http.response.body", "body": data})

    return app


def parse_rates(text: str) -> dict[str, float]:
    rates = dict(DEFAULT_RATES)
    for item in filter(None, (x.strip() for x in text.split(","))):
        method, _, value = item.partition("=")
        rates[method.strip()] = float(value)
    return rates


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--latency", type=float, default=0.1, help="seconds added to every call (default 0.1)")
    p.add_argument("--rate", default="", help="method=calls per second, comma-separated, over the defaults")
    p.add_argument("--burst-seconds", type=float, default=0.25, help="a bucket holds this many seconds of its rate")
    args = p.parse_args(argv)
    platform = Platform(args.latency, parse_rates(args.rate), args.burst_seconds)
    config = uvicorn.Config(app_for(platform), host="127.0.0.1", port=args.port, log_level="error",
                            access_log=False, timeout_keep_alive=5, backlog=4096, lifespan="off")
    server = uvicorn.Server(config)
    print(json.dumps({"url": f"http://127.0.0.1:{args.port}", "rates": platform.buckets and
                      {m: b.rate for m, b in platform.buckets.items()}}), flush=True)

    def stop_on_stdin_close() -> None:
        try:
            sys.stdin.read()
        finally:
            server.should_exit = True

    threading.Thread(target=stop_on_stdin_close, daemon=True).start()
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
