"""Telegram's HTML subset, checked as the Bot API would, and long texts split cleanly."""

from __future__ import annotations

import pytest

from bot.telegram_html import MAX_TEXT, HtmlProblem, check_html, escape, split_html


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("<b>Hip</b> &amp; knee", "Hip & knee"),
        ('<a href="https://example.org">link</a>', "link"),
        ("Tom &lt;3 &#128512;", "Tom <3 😀"),
        ("<blockquote expandable>x</blockquote>", "x"),
    ],
)
def test_valid_html_gives_its_visible_text(text: str, visible: str) -> None:
    assert check_html(text) == visible


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>never closed", "<b> is never closed"),
        ("<div>x</div>", "tag <div> is not allowed"),
        ("<i><b>x</i></b>", "</i> found where </b> was expected"),
        ("a & b", "bare '&'"),
        ("1 < 2", "bare '<'"),
        ("<br/>", "self-closing"),
        ("&nbsp;", "not supported"),
        ('<span class="red">x</span>', "tg-spoiler"),
    ],
)
def test_what_telegram_refuses_is_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(HtmlProblem, match=problem):
        check_html(text)


def test_escape_makes_a_persons_text_safe() -> None:
    assert check_html(escape("<b>me & you</b>")) == "<b>me & you</b>"


def test_a_short_text_is_not_split() -> None:
    assert split_html("<b>short</b>") == ["<b>short</b>"]


def test_a_long_text_splits_at_paragraphs_into_valid_parts() -> None:
    paragraph = "<b>Sit</b> with your hips a bit higher than your knees. " * 40
    text = "\n\n".join([paragraph.strip()] * 6)
    parts = split_html(text)
    assert len(parts) > 1
    for part in parts:
        assert len(check_html(part)) <= MAX_TEXT  # valid, and short enough
    assert " ".join(check_html(p) for p in parts).split() == check_html(text).split()


def test_one_huge_paragraph_still_splits_without_breaking_a_tag() -> None:
    text = " ".join(["<i>word</i>"] * 2000)  # one line, 9,999 visible characters
    parts = split_html(text)
    assert len(parts) == 3
    assert all(len(check_html(p)) <= MAX_TEXT for p in parts)
    assert sum(check_html(p).count("word") for p in parts) == 2000
