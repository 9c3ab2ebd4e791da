"""The App Home tab: a play to try, the workspace's newest and most helpful tips (and, for moderators, the tips
reported and not yet hidden or kept, and those ready to become a play), and your digests."""

from __future__ import annotations

from typing import Any

from bot import community, plays
from bot.digests import subscriptions
from bot.slack import blocks, digest_blocks, play_blocks, tip_blocks
from bot.slack.services import Services
from bot.tips import moderation, store

HOME_TIPS = 3


def home_view(services: Services, team_id: str, user_id: str, *, other_than: str | None = None) -> dict[str, Any]:
    """The play of the week, or with `other_than` a random play besides that one (the Another play button)."""
    with services.sessions() as session:
        if other_than is None:
            play = plays.play_of_the_week(session, services.clock().date(), team=team_id)
        else:
            play = plays.random_play(session, services.rng, exclude=other_than, team=team_id)
        tips = tip_blocks.home_tips(
            store.newest(session, team_id, HOME_TIPS), store.most_helpful(session, team_id, HOME_TIPS)
        )
        if moderation.is_moderator(session, team_id, user_id, services.moderators):
            tips += tip_blocks.open_reports_blocks(*moderation.open_reports(session, team_id, HOME_TIPS))
            tips += play_blocks.ready_blocks(
                community.ready_tips(session, team_id, HOME_TIPS), community.draft_count(session, team_id)
            )
        digests = digest_blocks.subscriptions_home_blocks(subscriptions.mine(session, team_id, user_id))
    return blocks.home_view(play, [*tips, *digests])
