"""Load generator: signed Slack slash commands over N keep-alive connections, in its own process.

Pure Python (asyncio streams, raw HTTP/1.1), so the bench needs nothing beyond the repo's deps and
the client never shares a GIL with the server it measures. Every request is a fresh, correctly
signed `application/x-www-form-urlencoded` slash command with its own trigger_id (so the bot's
retry dedupe never short-cuts it), sent to 127.0.0.1 only.

    python bench/loadgen.py --port 3000 --secret S --users U0,U1 --channel C1 \
        --command /progress --text "signed ACME sales=500k" --duration 5 --warmup 1 --expect ✅

Prints one JSON object: requests, rps, p50/p90/p99/max (ms), HTTP statuses, and how many answers
did not contain --expect (with a sample). Bounded: stops after --duration seconds or --max-requests.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
from urllib.parse import urlencode

HOST = "127.0.0.1"  # loopback only, whatever the caller says


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, measured phase only
        self.statuses: dict[int, int] = {}
        self.total = 0  # including warm-up
        self.ok_total = 0  # 200 with the expected text, including warm-up
        self.unexpected = 0
        self.sample: str | None = None
        self.reconnects = 0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one HTTP/1.1 response."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("server closed the connection")
    parts = line.split(b" ", 2)
    status = int(parts[1])
    length = None
    chunked = False
    keep_alive = True
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.lower() == b"close":
            keep_alive = False
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, bytes(body), keep_alive
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep_alive


def signed_request(port: int, secret: bytes, body: bytes) -> bytes:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    head = (f"POST /slack/events HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sig}\r\n"
            "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n\r\n")
    return head.encode() + body


def slash(command: str, text: str, user: str, channel: str, trigger: str) -> bytes:
    return urlencode({
        "token": "bench", "team_id": "T1", "team_domain": "bench", "channel_id": channel,
        "channel_name": "sales", "user_id": user, "user_name": user.lower(), "command": command,
        "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.test/commands/T1/1/x", "trigger_id": trigger,
    }).encode()


async def worker(n: int, args, stats: Stats, measure_from: float, stop_at: float, budget: list[int]) -> None:
    secret = args.secret.encode()
    users = args.users.split(",")
    user = users[n % len(users)]
    reader = writer = None
    seq = 0
    try:
        while time.perf_counter() < stop_at and budget[0] > 0:
            budget[0] -= 1
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, args.port)
            seq += 1
            body = slash(args.command, args.text, user, args.channel, f"{args.run_id}.{n}.{seq}")
            req = signed_request(args.port, secret, body)
            t0 = time.perf_counter()
            writer.write(req)
            try:
                status, answer, keep = await asyncio.wait_for(read_response(reader), args.timeout)
            except (TimeoutError, ConnectionError, asyncio.IncompleteReadError) as e:
                stats.statuses[-1] = stats.statuses.get(-1, 0) + 1
                stats.sample = stats.sample or f"{type(e).__name__}: {e}"
                writer.close()
                reader = writer = None
                stats.reconnects += 1
                continue
            dt = time.perf_counter() - t0
            stats.total += 1
            good = status == 200 and args.expect.encode() in answer
            if good:
                stats.ok_total += 1
            if t0 >= measure_from:
                stats.latencies.append(dt)
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                if not good:
                    stats.unexpected += 1
                    if stats.sample is None:
                        stats.sample = f"HTTP {status}: {answer[:300].decode('utf-8', 'replace')}"
            if not keep:
                writer.close()
                reader = writer = None
                stats.reconnects += 1
    finally:
        if writer is not None:
            writer.close()


async def run(args) -> dict:
    stats = Stats()
    cpu0 = time.process_time()
    start = time.perf_counter()
    measure_from = start + args.warmup
    stop_at = measure_from + args.duration
    budget = [args.max_requests]
    await asyncio.gather(*(worker(n, args, stats, measure_from, stop_at, budget)
                           for n in range(args.concurrency)))
    end = min(time.perf_counter(), stop_at)
    lat = sorted(stats.latencies)
    window = max(1e-9, end - measure_from)
    ms = 1000.0
    return {
        "concurrency": args.concurrency,
        "requests": len(lat),
        "requests_total": stats.total,
        "ok_total": stats.ok_total,
        "seconds": round(window, 3),
        "rps": len(lat) / window,
        "p50_ms": percentile(lat, 50) * ms,
        "p90_ms": percentile(lat, 90) * ms,
        "p99_ms": percentile(lat, 99) * ms,
        "max_ms": (lat[-1] if lat else float("nan")) * ms,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "unexpected": stats.unexpected,
        "sample": stats.sample,
        "reconnects": stats.reconnects,
        # This process's own CPU for every request sent (warm-up included), start-up excluded.
        "cpu_s": time.process_time() - cpu0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--users", default="U1")
    p.add_argument("--channel", default="C1")
    p.add_argument("--command", default="/progress")
    p.add_argument("--text", default="signed ACME annual deal sales=500k customers=1")
    p.add_argument("--expect", default="", help="text every good answer contains")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--run-id", default=str(int(time.time() * 1000)))
    args = p.parse_args(argv)
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 60 and 1 <= args.concurrency <= 64):
        p.error("duration (0, 600] s, warmup [0, 60] s and concurrency 1..64 only")
    print(json.dumps(asyncio.run(run(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
