"""One shape for chat answers from every network: no `A1` prefix, no chat hashtag; and no answer twice in a recap."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chats.answers import distinct, normalised
from bot.chats.recap import RecapAnswer
from bot.tips.records import split_tags


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("A1 Exit tickets: one glow, one grow", "Exit tickets: one glow, one grow"),  # Slack, as typed in a thread
        ("Exit tickets: one glow, one grow #PLChat", "Exit tickets: one glow, one grow"),  # X, after its A1 was read
        ("a1. #plchat Sticky notes #math", "Sticky notes #math"),
        ("A2: peer review ＃PLCHAT with a rubric", "peer review with a rubric"),
        ("@msfrizzle @ana A1 - Two stars and a wish", "Two stars and a wish"),
        ("#PLChat A3 Wait time, then think-pair-share", "Wait time, then think-pair-share"),
        ("Atlas maps and #PLChat-style chats", "Atlas maps and #PLChat-style chats"),  # another tag, and a word with A
        ("See https://example.org/#PLChat for more", "See https://example.org/#PLChat for more"),  # a link, not a tag
        ("A1 First line #PLChat\n  second line", "First line\nsecond line"),
        ("A 10-minute timer for every station", "A 10-minute timer for every station"),
    ],
)
def test_answers_from_every_network_are_stored_alike(typed: str, stored: str) -> None:
    assert normalised(typed, "PLChat") == stored


ANSWER_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "A1",
                "a2.",
                "A3:",
                "A 4",
                "#PLChat",
                "#plchat",
                "＃PLChat",
                "#PLChat-fun",
                "#math",
                "@bob",
                "PLChat",
                "#",
                "A",
                "1",
                ":",
                "-",
                "\n",
                " ",
                "  ",
                "x#PLChat",
                "https://e.org/#PLChat",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    ),
    max_size=12,
).map("".join)
HASHTAGS = st.sampled_from(["PLChat", "plchat", "#PLChat", "EdChat", "A1"])


@given(text=ANSWER_TEXT, hashtag=HASHTAGS)
def test_normalising_twice_is_normalising_once_and_the_chat_hashtag_is_gone(text: str, hashtag: str) -> None:
    once = normalised(text, hashtag)

    assert normalised(once, hashtag) == once
    tag = hashtag.lstrip("#")
    assert tag.lower() not in split_tags(once)[1]
    assert not re.search(rf"(?<![\w&/])[#＃]{re.escape(tag)}(?![\w-])", once, re.IGNORECASE)


def answer(text: str, author: str, via: str = "slack") -> RecapAnswer:
    return RecapAnswer(text, author, via, 0, None)  # type: ignore[arg-type]


def test_one_persons_same_answer_shows_once() -> None:
    answers = [
        answer("A1 Exit tickets, one glow one grow", "@ana", "x"),
        answer("exit tickets, one glow one grow #PLChat", "@Ana", "x"),
        answer("Exit tickets, one glow one grow", "@ben", "bluesky"),
        answer("Exit tickets with a rubric", "@ana", "x"),
    ]

    assert distinct(answers, "PLChat") == [answers[0], answers[2], answers[3]]
