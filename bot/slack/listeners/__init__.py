"""Listeners grouped by kind; each module exposes `register(app, services)`."""

from slack_bolt import App

from bot.slack.listeners import actions, commands, events, shortcuts, views
from bot.slack.services import Services


def register_listeners(app: App, services: Services) -> None:
    for module in (commands, actions, shortcuts, views, events):
        module.register(app, services)
