"""`teambot run | console | demo | db | manifest` — the process entry points."""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

DESCRIPTION = """teambot: a sales team's routine in its chat (progress, tasks, resources, goals, KPIs).

With no platform credentials in the environment, `teambot run` starts the local console on SQLite.
Configuration: config.toml (see config.example.toml) and environment variables
(SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL, DINGTALK_APP_KEY,
DINGTALK_APP_SECRET, WECOM_CORP_ID and the other WECOM_* variables, TEAMBOT_DATABASE_URL,
TEAMBOT_HTTP_PORT, TEAMBOT_SECRET_KEY). The README explains each."""

DB_DESCRIPTION = """Group robots' webhooks and signing secrets (/team robot) are stored encrypted when
TEAMBOT_SECRET_KEY is set: one key, or several separated by commas, the first encrypting and any
of them decrypting. Rows stored before a key was set stay readable.

  teambot db new-key       print a new key
  teambot db rotate-key    encrypt every stored robot with the first key (plaintext rows included)

To rotate: restart the bot (every replica) with TEAMBOT_SECRET_KEY=NEW,OLD, run
`teambot db rotate-key` with the same value, then restart with TEAMBOT_SECRET_KEY=NEW."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="teambot", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="PATH", help="config file (default: ./config.toml if present; "
                   "or TEAMBOT_CONFIG)")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    sub.add_parser("run", help="run the bot and its scheduler on the configured platform "
                   "(Slack, DingTalk or WeCom when their credentials are set, else the local console)")

    c = sub.add_parser("console", help="chat with the bot locally as a named user")
    c.add_argument("--as", dest="user", metavar="USER", help="who you are (default: your login name)")
    c.add_argument("--script", metavar="FILE", help="read commands from FILE, one per line; "
                   "'/as USER' switches user")

    d = sub.add_parser("demo", help="create a sample sales team with a few weeks of data, then open the console")
    d.add_argument("--as", dest="user", default="wang", metavar="USER",
                   help="who you are in the demo (default: wang, the sales manager)")
    d.add_argument("--script", metavar="FILE", help="run commands from FILE instead of a prompt")

    o = sub.add_parser("outbox", help="messages waiting to go out, dead and expired ones with the reason; retry one",
                       description="teambot outbox [--pending | --dead | --expired | --sent] [--limit N]\n"
                                   "teambot outbox retry ID [ID ...]")
    o.add_argument("args", nargs=argparse.REMAINDER, help="--pending (default), --dead, --expired, --sent, --limit N, "
                   "or retry ID [ID ...]")

    db = sub.add_parser("db", help="database migrations; the key that encrypts group-robot secrets",
                        description=DB_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    db.add_argument("action", choices=["upgrade", "current", "rotate-key", "new-key"],
                    help="upgrade: apply pending migrations; current: print the applied revision; "
                    "rotate-key: encrypt every group robot's webhook and secret with the first key of "
                    "TEAMBOT_SECRET_KEY; new-key: print a new key")

    i = sub.add_parser("import", help="import a team's customer sheet (CSV from Excel or 简道云); a dry run "
                       "unless --apply", description="teambot import customers FILE.csv --team NAME [--apply]\n\n"
                       "Reads UTF-8 (with or without BOM) or GBK; Chinese or English headers (客户名称/公司, 联系人, "
                       "电话/手机, 阶段, 负责人, 来源, 金额). Without --apply nothing is written: it reports the new "
                       "rows, the duplicates (against the team's customers and within the file) and bad rows with "
                       "their line numbers. --apply writes only the new rows; running it twice imports nothing twice.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("what", choices=["customers"], help="what to import")
    i.add_argument("file", metavar="FILE", help="the CSV file")
    i.add_argument("--team", required=True, metavar="NAME", help="the team's name (or its number)")
    i.add_argument("--apply", action="store_true", help="write the new rows (default: only report)")
    i.add_argument("--lang", choices=["zh", "en"], help="the report's language (default: the team's)")

    m = sub.add_parser("manifest", help="print the Slack app manifest (JSON) to create the app from")
    mode = m.add_mutually_exclusive_group()
    mode.add_argument("--socket", action="store_true", help="Socket Mode app (no public URL; the default)")
    mode.add_argument("--url", metavar="BASE_URL",
                      help="HTTP mode: your public base URL, e.g. https://teambot.example.com")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `teambot outbox --dead --limit 5` hands everything after "outbox" to bot/outbox_cli.py, in order.
    outbox_args: list[str] = []
    head = 2 if argv[:1] == ["--config"] else 0
    if len(argv) > head and argv[head] == "outbox" and not {"-h", "--help"} & set(argv[head + 1:]):
        argv, outbox_args = argv[:head + 1], argv[head + 1:]
    args = _parser().parse_args(argv)
    if args.cmd == "outbox":
        args.args = outbox_args
    if args.cmd is None:
        _parser().print_help()
        return 0
    if args.cmd == "manifest":
        from bot.slack.manifest import manifest_json
        try:
            print(manifest_json("http" if args.url else "socket", args.url))
        except ValueError as e:
            print(f"teambot: {e}", file=sys.stderr)
            return 2
        return 0
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        print(f"teambot: config error: {e}", file=sys.stderr)
        return 2
    from bot import logs
    console = args.cmd in ("console", "demo") or (args.cmd == "run" and settings.platform == "console")
    args.log_file = logs.configure(settings, console=console,
                                   interactive=console and not getattr(args, "script", None) and sys.stdin.isatty())
    try:
        return _COMMANDS[args.cmd](args, settings)
    except KeyboardInterrupt:
        return 130


def _wire(settings: Settings, **kw):
    from bot.wiring import wire
    try:
        return wire(settings, **kw)
    except Exception as e:  # noqa: BLE001 - one clear line instead of a traceback at start-up
        raise SystemExit(f"teambot: cannot open the database {settings.database_url}: "
                         f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def cmd_run(args, settings: Settings) -> int:
    from bot.wiring import operations, platform_sender, scheduler
    w = _wire(settings)
    if settings.platform == "console":
        return _console(w, user=getpass.getuser(), script=None, log_file=args.log_file)
    log = logging.getLogger("teambot")
    if settings.platform in ("dingtalk", "wecom"):
        from bot.rotate_key import warn_unreadable
        warn_unreadable(w.engine)
    sched = scheduler(w, platform_sender(settings, w))
    operations(w, sched)
    sched.start()
    try:
        if settings.platform == "slack":
            from bot.slack import run_slack
            from bot.wiring import on_loop
            log.info("Slack in %s mode", "Socket" if settings.slack.socket_mode
                     else f"HTTP on port {settings.http_port}")
            run_slack(settings, w.dispatcher, w.clock, engine=w.engine,
                      on_loop=None if settings.slack.socket_mode else on_loop(w), probes=w.probes)
        elif settings.platform == "dingtalk":
            from bot.dingtalk import run_dingtalk
            log.info("DingTalk in %s mode", settings.dingtalk.mode)
            run_dingtalk(settings, w.dispatcher, w.clock, probes=w.probes)
        else:
            from bot.wecom import run_wecom
            from bot.wiring import robot_lookup
            log.info("WeCom callback on port %s", settings.http_port)
            run_wecom(settings, w.dispatcher, w.clock, robots=robot_lookup(w, "wecom"), probes=w.probes)
    finally:
        sched.shutdown()
    return 0


def cmd_console(args, settings: Settings) -> int:
    w = _wire(settings)
    return _console(w, user=args.user or getpass.getuser(), script=args.script, log_file=args.log_file)


def cmd_demo(args, settings: Settings) -> int:
    from bot.demo import seed
    w = _wire(settings)
    created = seed(w)
    print("Demo team 华东销售一组 created with five members and four weeks of progress."
          if created else "The demo team already exists in this database.")
    print(f"You are @{args.user}. Try: /team, /progress list, /progress 拜访客户 visits=2, /teambot help\n")
    return _console(w, user=args.user, script=args.script, log_file=args.log_file)


def _console(w, *, user: str, script: str | None, log_file: str | None = None) -> int:
    """The console with its scheduler: scheduled posts and DMs print as they go out."""
    from bot.console.repl import Console
    from bot.console.sender import ConsoleSender
    from bot.wiring import scheduler
    lines = None
    if script:
        try:
            lines = Path(script).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            print(f"teambot: cannot read script {script}: {e.strerror}", file=sys.stderr)
            return 2
    interactive = lines is None and sys.stdin.isatty()
    if interactive and log_file:
        print(f"(log lines go to {log_file})")
    console = Console(w.dispatcher, w.clock, user=user, echo_input=not interactive)
    sched = scheduler(w, ConsoleSender(console))
    console.scheduler = sched
    sched.start()
    try:
        if interactive:
            console.loop(interactive=True)
        else:
            console.loop(lines if lines is not None else sys.stdin)
    finally:
        sched.shutdown()
        console.flush()
    return 0


def cmd_outbox(args, settings: Settings) -> int:
    from bot.outbox_cli import outbox_command
    _wire(settings)  # applies pending migrations so a fresh database answers too
    return outbox_command(list(args.args), settings)


def cmd_db(args, settings: Settings) -> int:
    from storage import migrate, sealed
    from storage.db import make_engine
    if args.action == "new-key":
        print(sealed.new_key())
        return 0
    engine = make_engine(settings.database_url)
    if args.action == "rotate-key":
        from bot.rotate_key import rotate_key
        return rotate_key(engine)
    if args.action == "upgrade":
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
        print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    else:
        print(json.dumps({"current": migrate.current_revision(engine), "head": migrate.head_revision()}))
    return 0


def cmd_import(args, settings: Settings) -> int:
    from bot.import_cli import import_customers
    return import_customers(_wire(settings), args.file, args.team, apply=args.apply, lang=args.lang)


_COMMANDS = {"run": cmd_run, "console": cmd_console, "demo": cmd_demo, "db": cmd_db, "outbox": cmd_outbox,
             "import": cmd_import}

def entry() -> None:
    """Console-script entry: `teambot manifest | head` closing the pipe early is not an error."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    entry()
