"""Events API subscriptions."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot import plays
from bot.slack import blocks
from bot.slack.services import Services


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def publish_home(event: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        with services.sessions() as session:
            play = plays.play_of_the_week(session, services.clock().date())
        client.views_publish(user_id=event["user"], view=blocks.home_view(play))
