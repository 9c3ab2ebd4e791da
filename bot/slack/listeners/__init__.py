"""Listeners grouped by kind; each module exposes `register(app, services)`."""

from slack_bolt import App

from bot.slack.listeners import actions, commands, events
from bot.slack.services import Services


def register_listeners(app: App, services: Services) -> None:
    for module in (commands, actions, events):
        module.register(app, services)
