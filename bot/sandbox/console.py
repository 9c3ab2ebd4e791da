"""`plchat sandbox`: act as a teacher in a channel and read what the bot posts, with no Slack workspace."""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import platformdirs
from sqlalchemy.engine import make_url

from bot import grades
from bot.chats.definition import parse_chat_file
from bot.chats.spec import ChatSpecError
from bot.resources import data_dir
from bot.sandbox import payloads
from bot.sandbox.bluesky_api import BlueskyStandIn
from bot.sandbox.chat_run import FakeClock, SandboxNetworks, demo_spec, run_demo_chat, run_next_digests
from bot.sandbox.harness import BotHarness, Exchange
from bot.sandbox.mastodon_api import MastodonStandIn
from bot.sandbox.payloads import COLLEAGUE, ESCAPED_COMMANDS, SANDBOX_PEOPLE
from bot.sandbox.render import OPTION_ELEMENTS, Button, Reader, Rendered, options_line, render_message, render_view
from bot.sandbox.slack_api import RecordedCall
from bot.sandbox.x_api import XStandIn
from bot.slack.tip_blocks import TIP_MODAL

CONSOLE_HELP = """You are @teacher in #general of a local stand-in workspace, with your colleague @Ana. Type:
  /play                  a play to try        /play station rotation   search
  /play list             categories           /plchat help             the bot's help
  /tip TEXT #tag         share a tip          /tip                     open the tip form
  /tips WORDS            search tips          /tips mine               your tips
  /tips from:@Ana        Ana's tips (the sandbox knows @teacher and @Ana)
  save TEXT              Ana posts TEXT in #general; you use "Save as tip" on it
  react TEXT             Ana posts TEXT; you react to it with :bulb:
  submit TEXT | TAGS | GRADE    fill in and send the tip form
  submit NAME=VALUE | ...       fill in and send any other form (a field left out keeps what it shows)
  enter NAME=VALUE       type VALUE into a form's field that acts on Enter (Make a play's play_draft_add_tip)
                         and press Enter
  1, 2, ...              press a button shown as [1], [2] ...
  chat [FILE]            run a scheduled chat (a demo one, or FILE) in accelerated time: the reminders,
                         questions, answers on Slack, X, Bluesky and Mastodon, wrap-up and recap, as sent
  digest                 after /digest subscribe: skip ahead to when your digest is due, and read it
  home                   open the bot's App Home tab
  calls                  the Slack Web API calls the bot made so far
  help                   this text            quit                     leave
To try what moderators do (schedule chats, hide tips, Make a play, /play drafts), start the sandbox with
PLCHAT_MODERATORS=U0TEACHER."""
# Web API calls that only read or prepare: nothing a person would see.
QUIET_CALLS = {
    "conversations.history",
    "conversations.replies",
    "chat.getPermalink",
    "conversations.open",
    "files.getUploadURLExternal",
    "users.info",
    "reactions.get",
}
SANDBOX_DATA = "sandbox.db"


def sandbox_database_url() -> str:
    """The sandbox's own SQLite file, never the one `plchat run` uses: in the user's data folder, or the temp
    folder when that can't be made (a read-only home)."""
    try:
        folder = platformdirs.user_data_path("plchat-bot")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / "plchat-bot"
        folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / SANDBOX_DATA}"


def where_data_is(database_url: str) -> str:
    """A database URL as a person reads it: a SQLite file's path; any other URL without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database).resolve()) if url.database else "in memory"
    return url.render_as_string(hide_password=True)


@dataclass
class _Pressable:
    button: Button
    view_id: str | None  # set for App Home buttons, None for message buttons


class Console:
    """Turns typed lines into signed Slack requests and prints what the bot posted."""

    def __init__(self, harness: BotHarness, out: TextIO, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.harness = harness
        self.out = out
        self.clock = clock
        self.buttons: dict[int, _Pressable] = {}
        self.open_view: dict | None = None  # the last form the bot opened, for `submit`
        for person in SANDBOX_PEOPLE:
            harness.standin.set_user(person.user_id, tz=person.tz)
        zones = {person.user_id: person.tz for person in SANDBOX_PEOPLE}
        self.channels = {harness.workspace.channel_id: harness.workspace.channel_name}
        self.reader = Reader(
            names={p.user_id: p.display_name for p in SANDBOX_PEOPLE},
            channels=self.channels,
            zone=ZoneInfo(zones.get(harness.workspace.user_id, harness.settings.plchat_timezone)),
            now=clock,
        )

    def run(self, lines: Iterable[str], *, echo: bool) -> None:
        self._print(CONSOLE_HELP)
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if echo:
                self._print(f"\n> {line}")
            if line in ("quit", "exit"):
                break
            self.handle(line)

    def handle(self, line: str) -> None:
        if line == "help":
            self._print(CONSOLE_HELP)
        elif line == "calls":
            for call in self.harness.standin.calls:
                self._print(f"  {call.kind:4} {call.method} -> {call.status}")
        elif line == "chat" or line.startswith("chat "):
            self._run_chat(line.removeprefix("chat").strip())
        elif line == "digest":
            self._run_digest()
        elif line == "home":
            self._show(self.harness.open_home())
        elif line.isdigit():
            pressable = self.buttons.get(int(line))
            if pressable is None:
                self._print(f"There is no button [{line}] on screen. Buttons: {sorted(self.buttons) or 'none'}.")
                return
            self._show(self.harness.press(pressable.button, view_id=pressable.view_id))
        elif line.startswith(("save ", "react ")):
            verb, _, text = line.partition(" ")
            message = self.harness.standin.seed_message(self.harness.workspace.channel_id, COLLEAGUE.user_id, text)
            self._print(f"(@{COLLEAGUE.display_name} posted in #{self.harness.workspace.channel_name}: {text})")
            if verb == "save":
                self._show(self.harness.message_shortcut("save_tip", message))
            else:
                self._show(self.harness.react(self.harness.settings.plchat_tip_reaction, message))
        elif line.startswith("submit"):
            self._submit(line.removeprefix("submit"))
        elif line == "enter" or line.startswith("enter "):
            self._enter(line.removeprefix("enter"))
        elif line.startswith("/"):
            self._slash(*line.partition(" ")[::2])
        else:
            self._print("Type a slash command such as /play station rotation, a button number, or help.")

    def _slash(self, command: str, text: str) -> None:
        """Send the command as Slack would: a command that escapes gets the people and channel the sandbox knows
        as mentions."""
        if command in ESCAPED_COMMANDS:
            text, unknown = payloads.escaped_text(text, SANDBOX_PEOPLE, self.channels)
            if unknown:
                known = " and ".join(f"@{p.display_name}" for p in SANDBOX_PEOPLE)
                self._print(
                    f"(The sandbox knows {known}, not {', '.join('@' + n for n in unknown)}: Slack sends "
                    "a name nobody has as the text you typed.)"
                )
        self._show(self.harness.slash(command, text))

    def _run_chat(self, path: str) -> None:
        settings = self.harness.settings
        clock = FakeClock(self.clock().replace(second=0, microsecond=0))
        if path:
            try:
                spec = parse_chat_file(_chat_file(path).read_bytes(), default_timezone=settings.plchat_timezone)
            except OSError as exc:
                self._print(f"Can't read {path}: {exc.strerror or exc}")
                return
            except ChatSpecError as exc:
                self._print(f"{path} needs fixing:\n{exc}")
                return
        else:
            spec = demo_spec(
                self.harness.workspace.channel_id, clock() + timedelta(days=1, minutes=30), settings.plchat_timezone
            )
        self._print(f"(running #{spec.hashtag} “{spec.title}” from now to its recap, in accelerated time)")
        # A new app password each time: the Bluesky session kept from an earlier chat (sealed with its password)
        # belongs to a stand-in that is gone, so the bot logs in to this one.
        with (
            XStandIn(clock=clock) as x,
            BlueskyStandIn(clock=clock, password=secrets.token_hex(8)) as bluesky,
            MastodonStandIn(clock=clock) as mastodon,
        ):
            lines = run_demo_chat(self.harness, SandboxNetworks(x, bluesky, mastodon), clock, spec, self.reader)
        self._print("\n".join(lines))

    def _run_digest(self) -> None:
        mark = len(self.harness.standin.calls)
        due = run_next_digests(self.harness, FakeClock(self.clock()))
        if due is None:
            self._print("Nobody here is subscribed yet: `/digest subscribe` first.")
            return
        self._print(f"(skipped ahead to {self.reader.local(due)}, when the digest was due)")
        self._show(Exchange(200, b"", self.harness.standin.calls[mark:]), self.reader.at(due))

    def _submit(self, typed: str) -> None:
        if self.open_view is None:
            self._print("No form is open. `/tip` with no text opens one.")
            return
        if self.open_view.get("callback_id") == TIP_MODAL:
            text, tags, grade = (part.strip() for part in (typed.split("|") + ["", ""])[:3])
            changes = {"text": text, "tags": tags, "grade": grade}
        else:
            named = [part.partition("=") for part in typed.split("|") if part.strip()]
            if any(not sep for _name, sep, _value in named):
                self._print(f"Name each field: submit NAME=VALUE | NAME=VALUE. {_field_names(self.open_view)}")
                return
            changes = {name.strip(): value.strip().replace("\\n", "\n") for name, _sep, value in named}
            if unknown := sorted(set(changes) - set(payloads.form_fields(self.open_view))):
                self._print(f"The form has no field {', '.join(unknown)}. {_field_names(self.open_view)}")
                return
            on_enter = payloads.enter_fields(self.open_view)
            if typed_there := [name for name in changes if name in on_enter and changes[name]]:
                name = typed_there[0]
                self._print(
                    f"{name} acts only when you press Enter in it: submitting the form with words there "
                    f"does nothing with them. Type `enter {name}={changes[name]}` first, then submit. "
                    "Nothing was sent."
                )
                return
        try:
            changes = _chosen_options(self.open_view, changes, self.channels)
        except ValueError as refused:
            self._print(str(refused))
            return
        values = payloads.form_state(self.open_view, current_channel=self.harness.workspace.channel_id, **changes)
        exchange = self.harness.submit_view(self.open_view, values)
        errors = _form_errors(exchange.ack_body)
        if errors:
            self._print("The form says: " + "; ".join(errors))
            return
        self.open_view = None
        self._show(exchange)

    def _enter(self, typed: str) -> None:
        """Type into a field that acts on Enter (`dispatch_action`) and press Enter: Slack sends the form as it
        stands as a block_actions payload, and the bot answers by updating the form."""
        if self.open_view is None:
            self._print("No form is open. `enter NAME=VALUE` presses Enter in a form's field.")
            return
        name, sep, value = (part.strip() for part in typed.partition("="))
        on_enter = payloads.enter_fields(self.open_view)
        if not sep or name not in on_enter:
            fields = ", ".join(on_enter) or "none"
            self._print(
                f"`enter NAME=VALUE` types into a field that acts on Enter; this form's: {fields}. Fill in the "
                "others with submit."
            )
            return
        block, element = on_enter[name]
        values = payloads.form_state(self.open_view, current_channel=self.harness.workspace.channel_id, **{name: value})
        action = {
            "type": element["type"],
            "action_id": element["action_id"],
            "block_id": block["block_id"],
            "value": value,
        }
        self._show(self.harness.act_in_view(self.open_view, values, action))

    def _show(self, exchange: Exchange, reader: Reader | None = None) -> None:
        if exchange.status == 404:
            self._print(
                "(the bot has no listener for that; in a real workspace Slack only sends the commands "
                "listed in manifest.yml. Try /play or /plchat help)"
            )
            return
        if exchange.status != 200:
            self._print(f"(Slack would show an error: the bot answered HTTP {exchange.status})")
            return
        if not exchange.calls:
            self._print("(the bot acknowledged and posted nothing)")
        self.buttons = {}
        for call in exchange.calls:
            if call.kind == "upload" or call.method in QUIET_CALLS:
                continue
            heading, rendered, view_id = self._describe(call, reader or self.reader)
            self._print(f"\n── {heading} ──\n{rendered.text}")
            self.buttons.update({b.number: _Pressable(b, view_id) for b in rendered.buttons})

    def _describe(self, call: RecordedCall, reader: Reader) -> tuple[str, Rendered, str | None]:
        args = call.args
        if call.kind == "hook":
            if args.get("delete_original"):
                return "the private message was removed", Rendered(""), None
            who = (
                f"in #{self.harness.workspace.channel_name}"
                if args.get("response_type") == "in_channel"
                else "only you can see this"
            )
            verb = "replaces the message above" if args.get("replace_original") else who
            return f"PLChat Bot ({verb})", render_message(args.get("text"), args.get("blocks"), reader), None
        if call.method == "views.publish":
            return "App Home", render_view(args.get("view") or {}, reader), f"V-home-{args.get('user_id')}"
        if call.method in ("views.open", "views.update"):
            view = args.get("view") or {}
            shown = self.harness.standin.shown_view(view.get("callback_id") or "")
            # As Slack shows it, with the id and hash an update or Enter in it must name.
            self.open_view = shown if shown and shown.get("blocks") == view.get("blocks") else view
            form = render_view(self.open_view, reader)
            if self.open_view.get("callback_id") == TIP_MODAL:
                hint = "\n(fill it in with: submit your tip | tags, comma separated | grade band)"
            else:
                hint = (
                    f"\n(fill it in with: submit NAME=VALUE | NAME=VALUE; a field left out keeps what it shows, "
                    f"and \\n starts a new line. {_field_names(self.open_view)})"
                )
            heading = "a form opens" if call.method == "views.open" else "the form changes"
            return heading, Rendered(form.text + hint, form.buttons), None
        if call.method in ("chat.postMessage", "chat.postEphemeral"):
            where = "only you can see this" if call.method == "chat.postEphemeral" else self._where(args.get("channel"))
            status = "" if call.status == 200 else f" [Slack answered {call.status}]"
            return f"PLChat Bot ({where}){status}", render_message(args.get("text"), args.get("blocks"), reader), None
        if call.method == "files.completeUploadExternal" and call.status == 200:
            names = [
                f"{file['filename']} ({file['content'].count(chr(10))} lines)"
                for entry in args["files"]
                if (file := self.harness.standin.uploaded(entry["id"]))
            ]
            return "a file arrives in your DMs", Rendered(", ".join(names)), None
        return f"Web API {call.method} -> {call.status}", Rendered(""), None

    def _where(self, channel: str | None) -> str:
        if channel in self.channels:
            return f"in #{self.channels[channel]}"
        return "in your DMs" if channel == self.harness.workspace.user_id else f"in {channel}"

    def _print(self, text: str) -> None:
        print(text, file=self.out)


def _chosen_options(view: dict, changes: dict[str, str], channels: dict[str, str]) -> dict[str, str]:
    """`changes` as Slack would send them: each choice of a select, radio buttons or checkboxes as its option's
    value, each #channel as its id. Raises ValueError naming a choice the form does not offer, and listing those
    it does."""
    elements = payloads.form_elements(view)
    return {name: _chosen(name, elements.get(name) or {}, typed, channels) for name, typed in changes.items()}


def _chosen(name: str, element: dict, typed: str, channels: dict[str, str]) -> str:
    kind = element.get("type")
    parts = [part.strip() for part in typed.split(",") if part.strip()]
    if kind == "multi_conversations_select":
        by_name = {f"#{channel_name}": channel_id for channel_id, channel_name in channels.items()}
        return ",".join(by_name.get(part, part) for part in parts)
    if kind not in OPTION_ELEMENTS:
        return typed
    values: list[str] = []
    for part in parts if kind == "checkboxes" else [typed.strip()] if typed.strip() else []:
        ticked = _ticked(element, part) if kind == "checkboxes" else [payloads.option_value(element, part)]
        chosen = [value for value in ticked if value is not None]
        if len(chosen) < len(ticked):
            raise ValueError(f"{name} has no option {part!r}. Choose {options_line(element)}.")
        values += chosen
    return ",".join(dict.fromkeys(values))


def _ticked(element: dict, typed: str) -> list[str | None]:
    """The boxes a checkbox choice ticks: the one it names; for a grade band the boxes leave out because they
    cover it (K-5 is K-2 and 3-5: a form offering both would let one tip be K-5 and K-2 at once), every box it
    covers, as a teacher ticks them."""
    value = payloads.option_value(element, typed)
    band = grades.band(typed)
    if value is not None or band is None:
        return [value]
    return [payloads.option_value(element, box) for box in grades.covering((band,))]


def _field_names(view: dict) -> str:
    on_enter = payloads.enter_fields(view)
    names = "Fields: " + ", ".join(name for name in payloads.form_fields(view) if name not in on_enter) + "."
    if on_enter:
        names += " Acting on Enter: " + ", ".join(on_enter) + " (`enter NAME=VALUE`)."
    return names


def _form_errors(ack_body: bytes) -> list[str]:
    """The field errors a view_submission ack carried, if any, each after its field's name (Slack shows each
    under its field)."""
    try:
        answer = json.loads(ack_body or b"{}")
    except ValueError:
        return []
    errors = (answer.get("errors") or {}) if isinstance(answer, dict) else {}
    return [f"{payloads.field_name({'block_id': block_id})}: {text}" for block_id, text in errors.items()]


def _chat_file(path: str) -> Path:
    """`path`; or, for the README's `chat examples/plchat-chat.yml` run outside a checkout, the packaged example."""
    given = Path(path)
    packaged = data_dir("examples") / given.name
    return packaged if not given.exists() and given.parent == Path("examples") and packaged.is_file() else given
