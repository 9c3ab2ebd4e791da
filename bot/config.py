"""Settings: one typed object read from the environment (or a `.env` file)."""

from __future__ import annotations

import difflib
import re
from importlib.util import find_spec
from pathlib import Path

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.chats.spec import NETWORKS
from bot.timezones import known_zones

NETWORK_SETTINGS = {
    "x": "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
    "bluesky": "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD",
    "mastodon": "MASTODON_BASE_URL and MASTODON_ACCESS_TOKEN",
}

SUPPORTED_DATABASES = "sqlite:///PATH (a file, the default sqlite:///plchat.db) or postgresql://USER:PASSWORD@HOST/DB"
POSTGRES_INSTALL = (
    "pip install 'plchat-bot[postgres]' (in a clone: pip install -e '.[postgres]'; with pipx: "
    "pipx inject plchat-bot 'psycopg[binary]')"
)
POSTGRES_DRIVER_MISSING = (
    f"is a PostgreSQL URL, but the PostgreSQL driver (psycopg) isn't installed: {POSTGRES_INSTALL}."
)


def database_url_problem(url: str) -> str | None:
    """What is wrong with DATABASE_URL, in words that never repeat it (it may hold a password); None if usable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"isn't a database URL; use {SUPPORTED_DATABASES}."
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return POSTGRES_DRIVER_MISSING if find_spec("psycopg") is None else None
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
        return f"is a {parsed.get_backend_name()} URL; PLChat Bot runs on {SUPPORTED_DATABASES}."
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            return (
                f"names a SQLite file in the folder {folder}, which does not exist; create the folder or "
                "point DATABASE_URL at a file in one that does."
            )
    return None


BOT_TOKEN_PREFIXES = ("xoxb-", "xoxe.xoxb-")  # a bot token; with token rotation on, an expiring one
APP_TOKEN_PREFIX = "xapp-"  # noqa: S105 - a token's prefix, not a token
BOT_TOKEN_FIX = "the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page"  # noqa: S105 - advice, not a token
APP_TOKEN_FIX = "an app-level token (xapp-…) with connections:write, from your app's Basic Information page"  # noqa: S105 - advice, not a token


def slack_token_problem(bot_token: str | None, app_token: str | None) -> str | None:
    """What is wrong with the shape of the Slack tokens (swapped, or not tokens of their kind), before asking Slack;
    in words that never repeat them."""
    bot_is_app = bool(bot_token and bot_token.startswith(APP_TOKEN_PREFIX))
    app_is_bot = bool(app_token and app_token.startswith(BOT_TOKEN_PREFIXES))
    if bot_is_app and app_is_bot:
        return (
            "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are swapped: the xoxb-… token is SLACK_BOT_TOKEN, the xapp-… one "
            "SLACK_APP_TOKEN."
        )
    if bot_is_app:
        return (
            f"SLACK_BOT_TOKEN holds an app-level token (xapp-…), which belongs in SLACK_APP_TOKEN; set "
            f"SLACK_BOT_TOKEN to {BOT_TOKEN_FIX}."
        )
    if bot_token and not bot_token.startswith(BOT_TOKEN_PREFIXES):
        return f"SLACK_BOT_TOKEN isn't a bot token (those start with xoxb-); set it to {BOT_TOKEN_FIX}."
    if app_is_bot:
        return (
            f"SLACK_APP_TOKEN holds a bot token (xoxb-…), which belongs in SLACK_BOT_TOKEN; set SLACK_APP_TOKEN "
            f"to {APP_TOKEN_FIX}."
        )
    if app_token and not app_token.startswith(APP_TOKEN_PREFIX):
        return f"SLACK_APP_TOKEN isn't an app-level token (those start with xapp-); set it to {APP_TOKEN_FIX}."
    return None


class Settings(BaseSettings):
    """Everything the bot reads from its environment. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = "sqlite:///plchat.db"

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_history_per_minute: int = Field(
        default=1,
        ge=1,
        le=100,
        description="conversations.history calls a minute per workspace for the crash "
        "check: 1 for an app distributed outside the Marketplace (Slack's 2025 limit), up to 50 for an internal app",
    )

    x_bearer_token: SecretStr | None = None
    x_api_key: SecretStr | None = None
    x_api_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_api_url: str = "https://api.twitter.com"

    bluesky_handle: str | None = Field(default=None, description="The account chats post from, e.g. plchat.bsky.social")
    bluesky_app_password: SecretStr | None = Field(
        default=None,
        description="An app password (Settings → Privacy and security → App passwords), never the account's own",
    )
    bluesky_service_url: str = "https://bsky.social"
    bluesky_read_budget: int = Field(
        default=600, ge=0, description="Bluesky requests reading one chat occurrence's answers, at most"
    )

    mastodon_base_url: str | None = Field(
        default=None, description="The account's instance, e.g. https://mastodon.social"
    )
    mastodon_access_token: SecretStr | None = Field(
        default=None,
        description="From the instance's Preferences → Development → New application (scopes read and write:statuses)",
    )
    mastodon_read_budget: int = Field(
        default=600, ge=0, description="Mastodon requests reading one chat occurrence's answers, at most"
    )

    plchat_moderators: str = Field(default="", description="Comma- or space-separated Slack user ids")
    plchat_tip_reaction: str = Field(default="bulb", description="Reacting with this emoji saves a message as a tip")
    plchat_timezone: str = "America/Los_Angeles"
    plchat_public_url: str | None = Field(
        default=None,
        description="Where `plchat web` is reachable, for calendar and archive links (e.g. https://plchat.example.org)",
    )
    x_read_budget: int = Field(default=500, ge=0, description="X posts read per chat occurrence, at most")
    plchat_retention_days: int = Field(
        default=365,
        ge=30,
        le=3650,
        description="Days the record of each post "
        "sent and each chat answer collected is kept; the worker deletes older ones",
    )
    port: int = Field(default=3000, ge=1, le=65535)

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("plchat_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in known_zones():
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. America/Los_Angeles)")
        return value

    @field_validator("plchat_tip_reaction")
    @classmethod
    def _emoji_name(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not re.fullmatch(r"[a-z0-9_+'-]{1,100}", name):
            raise ValueError(f"{value!r} is not an emoji name (e.g. bulb, without colons)")
        return name

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def public_link(self, path: str) -> str | None:
        return f"{self.plchat_public_url.rstrip('/')}/{path.lstrip('/')}" if self.plchat_public_url else None

    @property
    def x_enabled(self) -> bool:
        return all((self.x_api_key, self.x_api_secret, self.x_access_token, self.x_access_token_secret))

    @property
    def bluesky_enabled(self) -> bool:
        return bool(self.bluesky_handle and self.bluesky_app_password and self.bluesky_app_password.get_secret_value())

    @property
    def mastodon_enabled(self) -> bool:
        return bool(
            self.mastodon_base_url and self.mastodon_access_token and self.mastodon_access_token.get_secret_value()
        )

    def network_enabled(self, network: str) -> bool:
        return {"x": self.x_enabled, "bluesky": self.bluesky_enabled, "mastodon": self.mastodon_enabled}[network]

    @property
    def connected_networks(self) -> frozenset[str]:
        return frozenset(name for name in NETWORKS if self.network_enabled(name))

    @property
    def moderator_ids(self) -> frozenset[str]:
        return frozenset(re.split(r"[\s,]+", self.plchat_moderators.strip())) - {""}

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace mode: installations are kept in the database."""
        return bool(self.slack_client_id and self.slack_client_secret)


SETTING_PREFIXES = ("PLCHAT_", "SLACK_", "BLUESKY_", "MASTODON_", "X_")
OTHER_VARIABLES = frozenset({"PLCHAT_DEBUG"})  # read by the command line itself, not a setting


def unknown_settings(environment: dict[str, str], env_file: str | Path = ".env") -> list[tuple[str, str | None]]:
    """Variables in the environment or `env_file` that look like settings but aren't one (a typo such as
    PLCHAT_MODERATOR is otherwise silently ignored), each with the closest setting's name, if one is close."""
    known = [name.upper() for name in Settings.model_fields]
    names = {*environment, *(dotenv_values(env_file) if Path(env_file).is_file() else {})}
    return [
        (name, next(iter(difflib.get_close_matches(name.upper(), known, n=1)), None))
        for name in sorted(names)
        if name.upper().startswith(SETTING_PREFIXES)
        and name.upper() not in known
        and name.upper() not in OTHER_VARIABLES
    ]
