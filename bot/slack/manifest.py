"""What the app asks Slack for, declared once: its slash commands, shortcuts, events, scopes and URL paths.

The listeners register exactly these (`bind`), and `plchat manifest` builds the app manifest from them, so the
manifest an operator pastes into Slack can never name a command the bot doesn't answer or miss one it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml

EVENTS_PATH = "/slack/events"  # Bolt takes slash commands, interactivity and events here (`plchat web`)
INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"


@dataclass(frozen=True)
class SlashCommand:
    command: str
    description: str
    usage_hint: str
    should_escape: bool  # True: Slack turns @person and #channel into ids in the text the bot gets


@dataclass(frozen=True)
class Shortcut:
    name: str
    type: Literal["global", "message"]
    callback_id: str
    description: str


PLAY = SlashCommand(
    "/play",
    "A play from the personalized-learning playbook to try this week",
    "[words | list | random | category | mine | drafts] [grade:K-5|6-8|9-12]",
    False,
)
PLCHAT = SlashCommand(
    "/plchat",
    "PLChat Bot help, scheduled chats, and moderators",
    "help | chats | schedule | moderators add|remove|list @person",
    True,
)
TIP = SlashCommand(
    "/tip", "Share a classroom tip with your colleagues", "[your tip #tag ...] (no text opens a form)", False
)
TIPS = SlashCommand(
    "/tips",
    "Search the tips your colleagues shared",
    "[words #tag from:@person since:YYYY-MM-DD grade:3-5 | mine | export-mine | delete-mine]",
    True,
)
DIGEST = SlashCommand(
    "/digest",
    "Your weekly PLChat digest, in your DMs or a channel",
    "subscribe [#channel] [monday..sunday] [HH:MM] | settings | pause | resume | unsubscribe | preview",
    True,
)
COMMANDS = (PLAY, PLCHAT, TIP, TIPS, DIGEST)

SHARE_TIP = Shortcut("Share a tip", "global", "share_tip", "Share a classroom tip with your colleagues")
SAVE_TIP = Shortcut("Save as tip", "message", "save_tip", "Save this message as a tip, crediting its author")
SHORTCUTS = (SHARE_TIP, SAVE_TIP)

# Bolt's event type -> the subscriptions that deliver it. `message`: replies in a chat question's thread, in
# public and private channels.
EVENTS: Mapping[str, tuple[str, ...]] = {
    "app_home_opened": ("app_home_opened",),
    "reaction_added": ("reaction_added",),
    "app_uninstalled": ("app_uninstalled",),
    "tokens_revoked": ("tokens_revoked",),
    "message": ("message.channels", "message.groups"),
}

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "reactions:read",
    "channels:history",
    "groups:history",
    "im:write",
    "im:history",
    "users:read",
    "files:write",
)

DESCRIPTION = (
    "Playbook plays, shared tips and hashtag chats for teacher communities, on Slack, X, Bluesky and Mastodon."
)
LONG_DESCRIPTION = (
    "PLChat Bot serves short, practical strategy cards from the personalized-learning playbook: blended learning "
    "and station rotation, the flipped classroom, project-based and competency-based learning, feedback and "
    "student ownership, and whole-school design. Ask for a play with /play, search with /play and a few words, "
    "and share the ones you like with your channel. Teachers share their own tips with /tip, a message shortcut "
    "or a reaction, and search them with /tips. Moderators turn the most helpful tips into the community's own "
    "plays, credited to the teachers who shared them. Moderators schedule hashtag chats like #PLChat with "
    "/plchat schedule: the bot posts the reminders, the welcome, each question and the wrap-up on time in Slack "
    "and on X, Bluesky and Mastodon, collects the answers as tips, and posts a recap. Anyone can subscribe to a "
    "weekly digest with /digest."
)

K = TypeVar("K")
V = TypeVar("V")


def bind(declared: Iterable[K], handlers: Mapping[K, V]) -> Iterator[tuple[K, V]]:
    """Each declared command, shortcut or event with its handler. A declaration without a handler, or a handler
    for something undeclared, fails at start (in every test that builds the app), not in a workspace."""
    declared = list(declared)
    differ = set(declared) ^ set(handlers)
    if differ:
        raise LookupError(f"declared and handled differ: {sorted(map(str, differ))}")
    return ((item, handlers[item]) for item in declared)


class BadURL(ValueError):
    """`--url` is not https://HOST."""


def origin(url: str) -> str:
    """`https://HOST[:PORT]`, the address `plchat web` is reachable at, without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.path.strip("/") or parts.query or parts.fragment:
        raise BadURL(
            f"{url!r} isn't the address of your host; give it as https://HOST (Slack sends requests "
            "only over HTTPS; `plchat web` serves its paths at the root)."
        )
    return f"https://{parts.netloc}"


def manifest(url: str | None = None) -> dict[str, Any]:
    """The app manifest: with `url` (https://HOST) for HTTP mode, every request URL filled in; without, for Socket
    Mode (`plchat run`)."""
    base = origin(url) if url is not None else None
    requests = {"url": base + EVENTS_PATH} if base else {}
    commands = [
        {
            "command": c.command,
            **requests,
            "description": c.description,
            "usage_hint": c.usage_hint,
            "should_escape": c.should_escape,
        }
        for c in COMMANDS
    ]
    events: dict[str, Any] = {"request_url": base + EVENTS_PATH} if base else {}
    events["bot_events"] = [name for names in EVENTS.values() for name in names]
    interactivity: dict[str, Any] = {"is_enabled": True}
    if base:
        interactivity["request_url"] = base + EVENTS_PATH
    oauth: dict[str, Any] = {"redirect_urls": [base + OAUTH_REDIRECT_PATH]} if base else {}
    oauth["scopes"] = {"bot": list(BOT_SCOPES)}
    return {
        "display_information": {
            "name": "PLChat Bot",
            "description": DESCRIPTION,
            "background_color": "#2c5f2d",
            "long_description": LONG_DESCRIPTION,
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "PLChat Bot", "always_online": True},
            "slash_commands": commands,
            "shortcuts": [
                {"name": s.name, "type": s.type, "callback_id": s.callback_id, "description": s.description}
                for s in SHORTCUTS
            ],
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": base is None,
            "token_rotation_enabled": False,
        },
    }


SOCKET_MODE_HEADER = """\
# Slack app manifest for PLChat Bot, as `plchat manifest` prints it: Socket Mode, for `plchat run` (no public URL).
# Create the app from it: api.slack.com/apps > Create New App > From a manifest.
# For HTTP mode (`plchat web`), use `plchat manifest --url https://YOUR-HOST` instead: it fills in every URL.
"""
HTTP_HEADER = """\
# Slack app manifest for PLChat Bot in HTTP mode, for `plchat web` at {origin},
# as `plchat manifest --url` prints it.
# Create the app from it: api.slack.com/apps > Create New App > From a manifest.
"""


class _Dumper(yaml.SafeDumper):
    """Plain YAML, with a long text folded (`>-`) rather than quoted on one line."""


_Dumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style=">" if len(text) > 140 else None),
)


def manifest_yaml(url: str | None = None) -> str:
    base = origin(url) if url is not None else None
    header = HTTP_HEADER.format(origin=base) if base else SOCKET_MODE_HEADER
    return header + yaml.dump(manifest(base), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
