"""tests/kit/fake_slack.FakeSlack in its own process, so that it never competes for the GIL with
the code being measured. Prints its Web API base URL on the first line of stdout and serves on
127.0.0.1 until its stdin is closed (the parent exits or closes the pipe) or --max-seconds pass.

Every call is counted; nothing is kept (a 10,000-message fan-out would otherwise pile up bodies):
`GET /api/stats` on the same port answers {"calls": {method: count}}.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.kit import fake_slack


class CountingFakeSlack(fake_slack.FakeSlack):
    """Answers like FakeSlack; keeps counts instead of every request."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _record(self, call: fake_slack.Call) -> None:
        with self._count_lock:
            self.counts[call.method] += 1

    def answer(self, method: str, params: dict):
        if method == "stats":
            with self._count_lock:
                return 200, {}, {"ok": True, "calls": dict(self.counts)}
        return super().answer(method, params)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--max-seconds", type=float, default=3600.0)
    args = p.parse_args(argv)
    fake = CountingFakeSlack().start()
    print(json.dumps({"url": fake.url, "base": fake.base}), flush=True)
    done = threading.Event()

    def wait_stdin():
        try:
            sys.stdin.read()
        finally:
            done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    done.wait(args.max_seconds)
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
