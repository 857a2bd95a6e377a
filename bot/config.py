"""TOML + environment -> one frozen, typed Settings object.

Precedence: environment variables of SPEC's operations contract > config file > defaults.
Secrets are read only from the environment; the file names nothing secret."""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage import sealed

PLATFORMS = ("slack", "dingtalk", "wecom", "console")


class ConfigError(Exception):
    """One line naming the key and what is wrong with it."""


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = None
    #: How long users.info answers (locale, time zone, name) are reused.
    user_cache_seconds: int = 3600
    #: users.info is asked while Slack waits for our ack; never let it eat the 3-second budget.
    users_info_timeout: float = 1.0
    #: Multi-workspace mode (Slack OAuth), on when both are set. Off by default.
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def configured(self) -> bool:
        return bool(self.signing_secret and (self.bot_token or self.oauth))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


@dataclass(frozen=True)
class DingTalkSettings:
    app_key: str | None = None
    app_secret: str | None = None
    #: "stream" (the official SDK's long connection, no public URL) or "http" (outgoing-robot callback).
    mode: str = "stream"
    api_url: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.app_key and self.app_secret)


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str | None = None
    agent_id: str | None = None
    secret: str | None = None
    token: str | None = None
    encoding_aes_key: str | None = None
    api_url: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.corp_id and self.agent_id and self.secret and self.token and self.encoding_aes_key)


@dataclass(frozen=True)
class HttpSettings:
    """The limits of the HTTP front (bot.kit.front)."""
    max_connections: int = 200
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0
    #: Request bodies held in memory at once, every request together.
    body_memory_mb: float = 8.0


@dataclass(frozen=True)
class SchedulerSettings:
    #: How often due occurrences are looked for; a post goes out at most this late.
    tick_seconds: float = 30.0
    #: Occurrences missed while the bot was down are caught up if at most this old, else skipped.
    grace_hours: float = 6.0
    lookback_days: float = 2.0
    #: "21:00-08:00": messages due then wait until the end (the recipient's time zone); "off" disables.
    quiet_hours: str = "21:00-08:00"
    keep_sent_days: int = 30
    keep_ledger_days: int = 90
    keep_receipt_days: int = 7


@dataclass(frozen=True)
class HealthSettings:
    """When /healthz says unhealthy (bot/ops.py), and the DingTalk Stream watchdog."""
    #: A Slack Socket Mode or DingTalk Stream connection down (reconnecting) longer than this.
    connection_down_seconds: float = 120.0
    #: DingTalk Stream: nothing from the gateway (its pings, messages) for this long: reconnect.
    stream_silence_seconds: float = 90.0


@dataclass(frozen=True)
class OutboxSettings:
    drain_seconds: float = 1.0
    batch: int = 50
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 600.0
    pacing: bool = True
    pace_slack: float = 1.0
    pace_dingtalk: float = 3.0
    pace_wecom: float = 3.0
    #: Sends in flight at once, to different destinations (one destination: one at a time, in order).
    concurrency: int = 32
    #: Messages a second this replica starts per platform (its quota, shared among replicas); 0: no limit.
    rate_slack: float = 0.0
    rate_dingtalk: float = 0.0
    rate_wecom: float = 0.0
    #: How long after their moment queued messages stay good; later they are kept as expired.
    #: Scheduled ones use [scheduler] grace_hours.
    reply_window_minutes: float = 60.0
    notice_window_hours: float = 24.0


@dataclass(frozen=True)
class Settings:
    platform: str = "console"
    database_url: str = "sqlite:///teambot.db"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    default_lang: str = "zh"
    default_tz: str = "Asia/Shanghai"
    default_calendar: str = "CN"
    log_level: str = "INFO"
    #: Empty: stderr (the interactive console: teambot.log); see bot/logs.py.
    log_file: str = ""
    http: HttpSettings = field(default_factory=HttpSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    dingtalk: DingTalkSettings = field(default_factory=DingTalkSettings)
    wecom: WeComSettings = field(default_factory=WeComSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    #: Where the config came from, for `teambot run` to say at start-up.
    source: str = "defaults"


# key in file -> (section, key, type, env var)
_SCHEMA: dict[str, dict[str, tuple[type, str | None]]] = {
    "bot": {"platform": (str, None), "default_lang": (str, None), "default_tz": (str, None),
            "default_calendar": (str, None), "log_level": (str, "TEAMBOT_LOG_LEVEL"),
            "log_file": (str, "TEAMBOT_LOG_FILE")},
    "database": {"url": (str, "TEAMBOT_DATABASE_URL")},
    "http": {"host": (str, "TEAMBOT_HTTP_HOST"), "port": (int, "TEAMBOT_HTTP_PORT"),
             "max_connections": (int, None), "header_timeout_seconds": (float, None),
             "body_timeout_seconds": (float, None), "body_memory_mb": (float, None)},
    "slack": {"api_url": (str, "SLACK_API_URL"), "user_cache_seconds": (int, None),
              "users_info_timeout": (float, None)},
    "dingtalk": {"mode": (str, "DINGTALK_MODE"), "api_url": (str, "DINGTALK_API_URL")},
    "wecom": {"api_url": (str, "WECOM_API_URL")},
    "scheduler": {"tick_seconds": (float, None), "grace_hours": (float, None), "lookback_days": (float, None),
                  "quiet_hours": (str, None), "keep_sent_days": (int, None), "keep_ledger_days": (int, None),
                  "keep_receipt_days": (int, None)},
    "health": {"connection_down_seconds": (float, None), "stream_silence_seconds": (float, None)},
    "outbox": {"drain_seconds": (float, None), "batch": (int, None), "lease_seconds": (float, None),
               "max_attempts": (int, None), "backoff_base_seconds": (float, None),
               "backoff_cap_seconds": (float, None), "pacing": (bool, None), "pace_slack": (float, None),
               "pace_dingtalk": (float, None), "pace_wecom": (float, None),
               "reply_window_minutes": (float, None), "notice_window_hours": (float, None),
               "concurrency": (int, None), "rate_slack": (float, None), "rate_dingtalk": (float, None),
               "rate_wecom": (float, None)},
}


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    explicit = path is not None or "TEAMBOT_CONFIG" in env
    path = Path(path or env.get("TEAMBOT_CONFIG") or "config.toml")
    data, source = _read(path, explicit)
    values = _values(data, env, path)

    def get(section: str, key: str, default):
        return values.get((section, key), default)

    slack, dingtalk, wecom = _platform_settings(env, get)
    s = Settings(
        platform=_platform(get("bot", "platform", ""), path, slack, dingtalk, wecom),
        database_url=get("database", "url", "sqlite:///teambot.db"),
        http_host=get("http", "host", "0.0.0.0"),
        http_port=get("http", "port", 3000),
        default_lang=get("bot", "default_lang", "zh"),
        default_tz=get("bot", "default_tz", "Asia/Shanghai"),
        default_calendar=get("bot", "default_calendar", "CN"),
        log_level=str(get("bot", "log_level", "INFO")).upper(),
        log_file=str(get("bot", "log_file", "")),
        http=HttpSettings(**{k: v for (sec, k), v in values.items() if sec == "http" and k not in ("host", "port")}),
        slack=slack,
        dingtalk=dingtalk,
        wecom=wecom,
        scheduler=SchedulerSettings(**{k: v for (sec, k), v in values.items() if sec == "scheduler"}),
        outbox=OutboxSettings(**{k: v for (sec, k), v in values.items() if sec == "outbox"}),
        health=HealthSettings(**{k: v for (sec, k), v in values.items() if sec == "health"}),
        source=source,
    )
    _validate(s, path)
    return s


def _read(path: Path, explicit: bool) -> tuple[dict, str]:
    """The config file's sections (checked against _SCHEMA) and where they came from."""
    data: dict = {}
    source = "defaults"
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        except OSError as e:
            raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
        source = str(path)
    elif explicit:
        raise ConfigError(f"{path}: config file not found")

    for section, body in data.items():
        if section not in _SCHEMA:
            raise ConfigError(f"{path}: unknown section [{section}] (known: "
                              f"{', '.join('[' + s + ']' for s in _SCHEMA)})")
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: '{section}' must be a section ([{section}])")
        for key in body:
            if key not in _SCHEMA[section]:
                raise ConfigError(f"{path}: [{section}] {key}: unknown key (known: "
                                  f"{', '.join(_SCHEMA[section])})")
    return data, source


def _values(data: dict, env: Mapping[str, str], path: Path) -> dict[tuple[str, str], object]:
    """(section, key) -> typed value, for every key set in the environment or the file."""
    values: dict[tuple[str, str], object] = {}
    for section, keys in _SCHEMA.items():
        for key, (typ, env_name) in keys.items():
            where = f"[{section}] {key}"
            raw: object = None
            if env_name and env.get(env_name, "") != "":
                raw, where = env[env_name], f"environment variable {env_name}"
            elif key in data.get(section, {}):
                raw, where = data[section][key], f"{path}: [{section}] {key}"
            if raw is not None:
                values[(section, key)] = _coerce(raw, typ, where)
    return values


def _platform_settings(env: Mapping[str, str], get) -> tuple[SlackSettings, DingTalkSettings, WeComSettings]:
    slack = SlackSettings(
        bot_token=env.get("SLACK_BOT_TOKEN") or None,
        signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        app_token=env.get("SLACK_APP_TOKEN") or None,
        api_url=get("slack", "api_url", None),
        user_cache_seconds=get("slack", "user_cache_seconds", 3600),
        users_info_timeout=get("slack", "users_info_timeout", 1.0),
        client_id=env.get("SLACK_CLIENT_ID") or None,
        client_secret=env.get("SLACK_CLIENT_SECRET") or None,
        redirect_uri=env.get("SLACK_REDIRECT_URI") or None,
    )
    if bool(slack.client_id) != bool(slack.client_secret):
        raise ConfigError("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (multi-workspace mode), or neither")
    if slack.oauth and slack.app_token:
        raise ConfigError("multi-workspace mode (SLACK_CLIENT_ID) serves /slack/install over HTTP: "
                          "unset SLACK_APP_TOKEN")
    dingtalk = DingTalkSettings(
        app_key=env.get("DINGTALK_APP_KEY") or None,
        app_secret=env.get("DINGTALK_APP_SECRET") or None,
        mode=str(get("dingtalk", "mode", "stream")).lower(),
        api_url=get("dingtalk", "api_url", None),
    )
    if dingtalk.mode not in ("stream", "http"):
        raise ConfigError(f"[dingtalk] mode / DINGTALK_MODE: '{dingtalk.mode}' is not stream or http")
    wecom = WeComSettings(
        corp_id=env.get("WECOM_CORP_ID") or None,
        agent_id=env.get("WECOM_AGENT_ID") or None,
        secret=env.get("WECOM_SECRET") or None,
        token=env.get("WECOM_TOKEN") or None,
        encoding_aes_key=env.get("WECOM_ENCODING_AES_KEY") or None,
        api_url=get("wecom", "api_url", None),
    )
    if wecom.encoding_aes_key and len(wecom.encoding_aes_key) != 43:
        raise ConfigError("environment variable WECOM_ENCODING_AES_KEY: expected the 43-character key "
                          "from the WeCom admin console")
    try:
        sealed.keyring(env.get(sealed.ENV))  # read by storage/sealed.py where a robot is stored or read
    except sealed.SecretKeyError as e:
        raise ConfigError(str(e)) from None
    return slack, dingtalk, wecom


def _platform(configured: str, path: Path, slack: SlackSettings, dingtalk: DingTalkSettings,
              wecom: WeComSettings) -> str:
    """The platform to run ([bot] platform, else the first with credentials, else the console),
    checked to have every credential it needs."""
    platform = str(configured or "").lower()
    if platform and platform not in PLATFORMS:
        raise ConfigError(f"{path}: [bot] platform: '{platform}' is not one of {', '.join(PLATFORMS)}")
    if not platform:
        platform = next((name for name, conf in (("slack", slack), ("dingtalk", dingtalk), ("wecom", wecom))
                         if conf.configured), "console")
    required = {
        "slack": (() if slack.oauth else (("SLACK_BOT_TOKEN", slack.bot_token),))
                 + (("SLACK_SIGNING_SECRET", slack.signing_secret),),
        "dingtalk": (("DINGTALK_APP_KEY", dingtalk.app_key), ("DINGTALK_APP_SECRET", dingtalk.app_secret)),
        "wecom": (("WECOM_CORP_ID", wecom.corp_id), ("WECOM_AGENT_ID", wecom.agent_id),
                  ("WECOM_SECRET", wecom.secret), ("WECOM_TOKEN", wecom.token),
                  ("WECOM_ENCODING_AES_KEY", wecom.encoding_aes_key)),
    }.get(platform, ())
    missing = [name for name, value in required if not value]
    if missing:
        raise ConfigError(f"[bot] platform is {platform} but {' and '.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not set in the environment")
    if slack.app_token and not slack.app_token.startswith("xapp-"):
        raise ConfigError("environment variable SLACK_APP_TOKEN: expected an app-level token starting with xapp-")
    return platform


def _coerce(raw: object, typ: type, where: str):
    try:
        if typ is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(str(raw).strip())
        if typ is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(str(raw).strip())
        if not isinstance(raw, str):
            raise ValueError
        return raw.strip()
    except ValueError:
        raise ConfigError(f"{where}: expected {typ.__name__}, got {raw!r}") from None


def _validate(s: Settings, path: Path) -> None:
    if not 1 <= s.http_port <= 65535:
        raise ConfigError(f"[http] port / TEAMBOT_HTTP_PORT: {s.http_port} is not a port number (1-65535)")
    if s.default_lang not in ("zh", "en"):
        raise ConfigError(f"{path}: [bot] default_lang: '{s.default_lang}' is not zh or en")
    try:
        ZoneInfo(s.default_tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"{path}: [bot] default_tz: '{s.default_tz}' is not an IANA time zone "
                          "(e.g. Asia/Shanghai)") from None
    if not (s.database_url.startswith("sqlite") or s.database_url.startswith("postgres")):
        raise ConfigError("[database] url / TEAMBOT_DATABASE_URL: expected sqlite:///... or "
                          f"postgresql+psycopg://..., got '{s.database_url}'")
    if s.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{path}: [bot] log_level: '{s.log_level}' is not DEBUG, INFO, WARNING or ERROR")
    if s.slack.user_cache_seconds < 0 or s.slack.users_info_timeout <= 0:
        raise ConfigError(f"{path}: [slack] user_cache_seconds must be >= 0 and users_info_timeout > 0")
    for section, obj in (("http", s.http), ("scheduler", s.scheduler), ("outbox", s.outbox)):
        for key, value in vars(obj).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"{path}: [{section}] {key}: must not be negative, got {value}")
    for section, obj, keys in (("scheduler", s.scheduler, ("tick_seconds",)),
                               ("outbox", s.outbox, ("drain_seconds", "lease_seconds", "batch", "max_attempts", "concurrency")),
                               ("http", s.http, tuple(vars(s.http))), ("health", s.health, tuple(vars(s.health)))):
        for key in keys:
            if getattr(obj, key) <= 0:
                raise ConfigError(f"{path}: [{section}] {key}: must be greater than 0")
    from commands.core.workdays import QuietHours, validate_calendar
    try:
        QuietHours.parse(s.scheduler.quiet_hours)
    except ValueError:
        raise ConfigError(f"{path}: [scheduler] quiet_hours: '{s.scheduler.quiet_hours}' is not like "
                          "21:00-08:00 or off") from None
    try:
        validate_calendar(s.default_calendar)
    except ValueError:
        raise ConfigError(f"{path}: [bot] default_calendar: '{s.default_calendar}' is not CN, a country "
                          "code or none") from None
