"""Where log lines go: never between a console user's prompt and the bot's answers.

- `[bot] log_file` (TEAMBOT_LOG_FILE) set: every line at `log_level` goes to that file, in any mode.
- The console at a terminal: to `teambot.log` in the current folder (the console says so once).
- The console reading a script or a pipe: stderr, WARNING and above only (the transcript is stdout).
- A platform (Slack, DingTalk, WeCom): stderr at `log_level`, for the service manager to collect.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from bot.config import Settings

CONSOLE_LOG = "teambot.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Alembic narrates every migration step and APScheduler every job run at INFO; we say what matters.
NOISY = ("alembic", "apscheduler")


def configure(settings: Settings, *, console: bool, interactive: bool) -> str | None:
    """Install the one handler; returns the log file's path when lines go to a file."""
    level = logging.getLevelName(settings.log_level)
    path = settings.log_file or (CONSOLE_LOG if console and interactive else "")
    handler: logging.Handler | None = None
    if path:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        except OSError as e:
            print(f"teambot: cannot write the log file {path}: {e.strerror}; logging to stderr", file=sys.stderr)
            path = ""
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        if console:
            level = max(level, logging.WARNING)
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # A library's warnings.warn() would otherwise print into the console too.
    logging.captureWarnings(True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, level))
    return path or None
