"""The baseline server: a bare Bolt app whose slash command only acks a fixed text, on the same
server stack as teambot (bot.slack.server.build_asgi + build_server: Starlette on uvicorn, Bolt's
dispatch in Starlette's thread pool), in its own process.

    python bench/bare_bolt.py --port 3001 --secret S --api-url http://127.0.0.1:9/api/ [--pbr]

--pbr: process_before_response=True (what teambot uses); without it, Bolt's defaults.
--inline: slash commands are dispatched on the event loop's thread, as teambot's typed commands
are (bot.slack.server.build_asgi's `inline`); without it, in Starlette's thread pool.
The signature check (Bolt's RequestVerification) runs as in any Bolt app; auth.test goes to
--api-url (the bench's FakeSlack) once, like Bolt's single-workspace authorization does.
"""
from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.server import build_server

FIXED = "ok: noted"


def build(secret: str, api_url: str, pbr: bool) -> App:
    client = WebClient(token="xoxb-bench", base_url=api_url)
    app = App(signing_secret=secret, client=client, token_verification_enabled=False,
              process_before_response=pbr)

    @app.command("/progress")
    def progress(ack):
        ack(FIXED)

    return app


def slash_command(body: dict) -> bool:
    """The server's `inline` test (on the body Bolt parsed): any slash command."""
    command = body.get("command")
    return isinstance(command, str) and command.startswith("/")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--api-url", required=True)
    p.add_argument("--pbr", action="store_true", help="process_before_response=True")
    p.add_argument("--inline", action="store_true", help="slash commands on the event loop's thread")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app = build(args.secret, args.api_url, args.pbr)
    server = build_server(Settings(http_host="127.0.0.1", http_port=args.port, log_level="WARNING"), app,
                          inline=slash_command if args.inline else None)
    gc.collect()  # as bot.slack.server.serve does for teambot
    gc.freeze()
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
